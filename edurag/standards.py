"""The standards catalog: the built-in CCSS math/ELA and NGSS records and every imported framework's standards,
their hierarchy and relations; codes resolve within one framework (TEKS 6.4.B never meets CCSS 6.RP.A.3)."""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from edurag.codes import (FRAMEWORK_NAMES, CodeKey, canonical, citation_form, code_shaped, code_spans,
                          corestandards_uri_code, normal_form, notation_candidates, notation_keys, official_math_code,
                          parse_code, qualified_spans, short_code, strip_span)
from edurag.datasets import read_jsonl

if TYPE_CHECKING:  # the store imports Standard from here
    from edurag.framework_store import Framework, FrameworkStore

HS_GRADES = ["9", "10", "11", "12"]
GRADE_SPANS = {"HS": HS_GRADES, "MS": ["6", "7", "8"], "K-2": ["K", "1", "2"], "3-5": ["3", "4", "5"]}
ALL_GRADES = ["PK", "K", *[str(g) for g in range(1, 13)]]
# Frameworks built from the bundled jsonl files (standards_dir); all others are imported as data.
BUILTIN_FRAMEWORKS = ("ccss", "ngss")
IMPORTED_CACHE = 20_000  # imported standards kept in memory after a look-up (~2 KB each)


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


# Two statements of the same grades, in two frameworks (or under one code twice: NY-5.NBT.7 and NY-5.NBT.7~2), whose
# word sets overlap this much (Jaccard) are one standard: 40% of California 2010's and 22% of New York 2017's bundled
# standards have a CCSS copy at >= 0.8 (39% and 18% at >= 0.9), Texas, Florida and Virginia ~0%. Within one framework
# CCSS repeats statements under different codes on purpose (W.9-10.8 = WHST.9-10.8): those are not collapsed.
EQUIVALENT_STATEMENTS = 0.8


def statement_words(statement: str) -> frozenset[str]:
    """The lower-cased words and numbers of a statement, as the copy rule (EQUIVALENT_STATEMENTS) compares them."""
    return frozenset(re.findall(r"[a-z0-9]+", statement.lower()))


def same_statement(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two statements' words (statement_words) overlap enough to be one standard (EQUIVALENT_STATEMENTS)."""
    return bool(a) and len(a & b) >= EQUIVALENT_STATEMENTS * len(a | b)


class _TextOf(HTMLParser):
    """The text of an HTML fragment: the data between tags, character references decoded, each tag a space."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self.parts.append(" ")


def clean(text: str | list[str] | None) -> str:
    """Strip HTML tags/entities and collapse whitespace (the ATC descriptions carry both; ASN comments may be lists).

    Read with the standard library's HTML parser, not a tag regex: a literal "<" before a space is text to it, so
    "x > c or x < c to represent ... x > c" (6.EE.B.8 in the ATC data) keeps its words, which `<[^>]+>` dropped.
    Read twice: ASN escapes some markup twice (`&lt;br/&gt;` in RL.9-10.10), which the first reading turns into tags."""
    if isinstance(text, list):
        text = " ".join(text)
    text = text or ""
    for _ in range(2):
        parser = _TextOf()
        parser.feed(text)
        parser.close()
        text = "".join(parser.parts)
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


@dataclass(frozen=True)
class Resolution:
    """What a code as written resolves to: every candidate (one when unambiguous), or suggestions when none.

    query: the code as written; codes: short codes of the matching standards, clusters or domains (several when the
    form leaves a part out, e.g. RP.3 -> 6.RP.A.3, 7.RP.A.3); suggestions: nearest codes when nothing matches;
    framework: where `codes` (or `suggestions`) are when the resolver was asked to say so (`Catalog.mentions_across`),
    else None; holders: the frameworks that have the code when the text did not say which of them it means.
    """

    query: str
    codes: tuple[str, ...]
    suggestions: tuple[str, ...] = ()
    framework: str | None = None
    holders: tuple[str, ...] = ()

    @property
    def found(self) -> bool:
        """At least one standard matches."""
        return bool(self.codes)

    @property
    def ambiguous(self) -> bool:
        """Several standards match the form as written."""
        return len(self.codes) > 1

    def message(self) -> str:
        """One sentence for a reader: not found (did you mean ...), ambiguous (all candidates) or empty when unique."""
        if self.holders:
            name = FRAMEWORK_NAMES.get(self.holders[0], (self.holders[0],))[0]
            return (f"{self.query} is a code of several frameworks ({', '.join(self.holders)}): name the one you mean "
                    f"(\"{name} {self.query}\") or pick it in the framework field.")
        if not self.codes:
            hint = f" Did you mean {_or_list(self.suggestions)}?" if self.suggestions else ""
            return f"{self.query} was not found among the standards.{hint}"
        if self.ambiguous:
            return f"{self.query} is ambiguous: it can mean {_or_list(self.codes)}."
        return ""


def _or_list(codes: tuple[str, ...] | list[str]) -> str:
    return codes[0] if len(codes) == 1 else f"{', '.join(codes[:-1])} or {codes[-1]}"


class Catalog:
    """All standards by framework and code, with one resolver for every written form of a code (see edurag.codes):
    built-in CCSS/NGSS codes in every form edurag.codes parses (plus official and legacy codes), imported frameworks'
    codes by their own notation (normal_form, separators optional, jurisdiction prefix optional), always scoped to
    their framework: TEKS 6.4.B never meets CCSS 6.RP.A.3, California's 6.RP.3 never the CCSS legacy 6.RP.3.

    Built-in standards (~1,200) live in memory; imported frameworks are read on demand from the FrameworkStore's
    database (exact codes and notation keys by index, counts by subject and grade precomputed), with the last
    IMPORTED_CACHE standards looked up kept in memory, so memory and start-up do not grow with imported standards."""

    def __init__(self, standards: list[Standard], aliases: dict[str, str], store: FrameworkStore | None = None) -> None:
        self.by_code: dict[str, Standard] = {}
        self.by_framework: dict[str, dict[str, Standard]] = defaultdict(dict)
        self.store = store
        self._normal: dict[str, list[str]] = defaultdict(list)
        self._parsed: dict[str, CodeKey] = {}
        self._by_key: dict[tuple, list[tuple[CodeKey, str]]] = defaultdict(list)
        self._shares: dict[tuple[str | None, str | None, str | None], float] = {}
        self._records: dict[str, Framework] = {}
        self._seen = -1  # the store's version() when the records were read
        self._copies: dict[str, list[tuple[str, str]]] | None = None
        self.version = 0  # bumped by every refresh: caches over the catalog (crosswalk vectors) compare it
        self._read = lru_cache(maxsize=IMPORTED_CACHE)(self._read_imported)
        for s in standards:
            if s.framework not in BUILTIN_FRAMEWORKS:
                raise ValueError(f"{s.framework} is imported through the FrameworkStore, not built in")
            self.by_code[s.code] = s
            self.by_framework[s.framework][s.code] = s
        for s in self.by_code.values():
            self._add_form(s.code, s.code)
            self._add_form(s.official_code, s.code)
            key = parse_code(s.code)
            if key and key.short() == s.code:
                self._parsed[s.code] = key
                self._by_key[key.index_key].append((key, s.code))
        own = set(self._normal)
        for alias, code in aliases.items():  # legacy codes never shadow a standard's own code (ASN gives
            if normal_form(alias) not in own:  # WHST.6-8.1a the alt code WHST.6-8.1)
                self._add_form(alias, code)
        self._forms = list(self._normal)
        self.refresh()

    def _add_form(self, form: str, code: str) -> None:
        codes = self._normal[normal_form(form)]
        if code not in codes:
            codes.append(code)

    def refresh(self) -> None:
        """Re-read the imported frameworks' records and forget cached standards and shares (after an import or a
        removal; reads do it themselves when another process or thread has committed to the store)."""
        self._seen = self.store.version() if self.store else 0
        self._records = {r.id: r for r in self.store.records() if r.items} if self.store else {}
        self._read.cache_clear()
        self._shares.clear()
        self._copies = None
        self.version += 1

    @property
    def _imported(self) -> dict[str, Framework]:
        """The imported frameworks' records, re-read first when the store changed since they were read (an import
        or removal by the CLI, a worker or another API process): one `PRAGMA data_version` per access."""
        if self.store is not None and self.store.version() != self._seen:
            self.refresh()
        return self._records

    def _read_imported(self, framework: str, code: str) -> Standard | None:
        return self.store.standard(framework, code)

    def frameworks(self) -> list[str]:
        """Ids of the frameworks with at least one standard (built-in first)."""
        return [*(f for f, items in self.by_framework.items() if items), *self._imported]

    def size(self, framework: str) -> int:
        """Standards of a framework (0 when unknown)."""
        if framework in BUILTIN_FRAMEWORKS:
            return len(self.by_framework.get(framework, {}))
        return self._imported[framework].items if framework in self._imported else 0

    def get(self, code: str, framework: str | None = None) -> Standard | None:
        """Exact lookup: a built-in short code, or a code of the given framework."""
        if framework is None:
            return self.by_code.get(code)
        if framework in BUILTIN_FRAMEWORKS:
            return self.by_framework.get(framework, {}).get(code)
        return self._read(framework, code) if framework in self._imported else None

    def key(self, code: str) -> CodeKey | None:
        """The parsed parts of a catalog code (None for codes of frameworks edurag.codes does not parse)."""
        return self._parsed.get(code)

    def resolve_all(self, code: str, framework: str | None = None, grade: str | None = None) -> Resolution:
        """Every standard a written code can mean, scoped to a framework and narrowed by a grade when given.

        Accepts every form edurag.codes parses plus official (ASN), legacy (ASN alt codes) and, for imported
        frameworks, their own codes in any case and separators. Nothing matching -> `suggestions`.
        """
        return self._resolve(code, framework, grade, suggest=True)

    def _resolve(self, code: str, framework: str | None, grade: str | None, suggest: bool) -> Resolution:
        query = strip_span(code)
        if framework and framework not in BUILTIN_FRAMEWORKS:
            return self._resolve_imported(query, framework, suggest)
        key = parse_code(query)
        found: list[str] = []
        if key:
            found += [c for full, c in self._by_key.get(key.index_key, []) if key.matches(full)]
        found += [c for c in self._normal.get(normal_form(query), []) if c not in found]
        if framework:
            found = [c for c in found if self.by_code[c].framework == framework]
        if not found and key and key.family == "ngss" and key.level == "domain":  # a topic (MS-PS1): its PEs
            found = [c for c, k in self._parsed.items() if k.family == "ngss" and k.level == "standard"
                     and k.domain == key.domain and k.grade == key.grade]
        if grade and len(found) > 1:
            found = [c for c in found if grade in self.by_code[c].grades] or found
        if found or not suggest or (key is None and citation_form(query)):  # 111.26(b)(4)(B): no CCSS code is near
            return Resolution(query, tuple(found))
        return Resolution(query, (), tuple(self.suggest(query, key, framework)))

    def _resolve_imported(self, query: str, framework: str, suggest: bool) -> Resolution:
        if framework not in self._imported:
            return Resolution(query, ())
        if self.get(query, framework):
            return Resolution(query, (query,))
        keys = notation_keys(query)
        found = self.store.code_of(framework, keys) if keys else None
        if found:
            return Resolution(query, (found,))
        return Resolution(query, (), tuple(self._nearest_imported(normal_form(query), framework)) if suggest else ())

    def _nearest_imported(self, form: str, framework: str, limit: int = 3) -> list[str]:
        """The closest spellings of a framework's codes (rapidfuzz ratio >= 60, best first, the earlier code first on
        a tie), scored in C++ over the normal forms the store lists per framework (held only during the call)."""
        norms, codes = self.store.forms(framework)
        near = process.extract(form, norms, scorer=fuzz.ratio, limit=limit, score_cutoff=60)
        return [codes[index] for _form, _score, index in near]

    def suggest(self, query: str, key: CodeKey | None = None, framework: str | None = None, limit: int = 3) -> list[str]:
        """Nearest codes to an unknown one: the same standard under another grade or cluster letter, then the
        closest spellings (rapidfuzz: a C++ edit-distance ratio over ~3,500 forms in well under a millisecond,
        where difflib would take tens of milliseconds)."""
        out: list[str] = []
        if key:
            for relaxed in (CodeKey(key.family, key.level, key.domain, number=key.number, letter=key.letter),
                            CodeKey(key.family, key.level, key.domain, grade=key.grade, number=key.number)):
                out += [c for full, c in self._by_key.get(relaxed.index_key, []) if relaxed.matches(full)]
        for form, _score, _ in process.extract(normal_form(query), self._forms, scorer=fuzz.ratio, limit=limit * 4,
                                               score_cutoff=60):
            out += self._normal[form]
        unique = [c for c in dict.fromkeys(out) if not framework or self.by_code[c].framework == framework]
        return unique[:limit]

    def resolve(self, code: str, framework: str | None = None) -> Standard | None:
        """The one standard a written code means within a framework (built-in CCSS/NGSS when none is given), any
        form, case-insensitive; None when unknown or ambiguous."""
        result = self._resolve(code, framework, None, suggest=False)
        return self.get(result.codes[0], framework) if len(result.codes) == 1 else None

    def mentions(self, text: str, framework: str | None = None, grade: str | None = None) -> list[Resolution]:
        """Codes a free text names, resolved within the framework, in order of first mention (not-found ones carry
        suggestions).

        A span counts when it parses as a code with a grade (6.rp.a.3, ms-ps1-1, A-REI.3), when a grade-less form is
        written in capitals (RP.3), when it is a known code of the framework asked for, or when it is written like a
        code (`edurag.codes.code_shaped`: 9.XX.Z.99; or a citation form: 111.26(b)(4)(B)) and no framework has it:
        then it is reported as not found.
        """
        out: dict[tuple, Resolution] = {}
        if framework and framework not in BUILTIN_FRAMEWORKS:
            for span in notation_candidates(text):
                result = self._resolve_imported(strip_span(span), framework, suggest=False)
                if result.found:
                    out.setdefault(result.codes, result)
            return list(out.values())
        for span in code_spans(text):
            result = self._builtin_mention(span, framework, grade)
            if result is not None:
                out.setdefault(result.codes or (result.query.upper(),), result)
        return list(out.values())

    def mentions_across(self, text: str, grade: str | None = None, default: str | None = None) -> list[Resolution]:
        """Codes a free text names, each resolved where the text puts it, in order of first mention, with
        `Resolution.framework` set: within the framework named right before it when that one holds it ("TEKS 6.4(B)",
        "ccss 7rp2": edurag.codes.qualified_spans; in "Common Core standards MS-PS1-4" the name is the target, not the
        code's home, and a code nothing holds is reported not found there), else among the built-in frameworks as `mentions` reads them, else in the one
        imported framework that has it ("7.4.A" -> tx-teks-2012; several: not resolved, `holders` names them). A span
        written like a code (code_shaped, or a citation form such as 111.26(b)(4)(B)) that nothing holds is reported
        not found, as `mentions` does. default (a framework picked beside the question): where a span no name
        qualifies is looked for first, as `mentions` reads it within that framework; a code it does not hold is read as
        above, and one nothing holds is reported not found within a built-in default."""
        out: dict[tuple, Resolution] = {}
        for span, named in qualified_spans(text):
            query = strip_span(span)
            if named is None and default in self.frameworks():
                found = self._within(span, default, grade) or self._unqualified(span, query, grade)
                miss = (self._builtin_mention(span, default, grade) if default in BUILTIN_FRAMEWORKS
                        and (found is None or not (found.found or found.holders)) else None)
                if miss is not None:  # nothing holds it: say so within the default
                    found = Resolution(miss.query, (), miss.suggestions, framework=default)
            elif named in self.frameworks():
                result = self._resolve(query, named, grade, suggest=False)
                found = Resolution(result.query, result.codes, framework=named) if result.found else None
                if found is None:  # "Common Core standards MS-PS1-4": the name is the target, not the code's home
                    found = self._unqualified(span, query, grade)
                if found is None or not found.found:  # nothing holds it: say so within the named framework
                    miss = self._resolve(query, named, grade, suggest=True)
                    found = Resolution(miss.query, (), miss.suggestions, framework=named)
            else:
                found = self._unqualified(span, query, grade)
            if found is not None:
                out.setdefault((found.framework, found.codes or (found.query.upper(),)), found)
        return list(out.values())

    def _within(self, span: str, framework: str, grade: str | None) -> Resolution | None:
        """A span of free text found within one framework as `mentions` reads it there, with `framework` set; None
        when that framework does not hold it."""
        if framework in BUILTIN_FRAMEWORKS:
            result = self._builtin_mention(span, framework, grade)
        else:
            result = self._resolve_imported(strip_span(span), framework, suggest=False) if any(
                ch.isdigit() for ch in span) else None
        return Resolution(result.query, result.codes, framework=framework) if result and result.found else None

    def _unqualified(self, span: str, query: str, grade: str | None) -> Resolution | None:
        """A span no framework name qualifies, as `mentions_across` reads it: among the built-in frameworks, else in
        the one imported framework that has it (several: `holders`); None when the span is not taken for a code."""
        found = self._builtin_mention(span, None, grade)
        if (found is None or not found.found) and any(ch.isalpha() for ch in query):  # "3.5" names no code
            holders = [s for s in self.resolve_anywhere(query) if s.framework not in BUILTIN_FRAMEWORKS]
            holders = [s for s in holders if normal_form(s.code) == normal_form(query)] or holders  # NY-6.RP.3
            if len(holders) == 1:
                found = Resolution(query, (holders[0].code,), framework=holders[0].framework)
            elif holders:
                found = Resolution(query, (), holders=tuple(s.framework for s in holders))
        if found is not None and found.found and found.framework is None:
            found = Resolution(found.query, found.codes, framework=self.by_code[found.codes[0]].framework)
        return found

    def _builtin_mention(self, span: str, framework: str | None, grade: str | None) -> Resolution | None:
        """A span of free text resolved within a built-in framework (both when None), as `mentions` keeps it; None
        when the span is not taken for a code."""
        key = parse_code(span)
        known_form = bool(framework) and normal_form(span) in self._normal
        if key is None and not known_form and not ((code_shaped(span) or citation_form(strip_span(span)))
                                                   and not self.resolve_anywhere(span)):
            return None
        if key is not None and key.grade is None and not span.isupper():
            return None
        return self.resolve_all(span, framework, grade)

    def resolve_anywhere(self, code: str) -> list[Standard]:
        """The standards a code names in any framework (built-in first), for telling a user which framework to pick."""
        found = [s for s in [self.resolve(code)] if s]
        found += [s for f in self._imported for s in [self.resolve(code, f)] if s]
        return found

    def codes_in_text(self, text: str, framework: str | None = None, grade: str | None = None) -> list[Standard]:
        """The standards a free text names (mentions that resolve), in order of first mention."""
        found = [self.get(code, framework) for r in self.mentions(text, framework, grade) for code in r.codes]
        return list({s.code: s for s in found if s}.values())

    def indexable(self, framework: str | None = None) -> list[Standard]:
        """Standards that become retrieval chunks: built-in Standards (their sub-standards are folded into the
        parent's text) and every coded standard of an imported framework (read from disk: a list the framework's
        size)."""
        out: list[Standard] = []
        for f in [framework] if framework else self.frameworks():
            if f in BUILTIN_FRAMEWORKS:
                out += [s for s in self.by_framework.get(f, {}).values() if s.level == "Standard"]
            elif f in self._imported:
                out += self.store.standards(f)
        return out

    def share(self, framework: str | tuple[str, ...] | None = None, subject: str | None = None,
              grade: str | None = None) -> float:
        """Fraction (0..1) of the indexable standards, i.e. of the standards collection's chunks, that a framework
        (or any of a tuple of frameworks) / subject / grade filter keeps: 1.0 without a filter, 0.0 for an empty
        catalog. Built-in standards are counted in memory, imported ones from the store's counts per subject and
        grade; once per filter until refresh."""
        key = (framework, subject, grade)
        imported = self._imported  # first: a change in the store clears the shares
        if key not in self._shares:
            scope = (framework,) if isinstance(framework, str) else framework
            builtin = self.indexable_builtin()
            kept = sum(1 for s in builtin if (scope is None or s.framework in scope) and subject in (None, s.subject)
                       and (grade is None or grade in s.grades))
            kept += sum(self.store.count(f, subject, grade) for f in imported if scope is None or f in scope)
            everything = len(builtin) + sum(r.items for r in imported.values())
            self._shares[key] = kept / everything if everything else 0.0
        return self._shares[key]

    def equivalents(self, code: str) -> list[tuple[str, str]]:
        """(framework, code) of the imported frameworks' standards that are the built-in standard `code` under another
        code: same grades and the same statement by the copy rule (same_statement), or an exact-match link of the
        source data to it (CSP exactMatch to corestandards.org; a link to a sub-standard is to a part, not a copy).
        [] for imported or unknown codes. The map is built on the first call after a refresh, from every imported
        standard (read once from the store)."""
        self._imported  # noqa: B018 -- a change in the store refreshes first, which forgets the map
        if self._copies is None:
            self._copies = self._copy_map()
        return self._copies.get(code, [])

    def _copy_map(self) -> dict[str, list[tuple[str, str]]]:
        # Statements compared only with the built-in ones of the same grades whose word count could pass the copy rule
        # (Jaccard >= t needs t <= |a| / |b| <= 1 / t): 2.0 s -> 0.6 s for the 5,676 bundled state standards.
        by_grades: dict[tuple[str, ...], list[tuple[int, str, frozenset[str]]]] = defaultdict(list)
        for s in self.indexable_builtin():
            words = statement_words(s.text)
            by_grades[tuple(s.grades)].append((len(words), s.code, words))
        for group in by_grades.values():
            group.sort()
        copies: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for framework in self._imported:
            for s in self.store.standards(framework):
                words = statement_words(s.text)
                linked = {code for code in map(corestandards_uri_code, s.exact_match)
                          if code in self.by_code and self.by_code[code].level == "Standard"}
                group = by_grades.get(tuple(s.grades), [])
                low = bisect_left(group, (math.ceil(EQUIVALENT_STATEMENTS * len(words)),))
                high = bisect_right(group, (math.floor(len(words) / EQUIVALENT_STATEMENTS), "\uffff"))
                linked.update(code for _, code, builtin_words in group[low:high] if same_statement(words, builtin_words))
                for code in linked:
                    copies[code].append((framework, s.code))
        return dict(copies)

    def indexable_builtin(self) -> list[Standard]:
        """The built-in standards that are retrieval chunks (indexable of CCSS and NGSS)."""
        return [s for f in BUILTIN_FRAMEWORKS for s in self.indexable(f)]

    def standard_of(self, code: str, framework: str | None = None) -> str:
        """Roll a sub-standard up to its standard; other codes are returned unchanged."""
        node = self.resolve(code, framework)
        if node and node.level == "Sub-standard" and node.parent and node.framework in BUILTIN_FRAMEWORKS:
            return node.parent
        return node.code if node else canonical(code)

    def indexed_standard(self, code: str) -> Standard | None:
        """The retrieval-indexed Standard a code rolls up to (see standard_of), or None for other levels and unknown codes."""
        node = self.get(self.standard_of(code))
        return node if node and node.level == "Standard" else None


def load_catalog(standards_dir: Path, store: FrameworkStore | None = None) -> Catalog:
    """Build the catalog from ccss_math_atc, ccss_asn, ngss_pe and ngss_ccss_connections jsonl files, reading
    imported frameworks from `store` on demand (none without one)."""
    asn = read_jsonl(standards_dir / "ccss_asn.jsonl")
    asn_by_code = {r["code"]: r for r in asn if r["code"]}
    asn_by_id = {r["asn_id"]: r for r in asn}
    aliases: dict[str, str] = {}
    standards: list[Standard] = []

    atc = {r["id"]: r for r in read_jsonl(standards_dir / "ccss_math_atc.jsonl")}
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

    for pe in read_jsonl(standards_dir / "ngss_pe.jsonl"):
        details = " ".join(filter(None, [clean(pe.get("clarification_statement")), clean(pe.get("assessment_boundary"))]))
        standards.append(Standard(
            code=pe["id"], official_code=pe["id"], framework="ngss", subject="science", level="Standard",
            grades=expand_grades(pe["grade"]), text=clean(pe["description"]).rstrip("*"),
            domain=clean(pe.get("topic_title")), cluster=clean(pe.get("dci")), details=details,
        ))

    catalog = Catalog(standards, aliases, store)
    _link_children(catalog)
    _link_ngss(catalog, read_jsonl(standards_dir / "ngss_ccss_connections.jsonl"))
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
        if not ngss:
            continue
        for code in catalog.resolve_all(pair["ccss_code"]).codes:  # WHST.9-12.2 links WHST.9-10.2 and WHST.11-12.2
            ccss = catalog.by_code[code]
            if ccss.code not in ngss.connections:
                ngss.connections.append(ccss.code)
            if ngss.code not in ccss.connections:
                ccss.connections.append(ngss.code)
