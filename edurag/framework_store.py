"""The framework registry's records and imported frameworks on disk: one SQLite database,
$EDURAG_DATA_DIR/frameworks/frameworks.sqlite, holding each framework's registry record, standards (one JSON row per
standard, children listed), notation keys (loose spellings of its codes) and standard counts per subject and grade,
so the catalog reads a framework on demand instead of holding it in memory.

A write replaces a framework in one SQLite transaction (WAL journal): a kill -9 leaves the old version, readable
throughout. A code that appears in several sets of one framework (MP.1 in every grade) is kept once with the union
of the grades when its text is the same, and as `code~2`, `code~3` when the texts differ (both reported).

Data dirs from before the database kept one folder per framework (`framework.json`, `items.jsonl`,
`associations.jsonl`); the first open of the store builds each such framework into the database once, logs it and
removes the folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sqlite3
import threading
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Iterable, Iterator

from edurag.codes import normal_form, notation_keys
from edurag.datasets import iter_jsonl
from edurag.settings import BUNDLED_STANDARDS_DIR
from edurag.standards import ALL_GRADES, Standard

logger = logging.getLogger(__name__)
DATABASE = "frameworks.sqlite"

ITEMS = "items.jsonl"  # the folders of data dirs from before the database, read once by the migration
ASSOCIATIONS = "associations.jsonl"
RECORD = "framework.json"  # also marks a CSP framework folder among import sources (edurag.frameworks.importer)
ALL = "*"  # the grade of filter_counts rows that count a subject's standards whatever their grades
_SCHEMA = """
CREATE TABLE IF NOT EXISTS frameworks (id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS standards (framework TEXT NOT NULL, code TEXT NOT NULL, norm TEXT NOT NULL, row TEXT NOT NULL,
                                      UNIQUE (framework, code));
CREATE INDEX IF NOT EXISTS standards_in_order ON standards (framework);
CREATE TABLE IF NOT EXISTS notation_keys (framework TEXT NOT NULL, key TEXT NOT NULL, code TEXT,
                                          PRIMARY KEY (framework, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS filter_counts (framework TEXT NOT NULL, subject TEXT NOT NULL, grade TEXT NOT NULL,
                                          n INTEGER NOT NULL, PRIMARY KEY (framework, subject, grade)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS associations (framework TEXT NOT NULL, row TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS forms (framework TEXT PRIMARY KEY, norms TEXT NOT NULL, codes TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS associations_of ON associations (framework);
"""
# Two codes sharing a loose key (notation_keys) resolve by their exact spelling only: the key maps to NULL.
_ADD_KEY = ("INSERT INTO notation_keys VALUES (?, ?, ?) ON CONFLICT (framework, key) DO UPDATE SET code = "
            "CASE WHEN notation_keys.code = excluded.code THEN notation_keys.code END")
_FRAMEWORK_TABLES = ("standards", "notation_keys", "filter_counts", "associations", "forms")
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
    sets: list[dict[str, str]] = field(default_factory=list)  # source sets it was built from: {id, title}

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
    """Imported frameworks in one SQLite database under `root` (a connection per thread; WAL, so reads go on while
    an import writes). The first connection migrates the folders of a data dir from before the database."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / DATABASE
        self._local = threading.local()
        self._migrated = False
        self._migration = threading.Lock()
        self._watch: sqlite3.Connection | None = None
        self._watching = threading.Lock()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            self.root.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=600, isolation_level=None)  # transactions are explicit (BEGIN)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a kill -9 loses no committed transaction
            db.execute("PRAGMA journal_size_limit=67108864")  # the WAL shrinks to 64 MB after an import is checkpointed
            db.executescript(_SCHEMA)
            self._local.db = db
        if not self._migrated:
            with self._migration:
                if not self._migrated:
                    self._migrate(db)
                    self._migrated = True
        return db

    def version(self) -> int:
        """A number that changes whenever any other connection (another thread or process: the CLI, a worker) has
        committed to the database since the last call: SQLite's `PRAGMA data_version` on a connection kept for
        watching only (it never writes, so every commit is another connection's). Microseconds: no table is read."""
        with self._watching:
            if self._watch is None:
                self._db()  # the database and its schema exist before the watch connection opens it
                self._watch = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            return self._watch.execute("PRAGMA data_version").fetchone()[0]

    def write(self, record: Framework, standards: Iterable[Standard], associations: Iterable[Association]) -> tuple[Framework, bool, int]:
        """Store a framework, replacing its previous version in one transaction; returns (the record as stored,
        unchanged?, duplicate codes). Unchanged content (same record and content hash) leaves the database untouched."""
        db = self._db()
        first = self.root / f".{record.id}.items.pass1"
        grades: dict[str, list[str]] = {}
        texts: dict[str, str] = {}
        children: dict[str, list[str]] = defaultdict(list)
        duplicates = 0
        licences: dict[str, dict[str, str]] = {}
        try:
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
                    if s.parent:
                        children[s.parent].append(s.code)
                    if s.licence:
                        licences.setdefault(json.dumps(s.licence, sort_keys=True), s.licence)
                    out.write(json.dumps(asdict(s), ensure_ascii=False) + "\n")
        except BaseException:  # a source that fails while streaming (malformed JSON) leaves no temp file behind
            first.unlink(missing_ok=True)
            raise
        digest = hashlib.sha256()
        items = self.root / f".{record.id}.items.tmp"
        with first.open(encoding="utf-8") as lines, items.open("w", encoding="utf-8") as out:
            for line in lines:
                row = json.loads(line)
                row["grades"] = grades[row["code"]]
                text = json.dumps(row, ensure_ascii=False) + "\n"
                digest.update(text.encode("utf-8"))
                out.write(text)
        first.unlink()
        links = self.root / f".{record.id}.associations.tmp"
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
        try:
            if previous is not None and previous.as_dict() == record.as_dict():
                return previous, True, duplicates
            self._replace(db, record, items, links, children)
            return record, False, duplicates
        finally:
            items.unlink()
            links.unlink()

    def _replace(self, db: sqlite3.Connection, record: Framework, items: Path, links: Path,
                 children: dict[str, list[str]]) -> None:
        """Swap in a framework's rows (standards from an items jsonl, each parent listing its children; associations
        from a jsonl) in one transaction: until COMMIT every reader, and after a kill -9 the next one, sees the old
        version."""
        fid = record.id
        counts: Counter[tuple[str, str]] = Counter()
        codes: list[str] = []

        def rows() -> Iterator[tuple[str, str, str, str]]:
            for _, row in iter_jsonl(items):
                own = row.get("children") or []
                row["children"] = own + [c for c in children.get(row["code"], []) if c not in own]
                subject = row.get("subject") or ""
                counts[(subject, ALL)] += 1
                counts.update((subject, grade) for grade in set(row.get("grades") or []))
                codes.append(row["code"])
                yield fid, row["code"], normal_form(row["code"]), json.dumps(row, ensure_ascii=False)

        db.execute("BEGIN IMMEDIATE")
        try:
            for table in _FRAMEWORK_TABLES:
                db.execute(f"DELETE FROM {table} WHERE framework = ?", (fid,))
            db.executemany("INSERT INTO standards (framework, code, norm, row) VALUES (?, ?, ?, ?)", rows())
            db.executemany(_ADD_KEY, ((fid, key, code) for code in codes for key in notation_keys(code)))
            db.execute("INSERT INTO forms VALUES (?, ?, ?)", (fid, json.dumps([normal_form(c) for c in codes]), json.dumps(codes)))
            db.executemany("INSERT INTO filter_counts VALUES (?, ?, ?, ?)",
                           ((fid, subject, grade, n) for (subject, grade), n in counts.items()))
            if links.exists():
                db.executemany("INSERT INTO associations VALUES (?, ?)",
                               ((fid, json.dumps(row, ensure_ascii=False)) for _, row in iter_jsonl(links)))
            db.execute("INSERT OR REPLACE INTO frameworks VALUES (?, ?)", (fid, json.dumps(record.as_dict(), ensure_ascii=False)))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Build every framework folder of an older data dir (framework.json + items.jsonl) into the database, once,
        then remove the folder (a folder whose framework is already in the database is only removed); list the codes'
        normal forms of a framework stored without them."""
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir() and (p / RECORD).exists()):
            record = Framework(**json.loads((folder / RECORD).read_text(encoding="utf-8")))
            if db.execute("SELECT 1 FROM frameworks WHERE id = ?", (record.id,)).fetchone() is None:
                started = time.perf_counter()
                logger.info("framework %s: building %s from %s (%d standards, once)", record.id, self.path,
                            folder / ITEMS, record.items)
                children: dict[str, list[str]] = defaultdict(list)
                for _, row in iter_jsonl(folder / ITEMS):
                    if row.get("parent"):
                        children[row["parent"]].append(row["code"])
                self._replace(db, record, folder / ITEMS, folder / ASSOCIATIONS, children)
                logger.info("framework %s: in the database after %.1f s; removing %s", record.id,
                            time.perf_counter() - started, folder)
            shutil.rmtree(folder)
        for fid, in db.execute("SELECT id FROM frameworks WHERE id NOT IN (SELECT framework FROM forms)").fetchall():
            logger.info("framework %s: listing its codes' normal forms in %s (once)", fid, self.path)
            rows = db.execute("SELECT norm, code FROM standards INDEXED BY standards_in_order WHERE framework = ? "
                              "ORDER BY rowid", (fid,)).fetchall()
            db.execute("INSERT INTO forms VALUES (?, ?, ?)", (fid, json.dumps([n for n, _ in rows]), json.dumps([c for _, c in rows])))

    def record(self, framework: str) -> Framework | None:
        """The stored registry record, or None."""
        row = self._db().execute("SELECT record FROM frameworks WHERE id = ?", (framework,)).fetchone()
        return Framework(**json.loads(row[0])) if row else None

    def records(self) -> list[Framework]:
        """Every stored framework's record, by id."""
        return [Framework(**json.loads(row)) for row, in self._db().execute("SELECT record FROM frameworks ORDER BY id")]

    def standards(self, framework: str) -> Iterator[Standard]:
        """The framework's standards in import order, each parent listing its children, streamed from disk."""
        for row, in self._db().execute("SELECT row FROM standards INDEXED BY standards_in_order WHERE framework = ? "
                                       "ORDER BY rowid", (framework,)):
            yield _standard(row)

    def standard(self, framework: str, code: str) -> Standard | None:
        """One standard by its exact code, or None."""
        row = self._db().execute("SELECT row FROM standards WHERE framework = ? AND code = ?", (framework, code)).fetchone()
        return _standard(row[0]) if row else None

    def code_of(self, framework: str, keys: list[str]) -> str | None:
        """The code the first of `keys` (notation keys, most specific first) names alone in the framework, or None
        when no key is known or each one is shared by several codes."""
        marks = ", ".join("?" * len(keys))
        found = dict(self._db().execute(f"SELECT key, code FROM notation_keys WHERE framework = ? AND key IN ({marks})",
                                        (framework, *keys)))
        return next((found[k] for k in keys if found.get(k)), None)

    def forms(self, framework: str) -> tuple[list[str], list[str]]:
        """(normal_form(code) of every standard, its code), both in import order: two JSON lists stored with the
        framework, so scoring every spelling reads two values instead of a row per standard."""
        row = self._db().execute("SELECT norms, codes FROM forms WHERE framework = ?", (framework,)).fetchone()
        return (json.loads(row[0]), json.loads(row[1])) if row else ([], [])

    def count(self, framework: str | None = None, subject: str | None = None, grade: str | None = None) -> int:
        """Standards of one imported framework (all when None) of a subject and grade (any when None)."""
        sql, args = "SELECT COALESCE(SUM(n), 0) FROM filter_counts WHERE grade = ?", [grade or ALL]
        if framework is not None:
            sql, args = sql + " AND framework = ?", [*args, framework]
        if subject is not None:
            sql, args = sql + " AND subject = ?", [*args, subject]
        return self._db().execute(sql, args).fetchone()[0]

    def associations(self, framework: str) -> Iterator[Association]:
        """The framework's associations as imported (known=False: the other end is not in the framework)."""
        for row, in self._db().execute("SELECT row FROM associations WHERE framework = ? ORDER BY rowid", (framework,)):
            yield Association(**json.loads(row))

    def remove(self, framework: str) -> bool:
        """Delete a stored framework in one transaction; False if there was none."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            for table in _FRAMEWORK_TABLES:
                db.execute(f"DELETE FROM {table} WHERE framework = ?", (framework,))
            removed = db.execute("DELETE FROM frameworks WHERE id = ?", (framework,)).rowcount > 0
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return removed


def _standard(row: str) -> Standard:
    return Standard(**{k: v for k, v in json.loads(row).items() if k in _STANDARD_FIELDS})


def builtin_records(standards_dir: Path) -> list[Framework]:
    """The registry records of the built-in frameworks (CCSS, NGSS), from frameworks.json beside their jsonl files."""
    path = standards_dir / "frameworks.json"
    if not path.exists():
        path = BUNDLED_STANDARDS_DIR / "frameworks.json"
    return [Framework(**row) for row in json.loads(path.read_text(encoding="utf-8"))]
