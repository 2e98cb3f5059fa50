"""Ingestion operations shared by the CLI, the HTTP API and jobs."""

from __future__ import annotations

from ingestion.indexer import IndexReport, delete_where, sync
from ingestion.standards_docs import standard_documents
from ingestion.transcripts import Transcript, transcript_documents
from edurag.settings import STANDARDS_COLLECTION, TRANSCRIPTS_COLLECTION
from edurag.components import Components, embedder_for
from vectorstore.aliases import current_target


def ingest_standards(c: Components, progress: bool = False) -> IndexReport:
    """Sync the live standards collection (the alias target) with the catalog; removed standards are deleted."""
    docs = standard_documents(c.catalog)
    target = current_target(c.client, STANDARDS_COLLECTION)
    report = sync(docs, target.name, client=c.client, embedder=embedder_for(c, target.embedding_model), settings=c.settings,
                  cleanup="full", total=len(docs), progress=progress)
    c.aliases.invalidate()
    return report


def ingest_transcripts(c: Components, transcripts: list[Transcript], progress: bool = False) -> tuple[IndexReport, dict[str, int]]:
    """Chunk and sync transcripts; a re-ingested transcript replaces its old chunks. Returns chunks per source file."""
    s = c.settings
    docs = transcript_documents(transcripts, c.embedder.count_tokens, s.transcript_chunk_tokens, s.transcript_chunk_overlap)
    per_file: dict[str, int] = {}
    for doc in docs:
        per_file[doc.metadata["source_file"]] = per_file.get(doc.metadata["source_file"], 0) + 1
    report = sync(docs, TRANSCRIPTS_COLLECTION, client=c.client, embedder=c.embedder, settings=s,
                  cleanup="incremental", total=len(docs), progress=progress)
    return report, per_file


def remove_transcripts(c: Components, source_file: str) -> int:
    """Delete every chunk that came from one transcript file; returns how many were removed."""
    return delete_where({"source_file": source_file}, TRANSCRIPTS_COLLECTION, client=c.client, settings=c.settings)
