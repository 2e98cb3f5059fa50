"""Standards ingestion shared by the CLI, the HTTP API and jobs, and the collection sizes /health reports
(transcripts: ingestion/transcript_store.py)."""

from __future__ import annotations

from edurag.components import Components, embedder_for
from edurag.settings import STANDARDS_COLLECTION, TRANSCRIPTS_COLLECTION
from ingestion.indexer import IndexReport, sync
from ingestion.standards_docs import standard_documents
from vectorstore.aliases import current_collection, current_target
from vectorstore.chroma import get_collection


def ingest_standards(c: Components, progress: bool = False) -> IndexReport:
    """Sync the live standards collection (the alias target) with the catalog; removed standards are deleted."""
    docs = standard_documents(c.catalog)
    target = current_target(c.client, STANDARDS_COLLECTION)
    report = sync(docs, target.name, client=c.client, embedder=embedder_for(c, target.embedding_model), settings=c.settings,
                  cleanup="full", total=len(docs), progress=progress)
    c.aliases.invalidate()
    return report


def collection_sizes(c: Components) -> dict[str, int]:
    """Chunks in the live standards and transcripts collections (what /health reports)."""
    return {name: get_collection(c.client, current_collection(c.client, name)).count()
            for name in (STANDARDS_COLLECTION, TRANSCRIPTS_COLLECTION)}
