"""The standards catalog: the built-in CCSS math/ELA and NGSS records and every imported framework's standards,
their hierarchy and relations; codes resolve within one framework (TEKS 6.4.B never meets CCSS 6.RP.A.3)."""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from edurag.codes import canonical, codes_in_text, notation_candidates, notation_keys, official_math_code, short_code

HS_GRADES = ["9", "10", "11", "12"]
GRADE_SPANS = {"HS": HS_GRADES, "MS": ["6", "7", "8"], "K-2": ["K", "1", "2"], "3-5": ["3", "4", "5"]}
ALL_GRADES = ["PK", "K", *[str(g) for g in range(1, 13)]]
# Frameworks built from the bundled jsonl files (standards_dir); all others are imported as data.
BUILTIN_FRAMEWORKS = ("ccss", "ngss")


@dataclass
class Standard:
    """One node of a standards framework, with its place in the hierarchy and its relations."""

    code: str
    official_code: str
    framework: str
    subject: str
    level: str
    grades: list[str]
    text: str
    parent: str | None = None
    children: list[str] = field(default_factory=list)
    domain: str = ""
    cluster: str = ""
    details: str = ""
    progress_to: list[str] = field(default_factory=list)
    progress_from: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    connections: list[str] = field(default_factory=list)
    exact_match: list[str] = field(default_factory=list)
    licence: dict[str, str] | None = None
    node_id: str = ""

    @property
    def grade_label(self) -> str:
        """Human wording of the grade band: Kindergarten, Grade 6, Grades 9-12."""
        if len(self.grades) == 1:
            return {"K": "Kindergarten", "PK": "Pre-K"}.get(self.grades[0], f"Grade {self.grades[0]}")
        if self.grades == HS_GRADES:
            return "High School (grades 9-12)"
        return f"Grades {self.grades[0]}-{self.grades[-1]}" if self.grades else ""

    def document(self, catalog: Catalog) -> str:
        """The text embedded for retrieval: code, hierarchy, statement, sub-standards and examples."""
        head = f"{self.code} ({self.grade_label}; {self.domain}"
        head += f" — {self.cluster})" if self.cluster else ")"
        parts = [head, self.text]
        if self.framework in BUILTIN_FRAMEWORKS:  # imported frameworks index their sub-items as standards of their own
            parts += [catalog.get(c).text for c in self.children if catalog.get(c)]
        if self.details:
            parts.append(self.details)
        return "\n".join(p for p in parts if p)


def clean(text: str | list[str] | None) -> str:
    """Strip HTML tags/entities and collapse whitespace (the ATC descriptions carry both; ASN comments may be lists)."""
    if isinstance(text, list):
        text = " ".join(text)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text or ""))
    return re.sub(r"\s+", " ", text).strip()


def grade_name(raw: str) -> str:
    """One grade as the catalog spells it: 01 -> 1, 09 -> 9, k -> K, Pre-K / PreK / PK -> PK; others unchanged."""
    value = raw.strip().upper().replace("-", "").replace(" ", "")
    if value in ("PREK", "PK", "PREKINDERGARTEN"):
        return "PK"
    if value in ("K", "KG", "KINDERGARTEN"):
        return "K"
    return str(int(value)) if value.isdigit() else raw.strip()


def expand_grades(value: object) -> list[str]:
    """Grades named by a grade, a band (HS, MS, K-2, 3-5) or a list of them, in school order."""
    raw = value if isinstance(value, list) else [value] if value else []
    out: list[str] = []
    for grade in raw:
        out += GRADE_SPANS.get(str(grade), [str(grade)])
    return sorted(set(out), key=ALL_GRADES.index) if all(g in ALL_GRADES for g in out) else out


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


class Catalog:
    """All standards by framework and code: built-in CCSS/NGSS by short code (plus official and legacy codes),
    imported frameworks by their own notation (case, spaces and separators ignored)."""

    def __init__(self, standards: list[Standard], aliases: dict[str, str]) -> None:
        self.by_code: dict[str, Standard] = {}
        self.by_framework: dict[str, dict[str, Standard]] = defaultdict(dict)
        self._aliases = {k.upper(): v for k, v in aliases.items()}
        self._keys: dict[str, dict[str, str | None]] = defaultdict(dict)
        self.add(standards)

    def add(self, standards: list[Standard]) -> None:
        """Add (or replace) standards; an imported framework is added whole, after remove_framework."""
        for s in standards:
            self.by_framework[s.framework][s.code] = s
            if s.framework in BUILTIN_FRAMEWORKS:
                self.by_code[s.code] = s
                self._aliases.setdefault(s.code.upper(), s.code)
                self._aliases.setdefault(s.official_code.upper(), s.code)
                continue
            keys = self._keys[s.framework]
            for key in notation_keys(s.code):
                # Two codes sharing a loose key resolve by their exact spelling only, never to the wrong one.
                keys[key] = s.code if keys.get(key, s.code) == s.code else None

    def remove_framework(self, framework: str) -> None:
        """Forget an imported framework (before re-adding its new version)."""
        self.by_framework.pop(framework, None)
        self._keys.pop(framework, None)

    def frameworks(self) -> list[str]:
        """Ids of the frameworks with at least one standard."""
        return [f for f, items in self.by_framework.items() if items]

    def get(self, code: str, framework: str | None = None) -> Standard | None:
        """Exact lookup: a built-in short code, or a code of the given framework."""
        if framework is None:
            return self.by_code.get(code)
        return self.by_framework.get(framework, {}).get(code)

    def resolve(self, code: str, framework: str | None = None) -> Standard | None:
        """Find a standard by code within one framework; without a framework, among the built-in CCSS/NGSS codes
        (short, official ASN or legacy, case-insensitively)."""
        if framework is None or framework in BUILTIN_FRAMEWORKS:
            for candidate in (code.strip(), canonical(code)):
                short = self._aliases.get(candidate.upper())
                if short and (framework is None or self.by_code[short].framework == framework):
                    return self.by_code[short]
            return None
        items = self.by_framework.get(framework, {})
        if code.strip() in items:
            return items[code.strip()]
        keys = self._keys.get(framework, {})
        for key in notation_keys(code):
            if keys.get(key):
                return items[keys[key]]
        return None

    def resolve_anywhere(self, code: str) -> list[Standard]:
        """The standards a code names in any framework (built-in first), for telling a user which framework to pick."""
        found = [s for s in [self.resolve(code)] if s]
        found += [s for f in self.by_framework if f not in BUILTIN_FRAMEWORKS for s in [self.resolve(code, f)] if s]
        return found

    def codes_in_text(self, text: str, framework: str | None = None) -> list[Standard]:
        """Standards named in free text, in order of mention: CCSS/NGSS code forms, or a given framework's codes."""
        if framework is None or framework in BUILTIN_FRAMEWORKS:
            found = [self.resolve(code, framework) for code in codes_in_text(text)]
        else:
            found = [self.resolve(token, framework) for token in notation_candidates(text)]
        return list({s.code: s for s in found if s}.values())

    def indexable(self, framework: str | None = None) -> list[Standard]:
        """Standards that become retrieval chunks: built-in Standards (their sub-standards are folded into the
        parent's text) and every coded standard of an imported framework."""
        frameworks = [framework] if framework else list(self.by_framework)
        return [s for f in frameworks for s in self.by_framework.get(f, {}).values()
                if f not in BUILTIN_FRAMEWORKS or s.level == "Standard"]

    def standard_of(self, code: str, framework: str | None = None) -> str:
        """Roll a sub-standard up to its standard; other codes are returned unchanged."""
        node = self.resolve(code, framework)
        if node and node.level == "Sub-standard" and node.parent and node.framework in BUILTIN_FRAMEWORKS:
            return node.parent
        return node.code if node else canonical(code)


def load_catalog(standards_dir: Path, imported: list[Standard] | None = None) -> Catalog:
    """Build the catalog from ccss_math_atc, ccss_asn, ngss_pe and ngss_ccss_connections jsonl files, plus the
    standards of imported frameworks (frameworks.store.load_standards)."""
    asn = _read_jsonl(standards_dir / "ccss_asn.jsonl")
    asn_by_code = {r["code"]: r for r in asn if r["code"]}
    asn_by_id = {r["asn_id"]: r for r in asn}
    aliases: dict[str, str] = {}
    standards: list[Standard] = []

    atc = {r["id"]: r for r in _read_jsonl(standards_dir / "ccss_math_atc.jsonl")}
    for node in atc.values():
        if node["level"] in ("Grade", "HS Category"):
            continue
        official = official_math_code(node["id"])
        asn_row = asn_by_code.get(official, {})
        ancestors = _atc_ancestors(node, atc)
        conn = node["connections"] or {}
        grade = node["id"].split(".")[0]
        standards.append(Standard(
            code=node["id"], official_code=official, framework="ccss", subject="math",
            level=node["level"], text=clean(node["description"]),
            grades=expand_grades(asn_row.get("grades") or (grade if grade in ALL_GRADES else "HS")),
            parent=node["parent"] if node["parent"] in atc and atc[node["parent"]]["level"] not in ("Grade", "HS Category") else None,
            children=sorted(node["children"]),
            domain=clean(ancestors.get("Domain", "")), cluster=clean(ancestors.get("Cluster", "")),
            details=clean(asn_row.get("comment")),
            progress_to=conn.get("progress to", []), progress_from=conn.get("progress from", []),
            related=conn.get("related", []),
        ))
        if asn_row.get("alt_code"):
            aliases[asn_row["alt_code"]] = node["id"]

    for row in asn:
        code = row["code"]
        if not code or row["label"] not in ("Standard", "Component"):
            continue
        if row["subject"] == "math" and not code.startswith("CCSS.Math.Practice."):
            continue
        headings = _asn_headings(row, asn_by_id)
        parent = asn_by_id.get(row["parent_asn_id"], {})
        standards.append(Standard(
            code=short_code(code), official_code=code, framework="ccss", subject=row["subject"],
            level="Standard" if row["label"] == "Standard" else "Sub-standard",
            grades=expand_grades(row["grades"]), text=clean(row["text"]),
            parent=short_code(parent["code"]) if parent.get("code") else None,
            domain=headings[0] if headings else "Standards for Mathematical Practice",
            cluster=headings[1] if len(headings) > 1 else "", details=clean(row["comment"]),
        ))
        if row.get("alt_code"):
            aliases[row["alt_code"]] = short_code(code)

    for pe in _read_jsonl(standards_dir / "ngss_pe.jsonl"):
        details = " ".join(filter(None, [clean(pe.get("clarification_statement")), clean(pe.get("assessment_boundary"))]))
        standards.append(Standard(
            code=pe["id"], official_code=pe["id"], framework="ngss", subject="science", level="Standard",
            grades=expand_grades(pe["grade"]), text=clean(pe["description"]).rstrip("*"),
            domain=clean(pe.get("topic_title")), cluster=clean(pe.get("dci")), details=details,
        ))

    catalog = Catalog(standards, aliases)
    catalog.add(imported or [])
    _link_children(catalog)
    _link_ngss(catalog, _read_jsonl(standards_dir / "ngss_ccss_connections.jsonl"))
    return catalog


def _atc_ancestors(node: dict, atc: dict[str, dict]) -> dict[str, str]:
    found: dict[str, str] = {}
    parent = atc.get(node.get("parent") or "")
    while parent:
        found.setdefault(parent["level"], parent["description"])
        parent = atc.get(parent.get("parent") or "")
    return found


def _asn_headings(row: dict, by_id: dict[str, dict]) -> list[str]:
    """Uncoded ancestor headings of an ASN row, outermost first (e.g. Reading: Literature, Key Ideas and Details)."""
    out: list[str] = []
    parent = by_id.get(row["parent_asn_id"])
    while parent:
        if not parent["code"]:
            out.append(clean(parent["text"]))
        parent = by_id.get(parent["parent_asn_id"])
    return out[::-1]


def _link_children(catalog: Catalog) -> None:
    children: dict[str, list[str]] = defaultdict(list)
    for s in catalog.by_code.values():
        if s.parent and s.framework == "ccss" and s.subject != "math":
            children[s.parent].append(s.code)
    for parent, kids in children.items():
        if parent in catalog.by_code:
            catalog.by_code[parent].children = sorted(kids)


def _link_ngss(catalog: Catalog, pairs: list[dict]) -> None:
    for pair in pairs:
        ngss = catalog.get(pair["ngss_pe"])
        ccss = catalog.resolve(pair["ccss_code"])
        if not ngss or not ccss:
            continue
        if ccss.code not in ngss.connections:
            ngss.connections.append(ccss.code)
        if ngss.code not in ccss.connections:
            ccss.connections.append(ngss.code)
