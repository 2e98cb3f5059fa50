"""`edurag ingest transcripts` and `edurag transcripts list|delete` as real subprocesses on an embedded Chroma, including a
kill -9 in the middle of a 300-file ingest: the resumed run and a third run leave 0 missing and 0 duplicate chunks."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edurag.chunk_ids import RECORD_KEY, SOURCE_KEY, chunk_id
from edurag.components import build_components
from edurag.settings import TRANSCRIPTS_COLLECTION, Settings
from ingestion.transcripts import read_paths, transcript_documents
from vectorstore.chroma import get_collection

CHUNK_TOKENS = 32  # small chunks: many chunks (several embedding batches) from small files, cheap to embed


def _env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "EDURAG_DATA_DIR": str(data_dir), "EDURAG_TRANSCRIPT_CHUNK_TOKENS": str(CHUNK_TOKENS),
            "EDURAG_TRANSCRIPT_CHUNK_OVERLAP": "0", "EDURAG_EMBEDDING_BACKEND": "torch"}


def _cli(data_dir: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edurag.cli", *args], env=_env(data_dir), capture_output=True, text=True,
                          timeout=900, **kwargs)


def _write_courses(root: Path, courses: int, per_course: int) -> None:
    for c in range(courses):
        for n in range(per_course):
            path = root / f"course{c:02d}" / f"lecture{n:02d}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(" ".join(f"Course {c} lecture {n} part {p}: we compare ratios and rates in a table today."
                                     for p in range(6)))


def _records(data_dir: Path) -> int:
    try:
        with sqlite3.connect(data_dir / "records.sqlite", timeout=1) as db:
            return db.execute("SELECT count(*) FROM upsertion_record").fetchone()[0]
    except sqlite3.Error:  # not created yet, or locked by the writer for a moment
        return 0


def test_cli_ingest_list_delete_with_folders(tmp_path):
    root = tmp_path / "courses"
    for course in ("biology", "chemistry"):
        (root / course).mkdir(parents=True)
        (root / course / "week1.txt").write_text(f"The {course} lecture of week one about cells and atoms.")
    (root / "biology" / "week2.srt").write_text("1\r\n00:00:01,000 --> 00:00:03,000\r\nOsmosis moves water.\r\n")
    data = tmp_path / "data"
    out = _cli(data, "ingest", "transcripts", str(root), "--root", str(root))
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert {s["id"]: s["chunks"] for s in report["sources"]} == {"biology/week1.txt": 1, "biology/week2.srt": 1,
                                                                  "chemistry/week1.txt": 1}
    listed = [json.loads(line) for line in _cli(data, "transcripts", "list").stdout.splitlines()]
    assert [s["id"] for s in listed] == ["biology/week1.txt", "biology/week2.srt", "chemistry/week1.txt"]
    deleted = _cli(data, "transcripts", "delete", "chemistry/week1.txt", "nope/week9.txt")
    assert deleted.returncode == 1 and "deleted 1 chunks" in deleted.stderr and "nope/week9.txt: no stored" in deleted.stderr
    assert [json.loads(x)["id"] for x in _cli(data, "transcripts", "list").stdout.splitlines()] == ["biology/week1.txt",
                                                                                                  "biology/week2.srt"]
    outside = _cli(data, "ingest", "transcripts", str(root / "biology"), "--root", str(root / "chemistry"))
    assert outside.returncode == 2 and "not under" in outside.stderr

    (root / "biology" / "week2.srt").rename(root / "biology" / "week2-osmosis.srt")  # renamed: the old id is stale
    _cli(data, "ingest", "transcripts", str(root / "chemistry"), "--root", str(root))
    synced = _cli(data, "ingest", "transcripts", str(root / "biology"), "--root", str(root), "--prune")
    assert json.loads(synced.stdout)["pruned"] == ["biology/week2.srt"]  # chemistry/ is outside the synced folder
    assert [json.loads(x)["id"] for x in _cli(data, "transcripts", "list").stdout.splitlines()] == [
        "biology/week1.txt", "biology/week2-osmosis.srt", "chemistry/week1.txt"]


def test_prune_report_counts_match_the_store(tmp_path, embedder):
    """newuser9 item 9: `--prune` printed deleted 0 and the total before the prune. The report's counts are the store's:
    deleted = chunks of the changed file's old version + chunks of the pruned sources, total = chunks stored after."""
    root = tmp_path / "courses"
    (root / "bio").mkdir(parents=True)
    for name, topic, parts in (("a.txt", "osmosis", 3), ("b.txt", "mitosis", 4), ("c.txt", "enzymes", 2)):
        (root / "bio" / name).write_text(" ".join(f"Part {p} of the {topic} lecture: cells, water and membranes."
                                                  for p in range(parts * 4)))
    data = tmp_path / "data"
    first = _cli(data, "ingest", "transcripts", str(root), "--root", str(root), "--prune")
    assert first.returncode == 0, first.stderr
    before = {s["id"]: s["chunks"] for s in map(json.loads, _cli(data, "transcripts", "list").stdout.splitlines())}
    assert json.loads(first.stdout)["total"] == sum(before.values()) and min(before.values()) > 1

    (root / "bio" / "b.txt").unlink()  # removed: pruned
    (root / "bio" / "c.txt").write_text(" ".join(f"Revised part {p}: enzymes lower activation energy." for p in range(8)))
    synced = _cli(data, "ingest", "transcripts", str(root / "bio"), "--root", str(root), "--prune")
    assert synced.returncode == 0, synced.stderr
    report = json.loads(synced.stdout)
    after = {s["id"]: s["chunks"] for s in map(json.loads, _cli(data, "transcripts", "list").stdout.splitlines())}
    settings = Settings(data_dir=data)
    stored = get_collection(build_components(settings.model_copy(update={"generator": "extractive"}), embedder=embedder).client,
                            TRANSCRIPTS_COLLECTION).count()
    assert report["pruned"] == ["bio/b.txt"] and set(after) == {"bio/a.txt", "bio/c.txt"}
    assert report["skipped"] == before["bio/a.txt"]
    assert report["added"] == after["bio/c.txt"]
    assert report["deleted"] == before["bio/b.txt"] + before["bio/c.txt"]
    assert report["total"] == sum(after.values()) == stored == sum(before.values()) - report["deleted"] + report["added"]


def test_cli_refuses_to_write_a_data_dir_a_running_api_serves(tmp_path, embedder):
    """newuser9 item 4: a CLI ingest beside a running API (embedded Chroma) left the API's search stale until a restart,
    with no warning. The API holds the data dir while it serves: writing commands exit 3 naming the way out, read-only
    ones still work; once the API stops, the same command runs and a new API finds the chunks."""
    import httpx

    from service.app import create_app
    from tests.utils.servers import serve_app

    root = tmp_path / "courses"
    (root / "bio").mkdir(parents=True)
    (root / "bio" / "week2.txt").write_text("Malthus argued that population grows faster than the food supply.")
    data = tmp_path / "data"
    settings = Settings(data_dir=data, generator="extractive", admin_key="k", transcript_chunk_tokens=CHUNK_TOKENS,
                        transcript_chunk_overlap=0)
    with serve_app(create_app(components=build_components(settings, embedder=embedder))):
        refused = _cli(data, "ingest", "transcripts", str(root), "--root", str(root))
        assert refused.returncode == 3, refused.stderr
        message = " ".join(refused.stderr.split())
        assert "running edurag API" in message and "POST /ingest/transcripts" in message and "EDURAG_CHROMA_URL" in message
        assert _cli(data, "transcripts", "delete", "bio/week2.txt").returncode == 3
        listed = _cli(data, "transcripts", "list")
        assert listed.returncode == 0 and listed.stdout == ""
    assert _cli(data, "ingest", "transcripts", str(root), "--root", str(root)).returncode == 0
    assert [json.loads(x)["id"] for x in _cli(data, "transcripts", "list").stdout.splitlines()] == ["bio/week2.txt"]


@pytest.mark.slow
def test_kill_9_mid_ingest_then_resume_and_third_run(tmp_path, embedder, capsys):
    """Issue #17 acceptance: 300 files through the CLI, kill -9 mid-run, resume, run again: 0 missing, 0 duplicates."""
    root, data = tmp_path / "courses", tmp_path / "data"
    _write_courses(root, courses=10, per_course=30)
    settings = Settings(data_dir=data, transcript_chunk_tokens=CHUNK_TOKENS, transcript_chunk_overlap=0)
    expected = {chunk_id(d) for d in transcript_documents(read_paths([root], root), embedder.count_tokens,
                                                          CHUNK_TOKENS, 0)}
    assert len(expected) > 3 * 256  # several embedding batches

    proc = subprocess.Popen([sys.executable, "-m", "edurag.cli", "ingest", "transcripts", str(root), "--root", str(root)],
                            env=_env(data), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while (written := _records(data)) < 256 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL and 0 < written < len(expected), "the kill must land mid-run"

    resumed = _cli(data, "ingest", "transcripts", str(root), "--root", str(root))
    assert resumed.returncode == 0, resumed.stderr
    third = _cli(data, "ingest", "transcripts", str(root), "--root", str(root))
    assert third.returncode == 0, third.stderr
    second_report, third_report = json.loads(resumed.stdout), json.loads(third.stdout)

    c = build_components(settings.model_copy(update={"generator": "extractive"}), embedder=embedder)
    got = get_collection(c.client, TRANSCRIPTS_COLLECTION).get(include=["metadatas"])
    keys = [(m[SOURCE_KEY], m[RECORD_KEY], m["chunk_index"]) for m in got["metadatas"]]
    missing, extra, duplicates = expected - set(got["ids"]), set(got["ids"]) - expected, len(keys) - len(set(keys))
    with capsys.disabled():
        print(f"\nkill -9 after {written} of {len(expected)} chunks recorded; resume: added {second_report['added']}, "
              f"skipped {second_report['skipped']}, deleted {second_report['deleted']}; third run: added "
              f"{third_report['added']}, skipped {third_report['skipped']}, deleted {third_report['deleted']}; "
              f"stored {len(got['ids'])}, records {_records(data)}, missing {len(missing)}, extra {len(extra)}, "
              f"duplicates {duplicates}")
    assert (len(missing), len(extra), duplicates) == (0, 0, 0)
    assert len(got["ids"]) == _records(data) == len(expected) == third_report["total"]
    assert second_report["added"] + second_report["skipped"] == len(expected) and second_report["deleted"] == 0
    assert second_report["added"] <= len(expected) - written + 256  # only the unrecorded part was embedded again
    assert (third_report["added"], third_report["deleted"], third_report["skipped"]) == (0, 0, len(expected))
    assert len(third_report["sources"]) == 300
