"""Framework ingestion: parse and store a framework (edurag.frameworks), then embed its standards into the live
standards collection. Idempotent (unchanged standards are skipped by the record manager) and resumable: after a
kill -9 the next run re-parses (seconds), skips every chunk already written and embeds only the rest."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Iterator

from langchain_core.documents import Document

from edurag.components import Components, embedder_for
from edurag.framework_store import FrameworkStore
from edurag.frameworks.importer import Source, check_duplicates, check_replacements, framework_folders, import_source, plan
from edurag.frameworks.model import ImportReport
from edurag.settings import STANDARDS_COLLECTION
from edurag.chunk_ids import chunk_id
from ingestion.indexer import record_manager, sync

from ingestion.standards_docs import standard_document
from vectorstore.aliases import current_target
from vectorstore.chroma import get_collection

logger = logging.getLogger(__name__)


def framework_store(c: Components) -> FrameworkStore:
    """The store of imported frameworks in the data dir, the one the catalog reads."""
    assert c.catalog.store is not None, "build_components gives the catalog the data dir's store"
    return c.catalog.store


def bundled_sources(c: Components) -> list[Path]:
    """The framework folders shipped with the product."""
    return framework_folders(c.settings.frameworks_dir)


def ingest_frameworks(c: Components, paths: list[Path], framework: str | None = None, progress: bool = False,
                      replace: bool = False) -> list[ImportReport]:
    """Import every framework the paths hold (CSP sets of one jurisdiction and subject merge into one) and index
    its standards. FrameworkFormatError when a file is not a valid CASE package or CSP set (that framework is not
    written); FrameworkConflict, before anything is written, when a framework is stored with sets the paths do not
    include, unless `replace`, and when, without `framework`, the paths would become a second framework beside the
    stored one their sets belong to (`check_duplicates`)."""
    sources = plan(paths, framework)
    check_duplicates(framework_store(c), sources)
    if not replace:
        check_replacements(framework_store(c), sources)
    return [ingest_source(c, source, progress) for source in sources]


def ingest_source(c: Components, source: Source, progress: bool = False) -> ImportReport:
    """Store one framework, embed what changed, delete its standards that are gone, refresh the catalog."""
    store = framework_store(c)
    report = import_source(store, source, c.catalog)
    logger.info("framework stored: %s, %d items in %.1f s (%.0f items/s)%s", report.framework, report.items,
                report.seconds, report.items / max(report.seconds, 1e-9), " (unchanged)" if report.unchanged else "")
    c.catalog.refresh()
    total = c.catalog.size(report.framework)
    expected: set[str] = set()

    def documents() -> Iterator[Document]:
        for standard in store.standards(report.framework):
            doc = standard_document(standard, c.catalog)
            expected.add(chunk_id(doc))
            yield doc

    started = time.perf_counter()
    target = current_target(c.client, STANDARDS_COLLECTION)
    present = len(get_collection(c.client, target.name).get(where={"framework": report.framework}, include=[])["ids"])
    logger.info("framework %s: %d of %d standards already indexed (unchanged ones are skipped, not re-embedded)",
                report.framework, present, total)
    index = sync(documents(), target.name, client=c.client, embedder=embedder_for(c, target.embedding_model),
                 settings=c.settings, cleanup="scoped_full", total=total, progress=progress)
    report.added, report.updated, report.skipped = index.added, index.updated, index.skipped
    report.deleted = index.deleted + _delete_stale(c, target.name, report.framework, expected)
    c.aliases.invalidate()
    report.index_seconds = round(time.perf_counter() - started, 2)
    return report


def _delete_stale(c: Components, collection: str, framework: str, expected: set[str]) -> int:
    """Remove the framework's chunks that no current standard produced (standards dropped from the source)."""
    col = get_collection(c.client, collection)
    stale = [i for i in col.get(where={"framework": framework}, include=[])["ids"] if i not in expected]
    for start in range(0, len(stale), 5000):
        col.delete(ids=stale[start:start + 5000])
    if stale:
        record_manager(c.settings, collection).delete_keys(stale)
    return len(stale)


def remove_framework(c: Components, framework: str) -> int:
    """Delete an imported framework: its stored standards, chunks and catalog entries; returns chunks removed."""
    target = current_target(c.client, STANDARDS_COLLECTION)
    removed = _delete_stale(c, target.name, framework, set())
    framework_store(c).remove(framework)
    c.catalog.refresh()
    return removed
