"""Standards ingestion shared by the CLI, the HTTP API and jobs (transcripts: ingestion/transcript_store.py)."""

from __future__ import annotations

from ingestion.indexer import IndexReport, sync
from ingestion.standards_docs import standard_documents
from edurag.settings import STANDARDS_COLLECTION
from edurag.components import Components, embedder_for
from vectorstore.aliases import current_target


def ingest_standards(c: Components, progress: bool = False) -> IndexReport:
    """Sync the live standards collection (the alias target) with the catalog; removed standards are deleted."""
    docs = standard_documents(c.catalog)
    target = current_target(c.client, STANDARDS_COLLECTION)
    report = sync(docs, target.name, client=c.client, embedder=embedder_for(c, target.embedding_model), settings=c.settings,
                  cleanup="full", total=len(docs), progress=progress)
    c.lexical.invalidate()
    c.aliases.invalidate()
    return report
