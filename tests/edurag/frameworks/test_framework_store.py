"""Imported frameworks on disk (edurag.framework_store's SQLite database, read on demand by the catalog): resolution
identical to the in-memory resolver it replaced, re-import, removal, a kill -9 during a write, migration of a data dir
from before the database. Real SQLite files, real bundled state frameworks."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

import pytest
from rapidfuzz import fuzz, process

from edurag.codes import normal_form, notation_keys
from edurag.framework_store import ASSOCIATIONS, DATABASE, ITEMS, RECORD, Framework, FrameworkStore
from edurag.frameworks.importer import import_source, plan, read
from edurag.settings import BUNDLED_FRAMEWORKS_DIR, BUNDLED_STANDARDS_DIR
from edurag.standards import Standard, load_catalog
from tests.conftest import FIXTURES

REPO = Path(__file__).resolve().parents[3]
TX_GRADE_6 = FIXTURES / "frameworks" / "tx-teks-2012-grade-06.json"
TX_GRADE_7 = FIXTURES / "frameworks" / "tx-teks-2012-grade-07.json"


class InMemoryResolver:
    """The imported-framework resolver the catalog had before the database (exact code, notation keys shared by two
    codes mapping to none, rapidfuzz over every code's normal form), kept here as the oracle."""

    def __init__(self, standards: list[Standard]) -> None:
        self.items = {s.code: s for s in standards}
        self.keys: dict[str, str | None] = {}
        for s in standards:
            for key in notation_keys(s.code):
                self.keys[key] = s.code if self.keys.get(key, s.code) == s.code else None
        self.forms = {code: normal_form(code) for code in self.items}

    def resolve_all(self, query: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        query = query.strip().strip(".,;:!?()[]{}'\"")
        if query in self.items:
            return (query,), ()
        found = next((self.keys[k] for k in notation_keys(query) if self.keys.get(k)), None)
        if found:
            return (found,), ()
        near = process.extract(normal_form(query), self.forms, scorer=fuzz.ratio, limit=3, score_cutoff=60)
        return (), tuple(code for _form, _score, code in near)


def written_forms(code: str) -> list[str]:
    """A code as teachers write it: as is, lower case, each loose key, spaces for separators, and two near misses."""
    return list(dict.fromkeys([code, code.lower(), *notation_keys(code), code.replace(".", " "), code + "Z", code[:-1]]))


@pytest.fixture(scope="module")
def state_store(tmp_path_factory):
    store = FrameworkStore(tmp_path_factory.mktemp("frameworks"))
    for source in plan(sorted(p for p in BUNDLED_FRAMEWORKS_DIR.iterdir() if p.is_dir())):
        import_source(store, source)
    return store


def test_resolution_is_identical_to_the_in_memory_resolver_on_the_bundled_state_frameworks(state_store):
    catalog = load_catalog(BUNDLED_STANDARDS_DIR, state_store)
    frameworks = [r.id for r in state_store.records()]
    assert sorted(frameworks) == ["ca-ccss-2010", "fl-best-2020", "ny-nextgen-2017", "tx-teks-2012", "va-sol-2023"]
    checked = suggested = 0
    for framework in frameworks:
        standards = list(state_store.standards(framework))
        assert len(standards) == catalog.size(framework) == state_store.record(framework).items > 100
        oracle = InMemoryResolver(standards)
        for number, s in enumerate(standards):
            forms = written_forms(s.code) if number % 4 == 0 else [s.code, s.code.lower()]  # near misses scan it all
            for form in forms:
                result = catalog.resolve_all(form, framework)
                assert (result.codes, result.suggestions) == oracle.resolve_all(form), (framework, form)
                resolved = catalog.resolve(form, framework)
                assert (resolved.code if resolved else None) == (result.codes[0] if result.codes else None)
                checked += 1
                suggested += bool(result.suggestions)
            assert catalog.get(s.code, framework) == s
    assert checked > 15_000 and suggested > 1_000, (checked, suggested)


def test_children_are_listed_as_the_in_memory_catalog_listed_them(state_store):
    for framework in ("tx-teks-2012", "ca-ccss-2010"):
        standards = list(state_store.standards(framework))
        children: dict[str, list[str]] = defaultdict(list)
        for s in standards:
            if s.parent:
                children[s.parent].append(s.code)
        assert sum(bool(s.children) for s in standards) > 10
        assert all(s.children == [c for c in children[s.code]] for s in standards)


def _framework(fid: str) -> Framework:
    return Framework(id=fid, title=fid, jurisdiction="test", subject="math", format="csp")


def _standard(fid: str, code: str, text: str, grade: str = "6", parent: str | None = None) -> Standard:
    return Standard(code=code, official_code="", framework=fid, subject="math", level="Standard", grades=[grade],
                    text=text, parent=parent)


def test_overlapping_codes_reimport_and_removal(tmp_path):
    store = FrameworkStore(tmp_path)
    catalog = load_catalog(BUNDLED_STANDARDS_DIR, store)
    store.write(_framework("a"), [_standard("a", "6.4.B", "ratios in a"), _standard("a", "6.4.C", "rates in a"),
                                  _standard("a", "MP.1", "persevere in a")], [])
    store.write(_framework("b"), [_standard("b", "6.4.B", "ratios in b", "7"), _standard("b", "6-4-D", "old in b")], [])
    catalog.refresh()
    assert catalog.frameworks()[-2:] == ["a", "b"]
    assert catalog.resolve("6.4(B)", "a").text == "ratios in a" and catalog.resolve("6.4 b", "b").text == "ratios in b"
    assert catalog.resolve("6.4.C", "b") is None and catalog.resolve("6.4.D", "a") is None
    assert catalog.resolve("6.4.D", "b").code == "6-4-D" and catalog.resolve("MP.1").framework == "ccss"
    assert [s.framework for s in catalog.resolve_anywhere("6.4.B")] == ["a", "b"]
    assert catalog.share("b", grade="7") == catalog.share("b", grade="6") > 0 and catalog.share("a", grade="7") == 0.0

    # Re-import: the new version replaces the old one whole (codes gone, keys gone, counts and cache renewed).
    assert catalog.get("6.4.C", "a") is not None
    stored, unchanged, _ = store.write(_framework("a"), [_standard("a", "6.4.B", "ratios again", "7"),
                                                         _standard("a", "6.5.A", "new in a", "7")], [])
    assert not unchanged and stored.items == 2 and stored.grades == ["7"]
    catalog.refresh()
    assert catalog.get("6.4.C", "a") is None and catalog.resolve("6.4(c)", "a") is None
    assert catalog.resolve("6.4.B", "a").text == "ratios again" and catalog.resolve("6 5 a", "a").code == "6.5.A"
    assert catalog.share("a", grade="6") == 0.0 and catalog.share("a", grade="7") > 0
    assert store.write(_framework("a"), [_standard("a", "6.4.B", "ratios again", "7"),
                                         _standard("a", "6.5.A", "new in a", "7")], [])[1], "same content: unchanged"

    # Removal forgets it everywhere; the other framework's 6.4.B stays.
    assert store.remove("a") and not store.remove("a")
    catalog.refresh()
    assert "a" not in catalog.frameworks() and catalog.size("a") == 0 and catalog.share("a") == 0.0
    assert catalog.resolve("6.4.B", "a") is None and catalog.resolve_all("6.4.B", "a").suggestions == ()
    assert catalog.resolve("6.4.B", "b").text == "ratios in b" and store.code_of("a", notation_keys("6.4.B")) is None
    assert load_catalog(BUNDLED_STANDARDS_DIR, FrameworkStore(tmp_path)).frameworks()[-1:] == ["b"], "a new process"


def test_a_loose_key_two_codes_share_resolves_to_neither(tmp_path):
    store = FrameworkStore(tmp_path)
    store.write(_framework("a"), [_standard("a", "6.4.B", "one"), _standard("a", "6-4-B", "two")], [])
    catalog = load_catalog(BUNDLED_STANDARDS_DIR, store)
    assert catalog.resolve("6.4.B", "a").text == "one" and catalog.resolve("6-4-B", "a").text == "two"
    assert catalog.resolve("64B", "a") is None and catalog.resolve_all("6 4 b", "a").codes == ()


KILLED_WRITE = """
import os, signal, sys
from pathlib import Path
from edurag.framework_store import Framework, FrameworkStore
from edurag.standards import Standard
store = FrameworkStore(Path(sys.argv[1]))
def kill_inside_the_transaction(sql):  # SIGKILL once the new rows are in and the notation keys are being written
    if sql.startswith("INSERT INTO notation_keys"):
        os.kill(os.getpid(), signal.SIGKILL)
store._db().set_trace_callback(kill_inside_the_transaction)
store.write(Framework(id="a", title="v2", jurisdiction="test", subject="math", format="csp"),
            (Standard(code=f"V2.{i}", official_code="", framework="a", subject="math", level="Standard", grades=["7"],
                      text=f"version two {i}") for i in range(25000)), [])
"""


def test_a_write_killed_with_sigkill_leaves_the_old_version(tmp_path):
    store = FrameworkStore(tmp_path)
    store.write(_framework("a"), [_standard("a", f"V1.{i}", f"version one {i}") for i in range(50)], [])
    before = store.record("a")
    done = subprocess.run([sys.executable, "-c", KILLED_WRITE, str(tmp_path)], env={**os.environ, "PYTHONPATH": str(REPO)},
                          stderr=subprocess.PIPE, text=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert (tmp_path / f"{DATABASE}-wal").stat().st_size > 1_000_000, "the killed write had written its new rows"
    reopened = FrameworkStore(tmp_path)
    assert reopened.record("a") == before
    assert [s.code for s in reopened.standards("a")] == [f"V1.{i}" for i in range(50)]
    assert reopened.standard("a", "V2.1") is None and reopened.count("a") == 50 and reopened.count("a", grade="7") == 0
    catalog = load_catalog(BUNDLED_STANDARDS_DIR, reopened)
    assert catalog.resolve("v1 7", "a").text == "version one 7"
    assert not reopened.write(_framework("a"), [_standard("a", "V3.1", "three")], [])[1]
    assert [s.code for s in reopened.standards("a")] == ["V3.1"]


def write_legacy_folder(root: Path, source) -> Framework:
    """A framework folder as data dirs held it before the database (framework.json, items.jsonl, associations.jsonl,
    content hash over their lines), written from the importer's own parse of a set."""
    record, standards, associations = read(source)
    folder = root / record.id
    folder.mkdir(parents=True)
    digest = hashlib.sha256()
    items = list(standards)
    with (folder / ITEMS).open("w", encoding="utf-8") as out:
        for s in items:
            line = json.dumps(asdict(s), ensure_ascii=False) + "\n"
            digest.update(line.encode("utf-8"))
            out.write(line)
    with (folder / ASSOCIATIONS).open("w", encoding="utf-8") as out:
        for a in associations:
            line = json.dumps(asdict(a), ensure_ascii=False) + "\n"
            digest.update(line.encode("utf-8"))
            out.write(line)
    record.items = len(items)
    record.grades = sorted({g for s in items for g in s.grades})
    record.licences = record.licences or list({json.dumps(s.licence): s.licence for s in items if s.licence}.values())
    record.content_hash = digest.hexdigest()[:16]
    (folder / RECORD).write_text(json.dumps(record.as_dict()), encoding="utf-8")
    return record


def test_a_data_dir_from_before_the_database_is_migrated_once(tmp_path, caplog):
    source = plan([TX_GRADE_6], "tx-teks-2012")[0]
    legacy = write_legacy_folder(tmp_path / "old", source)
    (tmp_path / "old" / "unfinished").mkdir()  # an import that never wrote its framework.json: ignored, as before
    with caplog.at_level(logging.INFO, logger="edurag.framework_store"):
        migrated = FrameworkStore(tmp_path / "old")
        assert migrated.record("tx-teks-2012") == legacy
    assert any("building" in r.message and "tx-teks-2012" in r.message for r in caplog.records)
    assert not (tmp_path / "old" / "tx-teks-2012").exists() and (tmp_path / "old" / "unfinished").exists()

    imported = FrameworkStore(tmp_path / "new")
    import_source(imported, source)
    assert list(migrated.standards("tx-teks-2012")) == list(imported.standards("tx-teks-2012"))
    assert list(migrated.associations("tx-teks-2012")) == list(imported.associations("tx-teks-2012"))
    for grade in (None, "6", "7"):
        assert migrated.count("tx-teks-2012", "math", grade) == imported.count("tx-teks-2012", "math", grade)
    catalog = load_catalog(BUNDLED_STANDARDS_DIR, migrated)
    assert catalog.resolve("6.4(B)", "tx-teks-2012").code == "6.4.B"
    assert import_source(migrated, source).unchanged, "re-importing the same set after the migration changes nothing"
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="edurag.framework_store"):
        assert FrameworkStore(tmp_path / "old").record("tx-teks-2012") == legacy
    assert not caplog.records, "built once"


def test_a_database_stored_without_the_codes_forms_gets_them_listed_once(tmp_path, caplog):
    import sqlite3

    store = FrameworkStore(tmp_path)
    import_source(store, plan([TX_GRADE_6], "tx-teks-2012")[0])
    expected = load_catalog(BUNDLED_STANDARDS_DIR, store).resolve_all("6.4.Z", "tx-teks-2012").suggestions
    with sqlite3.connect(tmp_path / DATABASE) as db:  # as the first release of the database stored frameworks
        db.execute("DELETE FROM forms")
    with caplog.at_level(logging.INFO, logger="edurag.framework_store"):
        reopened = load_catalog(BUNDLED_STANDARDS_DIR, FrameworkStore(tmp_path))
    assert any("normal forms" in r.message for r in caplog.records)
    assert len(expected) == 3 and reopened.resolve_all("6.4.Z", "tx-teks-2012").suggestions == expected


IMPORT_IN_ANOTHER_PROCESS = """
import sys
from pathlib import Path
from edurag.framework_store import FrameworkStore
from edurag.frameworks.importer import import_source, plan
store = FrameworkStore(Path(sys.argv[1]))
if sys.argv[2] == "remove":
    store.remove("tx-teks-2012")
else:
    import_source(store, plan([Path(p) for p in sys.argv[3:]], "tx-teks-2012")[0])
"""


def _other_process(root: Path, *args: str) -> None:
    done = subprocess.run([sys.executable, "-c", IMPORT_IN_ANOTHER_PROCESS, str(root), *args],
                          env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.PIPE, text=True)
    assert done.returncode == 0, done.stderr


def test_a_catalog_sees_what_another_process_commits_without_being_told(tmp_path):
    """A running API's catalog reads imports and removals another process (the CLI, a worker) commits to the same
    frameworks.sqlite on its next read: no refresh() call, no restart."""
    store = FrameworkStore(tmp_path)
    catalog = load_catalog(BUNDLED_STANDARDS_DIR, store)
    assert "tx-teks-2012" not in catalog.frameworks() and catalog.share("tx-teks-2012") == 0.0
    seen = store.version()
    assert store.version() == seen, "no commit, no change"

    _other_process(tmp_path, "import", str(TX_GRADE_6))
    assert store.version() != seen
    assert "tx-teks-2012" in catalog.frameworks() and catalog.size("tx-teks-2012") == 72
    assert catalog.resolve("6.4.B", "tx-teks-2012").text.startswith("apply qualitative and quantitative reasoning")
    assert catalog.get("7.4.A", "tx-teks-2012") is None and 0 < catalog.share("tx-teks-2012") < 1

    _other_process(tmp_path, "import", str(TX_GRADE_6), str(TX_GRADE_7))  # a re-import with grade 7 added
    assert catalog.size("tx-teks-2012") > 72 and catalog.get("7.4.A", "tx-teks-2012").grades == ["7"]

    _other_process(tmp_path, "remove")
    assert "tx-teks-2012" not in catalog.frameworks() and catalog.get("6.4.B", "tx-teks-2012") is None
    assert catalog.resolve("6.4.B", "tx-teks-2012") is None and catalog.share("tx-teks-2012") == 0.0


def test_a_commit_on_another_connection_of_the_same_process_is_seen_too(tmp_path):
    """Threads write through their own connections: the catalog of one sees another's import."""
    writer, reader = FrameworkStore(tmp_path), FrameworkStore(tmp_path)
    catalog = load_catalog(BUNDLED_STANDARDS_DIR, reader)
    assert catalog.frameworks() == ["ccss", "ngss"]
    version = catalog.version
    import_source(writer, plan([TX_GRADE_6], "tx-teks-2012")[0])
    assert catalog.frameworks() == ["ccss", "ngss", "tx-teks-2012"] and catalog.version == version + 1
    assert catalog.frameworks() and catalog.version == version + 1, "reads without a commit refresh nothing"
