"""The framework registry's records and imported frameworks on disk: one folder per framework under
$EDURAG_DATA_DIR/frameworks with `items.jsonl` (one standard per line), `associations.jsonl` and `framework.json` (the registry record, written last: a folder
without it is an import that did not finish and is ignored).

Writing streams standards to a temporary file and renames it into place, so a kill -9 leaves either the old or the
new version. A code that appears in several sets of one framework (MP.1 in every grade) is kept once with the union
of the grades when its text is the same, and as `code~2`, `code~3` when the texts differ (both reported).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Iterable, Iterator

from edurag.datasets import iter_jsonl
from edurag.settings import BUNDLED_STANDARDS_DIR
from edurag.standards import ALL_GRADES, Standard

ITEMS = "items.jsonl"
ASSOCIATIONS = "associations.jsonl"
RECORD = "framework.json"
_STANDARD_FIELDS = {f.name for f in fields(Standard)}


@dataclass
class Framework:
    """A standards framework: identity, scope, licence and source (the registry's record).

    `licences` lists every distinct licence of the framework's sets (a state framework may combine sets from two
    publishers); each standard also carries its own, shown wherever its text is shown."""

    id: str
    title: str
    jurisdiction: str
    subject: str
    format: str  # builtin, csp (Common Standards Project set JSON) or case (CASE CFPackage JSON)
    version: str = ""
    adopted: int | None = None
    grades: list[str] = field(default_factory=list)
    licences: list[dict[str, str]] = field(default_factory=list)
    attribution: str = ""
    source: str = ""
    source_url: str = ""
    items: int = 0
    content_hash: str = ""

    def as_dict(self) -> dict:
        """Plain dict (JSON)."""
        return asdict(self)


@dataclass
class Association:
    """A CASE CFAssociation (or a CSP exactMatch) as imported: kept even when its other end is not a known node."""

    origin: str
    type: str
    destination: str
    destination_uri: str = ""
    destination_title: str = ""
    known: bool = True


def _grade_order(grades: Iterable[str]) -> list[str]:
    return sorted(set(grades), key=lambda g: (ALL_GRADES.index(g) if g in ALL_GRADES else len(ALL_GRADES), g))


class FrameworkStore:
    """Read and write imported frameworks in one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, framework: str) -> Path:
        """The framework's folder."""
        return self.root / framework

    def write(self, record: Framework, standards: Iterable[Standard], associations: Iterable[Association]) -> tuple[Framework, bool, int]:
        """Store a framework; returns (the record as stored, unchanged?, duplicate codes). Unchanged content leaves the
        folder untouched."""
        folder = self.folder(record.id)
        folder.mkdir(parents=True, exist_ok=True)
        first = folder / f".{ITEMS}.pass1"
        grades: dict[str, list[str]] = {}
        texts: dict[str, str] = {}
        duplicates = 0
        licences: dict[str, dict[str, str]] = {}
        with first.open("w", encoding="utf-8") as out:
            for s in standards:
                if s.code in texts:
                    duplicates += 1
                    if texts[s.code] == s.text:
                        grades[s.code] = _grade_order([*grades[s.code], *s.grades])
                        continue
                    n = 2
                    while f"{s.code}~{n}" in texts:
                        n += 1
                    s.code = f"{s.code}~{n}"
                texts[s.code] = s.text
                grades[s.code] = list(s.grades)
                if s.licence:
                    licences.setdefault(json.dumps(s.licence, sort_keys=True), s.licence)
                out.write(json.dumps(asdict(s), ensure_ascii=False) + "\n")
        digest = hashlib.sha256()
        items = folder / f".{ITEMS}.tmp"
        with first.open(encoding="utf-8") as lines, items.open("w", encoding="utf-8") as out:
            for line in lines:
                row = json.loads(line)
                row["grades"] = grades[row["code"]]
                text = json.dumps(row, ensure_ascii=False) + "\n"
                digest.update(text.encode("utf-8"))
                out.write(text)
        first.unlink()
        links = folder / f".{ASSOCIATIONS}.tmp"
        with links.open("w", encoding="utf-8") as out:
            for association in associations:
                text = json.dumps(asdict(association), ensure_ascii=False) + "\n"
                digest.update(text.encode("utf-8"))
                out.write(text)
        record.items = len(texts)
        record.grades = _grade_order(g for gs in grades.values() for g in gs)
        record.licences = record.licences or list(licences.values())
        record.content_hash = digest.hexdigest()[:16]
        previous = self.record(record.id)
        if previous is not None and previous.as_dict() == record.as_dict():
            items.unlink()
            links.unlink()
            return previous, True, duplicates
        os.replace(items, folder / ITEMS)
        os.replace(links, folder / ASSOCIATIONS)
        tmp = folder / f".{RECORD}.tmp"
        tmp.write_text(json.dumps(record.as_dict(), indent=1, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, folder / RECORD)
        return record, False, duplicates

    def record(self, framework: str) -> Framework | None:
        """The stored registry record, or None."""
        path = self.folder(framework) / RECORD
        if not path.exists():
            return None
        return Framework(**json.loads(path.read_text(encoding="utf-8")))

    def records(self) -> list[Framework]:
        """Every stored framework's record, by id."""
        if not self.root.exists():
            return []
        return [r for r in (self.record(p.name) for p in sorted(self.root.iterdir()) if p.is_dir()) if r]

    def standards(self, framework: str) -> Iterator[Standard]:
        """The framework's standards, streamed from disk (children filled in by load_standards only)."""
        path = self.folder(framework) / ITEMS
        if not path.exists():
            return
        for _, row in iter_jsonl(path):
            yield Standard(**{k: v for k, v in row.items() if k in _STANDARD_FIELDS})

    def associations(self, framework: str) -> Iterator[Association]:
        """The framework's associations as imported (known=False: the other end is not in the framework)."""
        path = self.folder(framework) / ASSOCIATIONS
        if not path.exists():
            return
        for _, row in iter_jsonl(path):
            yield Association(**row)

    def load_standards(self, framework: str) -> list[Standard]:
        """The framework's standards with each parent's children listed."""
        items = list(self.standards(framework))
        by_code = {s.code: s for s in items}
        for s in items:
            parent = by_code.get(s.parent or "")
            if parent is not None and s.code not in parent.children:
                parent.children.append(s.code)
        return items

    def remove(self, framework: str) -> bool:
        """Delete a stored framework; False if there was none."""
        folder = self.folder(framework)
        if not folder.exists():
            return False
        shutil.rmtree(folder)
        return True


def load_standards(root: Path) -> list[Standard]:
    """Every stored framework's standards (for the catalog)."""
    store = FrameworkStore(root)
    return [s for record in store.records() for s in store.load_standards(record.id)]


def builtin_records(standards_dir: Path) -> list[Framework]:
    """The registry records of the built-in frameworks (CCSS, NGSS), from frameworks.json beside their jsonl files."""
    path = standards_dir / "frameworks.json"
    if not path.exists():
        path = BUNDLED_STANDARDS_DIR / "frameworks.json"
    return [Framework(**row) for row in json.loads(path.read_text(encoding="utf-8"))]
