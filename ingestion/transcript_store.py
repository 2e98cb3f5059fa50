"""The transcript store: ingest transcript sources (each replacing only its own chunks), list, delete and prune them.

Shared by the CLI, the HTTP API and jobs. A source is one file, identified by its normalized path
(ingestion/transcripts.py); its chunks carry `transcript_source_id(path)` and `source_file` = path.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from edurag.alignment.search import ChunkHit, search_chunks
from edurag.chunk_ids import COURSE_KEY, RECORD_KEY, SOURCE_FILE_KEY, SOURCE_KEY, TITLE_KEY, transcript_source_id
from edurag.components import Components
from edurag.settings import TRANSCRIPTS_COLLECTION, Settings
from ingestion.indexer import IndexReport, delete_where, iter_chunks, sync
from ingestion.transcripts import Transcript, TranscriptError, normalize_path, parse_uploads, transcript_documents
from vectorstore.chroma import get_collection

logger = logging.getLogger(__name__)
# Writes to the transcript collection within one process run one at a time (requests on the thread pool, ingest
# jobs): two uploads of one source never interleave their add and cleanup steps.
_WRITE_LOCK = threading.Lock()


@dataclass
class SourceReport:
    """One transcript source in an ingest reply: its id (normalized path), how many transcripts (records) and chunks."""

    id: str
    transcripts: int
    chunks: int


@dataclass
class SourceInfo:
    """One stored transcript source: its id, chunk and record counts, titles and courses (a .jsonl may hold several;
    sorted)."""

    id: str
    chunks: int
    transcripts: int
    titles: list[str]
    courses: list[str]


Progress = Callable[[int, "int | None"], None]  # (chunks written or skipped so far, chunks in the run)


def ingest_transcripts(c: Components, transcripts: list[Transcript], progress: bool = False,
                       on_progress: Progress | None = None,
                       running: Callable[[], bool] | None = None) -> tuple[IndexReport, list[SourceReport]]:
    """Chunk and sync transcripts. Each source given replaces its own stored chunks (records it no longer holds are
    deleted); other sources are never touched; unchanged chunks are skipped (nothing re-embedded).

    `running()` (a job's "not cancelled"), when given, is asked before each source's chunks go to the indexer; once it
    answers False no further source starts: the sources before are fully written and cleaned up (the batch being
    embedded is finished), the later ones are left as they were stored. Returns the sync report and one SourceReport
    per source written, in input order.
    """
    s = c.settings
    docs = transcript_documents(transcripts, c.embedder.count_tokens, s.transcript_chunk_tokens, s.transcript_chunk_overlap)
    sources: dict[str, SourceReport] = {}
    for t in transcripts:
        sources.setdefault(t.path, SourceReport(id=t.path, transcripts=0, chunks=0)).transcripts += 1
    for doc in docs:
        sources[doc.metadata[SOURCE_FILE_KEY]].chunks += 1
    written: list[str] = []
    with _WRITE_LOCK:
        report = sync(_until_stopped(docs, list(sources), running, written), TRANSCRIPTS_COLLECTION, client=c.client,
                      embedder=c.embedder, settings=s, cleanup="scoped_full", total=len(docs), progress=progress,
                      on_progress=on_progress)
        legacy = _drop_other_keys(c, written)  # after the sync, so a stopped run leaves the later sources whole
    report.deleted += legacy
    report.total -= legacy
    return report, [sources[path] for path in written]


def _until_stopped(docs: list[Document], paths: list[str], running: Callable[[], bool] | None,
                   written: list[str]) -> Iterator[Document]:
    """The documents, source by source in the order of `paths`, ending before a source when `running()` says stop;
    appends each source path handed over in full (even one without chunks) to `written`."""
    by_path: dict[str, list[Document]] = {path: [] for path in paths}
    for doc in docs:
        by_path[doc.metadata[SOURCE_FILE_KEY]].append(doc)
    for path, chunks in by_path.items():
        if running is not None and not running():
            return
        written.append(path)
        yield from chunks


def ingest_uploads(c: Components, parsed: list[tuple[str, list[Transcript]]],
                   on_progress: Progress | None = None, running: Callable[[], bool] | None = None) -> dict[str, Any]:
    """Ingest parsed uploads ((file name as sent, its transcripts), from `parse_uploads`); the reply of POST
    /ingest/transcripts, whether it ran in the request or as a job: each file's source id and own counts, then the
    sync counts and the collection's size. When `running()` stopped the ingest (ingest_transcripts), `files` holds the
    files written and `not_ingested` the names of the files left as they were."""
    report, sources = ingest_transcripts(c, [t for _, ts in parsed for t in ts], on_progress=on_progress, running=running)
    files = [{"file": name, **asdict(source)} for (name, _), source in zip(parsed, sources)]
    reply = {"files": files, **{k: v for k, v in report.as_dict().items() if k != "collection"}}
    if len(sources) < len(parsed):
        reply["not_ingested"] = [name for name, _ in parsed[len(sources):]]
    return reply


def spool_uploads(settings: Settings, uploads: list[tuple[str, bytes]]) -> str:
    """Write validated uploads to `$EDURAG_DATA_DIR/spool/transcripts/<id>/` for a job to ingest; returns the id.

    The folder appears complete or not at all (written under a temporary name, then renamed)."""
    spool_id = uuid.uuid4().hex
    final = _spool_root(settings) / spool_id
    partial = final.with_name(f"{spool_id}.partial")
    partial.mkdir(parents=True)
    for n, (_, data) in enumerate(uploads):
        (partial / f"{n:05d}").write_bytes(data)
    (partial / "files.json").write_text(json.dumps([name for name, _ in uploads], ensure_ascii=False))
    os.replace(partial, final)
    return spool_id


def read_spool(settings: Settings, spool_id: str) -> list[tuple[str, bytes]]:
    """The (file name as sent, bytes) uploads a job was given; raises TranscriptError when the spool is gone."""
    folder = _spool_root(settings) / spool_id
    try:
        names = json.loads((folder / "files.json").read_text())
        return [(name, (folder / f"{n:05d}").read_bytes()) for n, name in enumerate(names)]
    except FileNotFoundError as exc:
        raise TranscriptError(f"the uploaded files of this job are gone from {folder}") from exc


def drop_spool(settings: Settings, spool_id: str) -> None:
    """Remove a job's spooled uploads (once it has ended)."""
    shutil.rmtree(_spool_root(settings) / spool_id, ignore_errors=True)


def _spool_root(settings: Settings) -> Path:
    return settings.data_dir / "spool" / "transcripts"


def ingest_spool(c: Components, spool_id: str, on_progress: Progress | None = None,
                 running: Callable[[], bool] | None = None) -> dict[str, Any]:
    """Validate the spooled uploads again (the same checks as the request made) and ingest them, stopping between
    files once `running()` says so; the reply of `ingest_uploads`. Raises TranscriptError naming every problem."""
    parsed, errors = parse_uploads(read_spool(c.settings, spool_id), c.settings.max_upload_bytes)
    if errors:
        raise TranscriptError("; ".join(errors))
    return ingest_uploads(c, parsed, on_progress, running)


def _drop_other_keys(c: Components, paths: list[str]) -> int:
    """Delete chunks of these paths stored under another source key (written before identity was the path: one key
    per .jsonl record), which the scoped cleanup cannot see."""
    deleted = 0
    for start in range(0, len(paths), 500):
        batch = paths[start:start + 500]
        deleted += delete_where({"$and": [{SOURCE_FILE_KEY: {"$in": batch}},
                                          {SOURCE_KEY: {"$nin": [transcript_source_id(p) for p in batch]}}]},
                                TRANSCRIPTS_COLLECTION, client=c.client, settings=c.settings)
    if deleted:
        logger.info("removed %d chunks stored under old source keys", deleted)
    return deleted


def list_transcript_sources(c: Components) -> list[SourceInfo]:
    """Every stored transcript source, sorted by id (read from the collection page by page)."""
    found: dict[str, SourceInfo] = {}
    records: dict[str, set[str]] = {}
    for chunk in iter_chunks(c.client, TRANSCRIPTS_COLLECTION, ["metadatas"]):
        meta = chunk["metadata"] or {}
        path = str(meta.get(SOURCE_FILE_KEY, ""))
        info = found.setdefault(path, SourceInfo(id=path, chunks=0, transcripts=0, titles=[], courses=[]))
        info.chunks += 1
        records.setdefault(path, set()).add(str(meta.get(RECORD_KEY, "")))
        for key, values in ((TITLE_KEY, info.titles), (COURSE_KEY, info.courses)):
            if meta.get(key) and meta[key] not in values:
                values.append(str(meta[key]))
    for path, info in found.items():
        info.transcripts = len(records[path])
        info.courses.sort()
    return sorted(found.values(), key=lambda i: i.id)


def remove_transcript_source(c: Components, path: str) -> int:
    """Delete every chunk of one source (its id, the normalized path; NFC applied here too); returns how many."""
    with _WRITE_LOCK:
        return delete_where({SOURCE_FILE_KEY: normalize_path(path)}, TRANSCRIPTS_COLLECTION, client=c.client,
                            settings=c.settings)


def sync_transcript_folders(c: Components, transcripts: list[Transcript], prefixes: list[str],
                            progress: bool = False) -> tuple[IndexReport, list[SourceReport], list[str]]:
    """Ingest the transcripts of whole folders, then delete the stored sources under any of the folders' path
    prefixes ("" = all) that the transcripts no longer include (files renamed, moved away or removed since the last
    run). The report counts both: `deleted` = outdated chunks of ingested sources + chunks of pruned sources, `total`
    = the collection after the prune. Returns it, the ingested sources and the pruned ids."""
    report, sources = ingest_transcripts(c, transcripts, progress=progress)
    keep = {s.id for s in sources}
    stale = [s.id for s in list_transcript_sources(c)
             if s.id not in keep and any(s.id.startswith(prefix) for prefix in prefixes)]
    report.deleted += sum(remove_transcript_source(c, path) for path in stale)
    report.total = get_collection(c.client, TRANSCRIPTS_COLLECTION).count()
    return report, sources, stale


def nearest_transcript_chunks(c: Components, text: str, k: int, course: str | None = None) -> list[ChunkHit]:
    """The k transcript chunks best matching the text, optionally within one course: Chroma's dense top hits and the
    persistent BM25 index's top hits fused (score = cosine + EDURAG_LEXICAL_WEIGHT x BM25/max); reads no collection."""
    return search_chunks(c, TRANSCRIPTS_COLLECTION, text, k, {COURSE_KEY: course})
