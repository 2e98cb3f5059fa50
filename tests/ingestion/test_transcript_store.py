"""Transcript identity and idempotent re-ingest on a real Chroma (embedded and server): no source collides with another,
none goes stale, an unchanged source of any size re-embeds nothing, and a crash between Chroma and the records heals."""

from __future__ import annotations

import json
import unicodedata

import pytest

from edurag.chunk_ids import RECORD_KEY, SOURCE_KEY
from edurag.components import build_components
from edurag.settings import TRANSCRIPTS_COLLECTION, Settings
from ingestion.indexer import record_manager, sync
from ingestion.transcript_store import (ingest_transcripts, list_transcript_sources, nearest_transcript_chunks,
                                        remove_transcript_source)
from ingestion.transcripts import parse_transcripts, transcript_documents
from vectorstore.chroma import get_collection


@pytest.fixture(params=["embedded", "server"])
def make(request, tmp_path, embedder):
    """Components on a fresh data dir (embedded or a real Chroma server with an emptied transcripts collection)."""
    url = request.getfixturevalue("chroma_server") if request.param == "server" else None
    built = []

    def build(name: str = "data", **overrides):
        settings = Settings(data_dir=tmp_path / name, chroma_url=url, generator="extractive", **overrides)
        c = build_components(settings, embedder=embedder)
        if url and not built:
            try:
                c.client.delete_collection(TRANSCRIPTS_COLLECTION)
            except Exception:  # chromadb raises NotFoundError (or a transport error type) for a missing collection
                pass
        built.append(c)
        return c

    return build


def lecture(topic: str, sentences: int = 3) -> bytes:
    return " ".join(f"In this lecture on {topic} we look at example number {n} in detail." for n in range(sentences)).encode()


def ingest(c, *files: tuple[str, bytes]):
    return ingest_transcripts(c, [t for name, data in files for t in parse_transcripts(data, name)])


def chunks(c) -> dict[str, dict]:
    got = get_collection(c.client, TRANSCRIPTS_COLLECTION).get(include=["metadatas", "documents"])
    return {i: {**m, "text": d} for i, m, d in zip(got["ids"], got["metadatas"], got["documents"])}


def per_source(c) -> dict[str, int]:
    return {s.id: s.chunks for s in list_transcript_sources(c)}


def test_same_file_name_in_two_folders_are_two_sources(make):
    """Issue #17 item 1: revising chemistry/week1.txt never touches biology/week1.txt."""
    c = make()
    report, sources = ingest(c, ("biology/week1.txt", lecture("cells")), ("chemistry/week1.txt", lecture("moles")))
    assert [(s.id, s.chunks) for s in sources] == [("biology/week1.txt", 1), ("chemistry/week1.txt", 1)]
    assert report.added == report.total == 2
    biology = {i for i, m in chunks(c).items() if m["source_file"] == "biology/week1.txt"}
    again, sources = ingest(c, ("chemistry/week1.txt", lecture("moles and molar mass")))
    assert (again.added, again.deleted, again.total) == (1, 1, 2)
    assert {i for i, m in chunks(c).items() if m["source_file"] == "biology/week1.txt"} == biology
    assert per_source(c) == {"biology/week1.txt": 1, "chemistry/week1.txt": 1}
    assert remove_transcript_source(c, "chemistry/week1.txt") == 1 and per_source(c) == {"biology/week1.txt": 1}
    assert remove_transcript_source(c, "chemistry/week1.txt") == 0


def test_records_removed_from_a_reingested_jsonl_are_deleted(make):
    """Issue #17 item 2: the third dialogue disappears from the store when the file comes back with two."""
    c = make()
    rows = [{"title": f"Dialogue {n}", "text": f"Teacher: what is {n} times {n}? Student: it is {n * n}."} for n in (3, 4, 5)]
    jsonl = lambda rs: "".join(json.dumps(r) + "\n" for r in rs).encode()  # noqa: E731
    ingest(c, ("talkmoves/day1.jsonl", jsonl(rows)), ("talkmoves/day2.jsonl", jsonl(rows)))
    report, sources = ingest(c, ("talkmoves/day1.jsonl", jsonl(rows[:2])))
    assert (report.added, report.skipped, report.deleted, report.total) == (0, 2, 1, 5)
    assert [(s.id, s.transcripts, s.chunks) for s in sources] == [("talkmoves/day1.jsonl", 2, 2)]
    texts = [m["text"] for m in chunks(c).values() if m["source_file"] == "talkmoves/day1.jsonl"]
    assert sorted(texts) == sorted(r["text"] for r in rows[:2])
    assert per_source(c) == {"talkmoves/day1.jsonl": 2, "talkmoves/day2.jsonl": 3}


def test_reordered_jsonl_records_with_ids_reembed_nothing(make):
    c = make()
    rows = [json.dumps({"id": f"d{n}", "text": f"Dialogue {n} about fractions."}) for n in range(4)]
    ingest(c, ("d.jsonl", "\n".join(rows).encode()))
    report, _ = ingest(c, ("d.jsonl", "\n".join(reversed(rows)).encode()))
    assert (report.added, report.deleted, report.skipped) == (0, 0, 4)
    assert {m[RECORD_KEY] for m in chunks(c).values()} == {"d0", "d1", "d2", "d3"}


def test_unchanged_sources_larger_than_a_batch_reembed_nothing(make):
    """Issue #17 item 6, with 16-chunk batches (the same code path as the default 256, at a test's cost): sources
    straddling batch edges and one several batches long; a second run adds and deletes nothing. LangChain's per-batch
    "incremental" cleanup, run on the same input in another store, shows the failure this guards against."""
    tokens = dict(transcript_chunk_tokens=32, transcript_chunk_overlap=0, index_batch_size=16)
    c = make(**tokens)
    files = [(f"unit{n}/long.txt", lecture(f"topic {n}", 22)) for n in range(3)] + [("huge.txt", lecture("ratios", 80))]
    first, sources = ingest(c, *files)
    assert sorted(s.chunks for s in sources)[0] % 16 and max(s.chunks for s in sources) > 2 * 16
    assert first.added == first.total == sum(s.chunks for s in sources)
    ids = set(chunks(c))
    second, _ = ingest(c, *files)
    assert (second.added, second.updated, second.deleted, second.skipped) == (0, 0, 0, first.total)
    assert set(chunks(c)) == ids

    other = make("incremental-data", **tokens)
    docs = transcript_documents([t for name, data in files for t in parse_transcripts(data, name)],
                                other.embedder.count_tokens, 32, 0)
    kwargs = dict(client=other.client, embedder=other.embedder, settings=other.settings, total=len(docs))
    name = "transcripts_incremental_demo"
    sync(docs, name, cleanup="incremental", **kwargs)  # type: ignore[arg-type]
    redo = sync(docs, name, cleanup="incremental", **kwargs)  # type: ignore[arg-type]
    assert redo.added > 0 and redo.added == redo.deleted  # the batch-edge churn of issue #17 item 6
    other.client.delete_collection(name)


def test_nfc_and_nfd_spellings_are_one_source(make):
    c = make()
    nfc, nfd = "Café/Leçon 1.txt", unicodedata.normalize("NFD", "Café/Leçon 1.txt")
    assert nfc != nfd
    ingest(c, (nfc, lecture("fractions")))
    report, sources = ingest(c, (nfd, lecture("fractions")))
    assert (report.added, report.skipped, report.total) == (0, 1, 1) and sources[0].id == nfc
    assert remove_transcript_source(c, nfd) == 1 and report.total - 1 == 0 == len(chunks(c))


def _count(report, c):
    return {"added": report.added, "deleted": report.deleted, "skipped": report.skipped, "after": per_source(c)}


def test_reingest_matrix(make):
    """Same / changed / removed / renamed / moved file, same name in two folders, NFC vs NFD: counts before and after.
    Uploads add or replace the sources they carry; a source not sent stays until deleted by id."""
    c = make()
    base = [("bio/week1.txt", lecture("cells", 30)), ("chem/week1.txt", lecture("moles", 30)),
            ("bio/week2.vtt", b"WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Teacher>Osmosis moves water.</v>\n")]
    first, sources = ingest(c, *base)
    start = per_source(c)
    assert start == {"bio/week1.txt": 3, "bio/week2.vtt": 1, "chem/week1.txt": 3} and first.added == 7
    rows = []

    same, _ = ingest(c, *base)
    rows.append(("same files", _count(same, c)))
    changed, _ = ingest(c, ("bio/week1.txt", lecture("cells", 30).replace(b"number 29", b"number twenty-nine")))
    rows.append(("changed file (last chunk edited)", _count(changed, c)))
    removed, _ = ingest(c, ("chem/week1.txt", lecture("moles", 30)))  # bio files not sent: they stay
    rows.append(("file not sent again", _count(removed, c)))
    renamed, _ = ingest(c, ("bio/week2-osmosis.vtt", base[2][1]))
    deleted_old = remove_transcript_source(c, "bio/week2.vtt")
    rows.append(("renamed file, then old id deleted", _count(renamed, c) | {"deleted_by_id": deleted_old}))
    moved, _ = ingest(c, ("archive/bio/week1.txt", lecture("cells", 30)))
    deleted_moved = remove_transcript_source(c, "bio/week1.txt")
    rows.append(("moved file, then old id deleted", _count(moved, c) | {"deleted_by_id": deleted_moved}))
    nfd, _ = ingest(c, (unicodedata.normalize("NFD", "chem/wéek1.txt"), lecture("moles", 30)),
                    ("chem/wéek1.txt".replace("é", "e"), lecture("moles", 30)))
    rows.append(("NFD name (new source), same text as chem/week1.txt", _count(nfd, c)))
    nfc, _ = ingest(c, ("chem/wéek1.txt", lecture("moles", 30)))
    rows.append(("same name in NFC", _count(nfc, c)))

    renamed_after = {"bio/week1.txt": 3, "bio/week2-osmosis.vtt": 1, "chem/week1.txt": 3}
    moved_after = {"archive/bio/week1.txt": 3, "bio/week2-osmosis.vtt": 1, "chem/week1.txt": 3}
    final = moved_after | {"chem/wéek1.txt": 3}
    expected = [
        ("same files", {"added": 0, "deleted": 0, "skipped": 7, "after": start}),
        ("changed file (last chunk edited)", {"added": 1, "deleted": 1, "skipped": 2, "after": start}),
        ("file not sent again", {"added": 0, "deleted": 0, "skipped": 3, "after": start}),
        ("renamed file, then old id deleted", {"added": 1, "deleted": 0, "skipped": 0, "deleted_by_id": 1,
                                               "after": renamed_after}),
        ("moved file, then old id deleted", {"added": 3, "deleted": 0, "skipped": 0, "deleted_by_id": 3,
                                             "after": moved_after}),
        ("NFD name (new source), same text as chem/week1.txt", {"added": 3, "deleted": 0, "skipped": 3, "after": final}),
        ("same name in NFC", {"added": 0, "deleted": 0, "skipped": 3, "after": final}),
    ]
    assert rows == expected
    stored = chunks(c)
    keys = [(m[SOURCE_KEY], m[RECORD_KEY], m["chunk_index"]) for m in stored.values()]
    assert len(keys) == len(set(keys)) == sum(final.values())  # no duplicate chunk anywhere


def test_crash_between_chroma_and_records_heals_precisely(make):
    """A chunk written without its record (kill -9 after the Chroma write) is adopted, and a record whose chunk is gone
    (kill -9 after a Chroma delete) is forgotten and re-added: only the difference is embedded again."""
    c = make()
    files = [(f"f{n}.txt", lecture(f"topic {n}", 30)) for n in range(4)]
    first, _ = ingest(c, *files)
    manager = record_manager(c.settings, TRANSCRIPTS_COLLECTION)
    stored = chunks(c)
    orphan = next(i for i, m in stored.items() if m["source_file"] == "f0.txt")
    manager.delete_keys([orphan])
    gone = next(i for i, m in stored.items() if m["source_file"] == "f1.txt")
    get_collection(c.client, TRANSCRIPTS_COLLECTION).delete(ids=[gone])
    report, _ = ingest(c, *files)
    assert (report.added, report.deleted, report.skipped, report.total) == (1, 0, first.total - 1, first.total)
    assert set(chunks(c)) == set(stored) and len(manager.list_keys()) == first.total
    # the adopted chunk still belongs to its source: a changed f0.txt replaces it
    changed, _ = ingest(c, ("f0.txt", lecture("something else", 1)))
    assert changed.deleted == sum(1 for m in stored.values() if m["source_file"] == "f0.txt") and changed.added == 1


def test_list_reports_every_course_of_a_source_and_a_folder_is_a_course(make):
    """newuser9 item 8: a .jsonl of three courses listed one; files in `bio/` had no course, so {"course": "bio"}
    found nothing. Every course of a source is listed; a source's first folder is its course unless a record names one."""
    c = make()
    ingest(c, ("lectures.jsonl", b'{"id": "a", "title": "Cells", "course": "Bio 101", "text": "Mitochondria make ATP."}\n'
                                 b'{"id": "b", "title": "Inferno", "course": "Dante in Translation", "text": "Virgil guides '
                                 b'Dante through hell."}\n{"id": "c", "title": "Leaves", "course": "Bio 101", "text": '
                                 b'"Leaves make sugar."}\n'),
           ("bio/ratios.srt", b"1\n00:00:01,000 --> 00:00:02,000\nRatios compare two quantities.\n"),
           ("bio/week2/dialogues.jsonl", b'{"text": "Osmosis moves water across a membrane."}\n'),
           ("welcome.txt", b"Welcome to the school year."))
    sources = {s.id: s for s in list_transcript_sources(c)}
    assert sources["lectures.jsonl"].titles == ["Cells", "Inferno", "Leaves"] and sources["lectures.jsonl"].transcripts == 3
    assert sources["lectures.jsonl"].courses == ["Bio 101", "Dante in Translation"]
    assert sources["bio/ratios.srt"].courses == sources["bio/week2/dialogues.jsonl"].courses == ["bio"]
    assert sources["welcome.txt"].courses == [] and sources["bio/ratios.srt"].chunks == 1
    in_bio = {h.metadata["source_file"] for h in nearest_transcript_chunks(c, "osmosis ratios membranes", 10, "bio")}
    assert in_bio == {"bio/ratios.srt", "bio/week2/dialogues.jsonl"}
    dante = nearest_transcript_chunks(c, "who guides Dante", 10, "Dante in Translation")
    assert [h.metadata["title"] for h in dante] == ["Inferno"]


def test_chunks_stored_under_the_old_per_record_keys_are_replaced(make):
    """Before identity was the path, each .jsonl record was its own source (`transcript:d.jsonl#1`): re-ingesting the
    file removes those chunks, and deleting by id removes any chunk of the path."""
    from langchain_core.documents import Document

    c = make()
    old = [Document(page_content=f"Old dialogue {n}.", metadata={SOURCE_KEY: f"transcript:d.jsonl#{n}", "chunk_index": 0,
                                                                 "title": f"d #{n}", "course": "", "source_file": "d.jsonl"})
           for n in (1, 2, 3)]
    sync(old, TRANSCRIPTS_COLLECTION, client=c.client, embedder=c.embedder, settings=c.settings, cleanup="scoped_full")
    report, _ = ingest(c, ("d.jsonl", b'{"text": "New dialogue one."}\n{"text": "New dialogue two."}\n'))
    assert (report.added, report.deleted, report.total) == (2, 3, 2)
    assert sorted(m["text"] for m in chunks(c).values()) == ["New dialogue one.", "New dialogue two."]
    sync(old[:1], TRANSCRIPTS_COLLECTION, client=c.client, embedder=c.embedder, settings=c.settings, cleanup="scoped_full")
    assert remove_transcript_source(c, "d.jsonl") == 3 and not chunks(c)
