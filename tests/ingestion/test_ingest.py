"""Idempotent ingestion into a real Chroma (embedded and server): counts, stable ids, updates and deletions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from edurag.chunk_ids import chunk_id
from edurag.components import build_components
from edurag.settings import STANDARDS_COLLECTION, TRANSCRIPTS_COLLECTION, Settings
from ingestion.service import ingest_standards
from ingestion.transcript_store import ingest_transcripts, remove_transcript_source
from ingestion.standards_docs import standard_documents
from ingestion.transcripts import TranscriptError, parse_transcripts
from vectorstore.chroma import get_collection


@pytest.fixture(params=["embedded", "server"])
def make(request, tmp_path, embedder, standards_subset_dir):
    """Build components on a fresh data dir, embedded or against a real Chroma server (unique collection names)."""
    url = request.getfixturevalue("chroma_server") if request.param == "server" else None
    standards = tmp_path / "standards"
    shutil.copytree(standards_subset_dir, standards)

    wiped: list[bool] = []

    def build(data_dir: Path = tmp_path / "data"):
        settings = Settings(data_dir=data_dir, standards_dir=standards, chroma_url=url, generator="extractive")
        c = build_components(settings, embedder=embedder)
        if url and not wiped:  # the shared server outlives the test: start it from empty collections
            wiped.append(True)
            for name in (STANDARDS_COLLECTION, TRANSCRIPTS_COLLECTION):
                try:
                    c.client.delete_collection(name)
                except Exception:  # chromadb raises NotFoundError (or a transport error type) for a missing collection
                    pass
        return c

    build.standards = standards
    return build


def _ids(c, name=STANDARDS_COLLECTION) -> set[str]:
    return set(get_collection(c.client, name).get(include=[])["ids"])


def test_ingest_twice_is_idempotent(make):
    c = make()
    first = ingest_standards(c)
    assert first.added == first.total == len(c.catalog.indexable()) > 50
    ids = _ids(c)
    second = ingest_standards(c)
    assert (second.added, second.deleted, second.skipped, second.total) == (0, 0, first.total, first.total)
    assert _ids(c) == ids


def test_ids_are_stable_across_runs_and_derived_from_source_position_hash(make, tmp_path):
    c = make()
    ingest_standards(c)
    expected = {chunk_id(d) for d in standard_documents(c.catalog)}
    assert _ids(c) == expected
    assert "standard:6.RP.A.3:0:" in next(i for i in expected if i.startswith("standard:6.RP.A.3:"))


def test_changed_standard_replaces_its_chunk_and_removed_one_is_deleted(make):
    c = make()
    ingest_standards(c)
    before = _ids(c)
    path = make.standards / "ngss_pe.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[0]["description"] += " Revised wording."
    removed = rows.pop()
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    c2 = make()  # reload the catalog from the edited files, same data dir
    report = ingest_standards(c2)
    assert report.added == 1 and report.deleted == 2 and report.total == len(before) - 1
    after = _ids(c2)
    assert not any(i.startswith(f"standard:{removed['id']}:") for i in after)
    changed = [i for i in after if i.startswith(f"standard:{rows[0]['id']}:")]
    assert len(changed) == 1 and changed[0] not in before


@pytest.mark.slow  # embeds the standards subset twice per store
def test_wiped_collection_is_rebuilt_not_skipped(make):
    c = make()
    ingest_standards(c)
    c.client.delete_collection(STANDARDS_COLLECTION)
    report = ingest_standards(c)
    assert report.added == report.total == len(c.catalog.indexable())


def test_transcripts_ingest_reingest_and_delete(make):
    c = make()
    vtt = b"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nToday we study ratios.\n\n00:00:02.000 --> 00:00:04.000\nToday we study ratios.\nA ratio compares two quantities.\n"
    jsonl = json.dumps({"title": "Photosynthesis", "course": "Bio 101", "transcript": "Plants turn light into sugar. " * 200}) + "\n"
    transcripts = parse_transcripts(vtt, "ratios.vtt") + parse_transcripts(jsonl.encode(), "bio.jsonl")
    assert transcripts[0].text == "Today we study ratios.\nA ratio compares two quantities."
    report, sources = ingest_transcripts(c, transcripts)
    per_file = {s.id: s.chunks for s in sources}
    assert per_file["ratios.vtt"] == 1 and per_file["bio.jsonl"] > 1 and report.total == sum(per_file.values())
    meta = get_collection(c.client, TRANSCRIPTS_COLLECTION).get(where={"source_file": "bio.jsonl"})["metadatas"]
    assert {m["title"] for m in meta} == {"Photosynthesis"} and {m["course"] for m in meta} == {"Bio 101"}
    assert sorted(m["chunk_index"] for m in meta) == list(range(per_file["bio.jsonl"]))
    again, _ = ingest_transcripts(c, transcripts)
    assert again.added == 0 and again.total == report.total
    changed = parse_transcripts(vtt.replace(b"ratios.", b"rates."), "ratios.vtt")
    updated, _ = ingest_transcripts(c, changed)
    assert updated.added == 1 and updated.deleted == 1 and updated.total == report.total
    assert remove_transcript_source(c, "bio.jsonl") == per_file["bio.jsonl"]
    assert get_collection(c.client, TRANSCRIPTS_COLLECTION).count() == 1


@pytest.mark.parametrize("data, name, message", [
    (b"\xff\xfe\x00bad", "a.txt", "not valid UTF-8"),
    (b"   ", "a.txt", "empty"),
    (b"hello", "a.pdf", "unsupported file type"),
    (b'{"title": "x"}\nnot json\n', "a.jsonl", "line 1: no transcript text"),
    (b'{"text": "ok"}\nnot json\n', "a.jsonl", "line 2: invalid JSON"),
    (b'{"id": "c", "text": 5}\n', "a.jsonl", "line 1: `text` must be a string, not a number"),
    (b'{"transcript": ["a", "b"]}\n', "a.jsonl", "line 1: `transcript` must be a string, not a list"),
    (b"WEBVTT\n\nthis is not a cue\n", "a.vtt", "WebVTT"),
])
def test_malformed_transcripts_are_rejected_with_the_reason(data, name, message):
    with pytest.raises(TranscriptError, match=message):
        parse_transcripts(data, name)


@pytest.mark.slow  # ingests the standards subset into two stores
def test_embedded_and_server_chroma_give_the_same_alignment(tmp_path, embedder, standards_subset_dir, chroma_server):
    """The same corpus and query ranked through an embedded store and a real Chroma server agree."""
    from edurag.alignment.align import retrieve_standards

    rankings = []
    for name, url in (("embedded", None), ("server", chroma_server)):
        settings = Settings(data_dir=tmp_path / name, standards_dir=standards_subset_dir, chroma_url=url, generator="extractive")
        c = build_components(settings, embedder=embedder)
        if url and STANDARDS_COLLECTION in {col.name for col in c.client.list_collections()}:
            c.client.delete_collection(STANDARDS_COLLECTION)
        ingest_standards(c)
        hits = retrieve_standards(c, "Students find unit rates with ratio tables and compare proportional relationships", 5)
        rankings.append([(h.code, round(h.score, 3)) for h in hits])
    assert rankings[0] == rankings[1] and rankings[0][0][0].startswith(("6.RP", "7.RP"))
