"""Idempotent sync of documents into a Chroma collection through LangChain's indexing API and a SQL record manager."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Iterator, Literal

from chromadb.api import ClientAPI
from langchain_chroma import Chroma
from langchain_classic.indexes import SQLRecordManager
from langchain_core.documents import Document
from langchain_core.indexing import index
from tqdm import tqdm

from edurag.chunk_ids import SOURCE_KEY, chunk_id
from edurag.embedder import Embedder, LangchainEmbeddings
from edurag.settings import Settings
from vectorstore.chroma import COLLECTION_CONFIG, get_collection

logger = logging.getLogger(__name__)


@dataclass
class IndexReport:
    """What one sync did, and the collection's size after it."""

    collection: str
    added: int
    updated: int
    skipped: int
    deleted: int
    total: int

    def as_dict(self) -> dict[str, int | str]:
        """Plain dict for JSON responses."""
        return asdict(self)


def record_manager(settings: Settings, collection: str) -> SQLRecordManager:
    """The record manager that remembers which chunk ids a collection holds (sqlite in the data dir by default)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    manager = SQLRecordManager(namespace=f"chroma/{collection}", db_url=settings.resolved_record_db_url)
    manager.create_schema()
    return manager


def langchain_store(client: ClientAPI, collection: str, embedder: Embedder) -> Chroma:
    """LangChain's Chroma wrapper over our client and embedder."""
    get_collection(client, collection)
    return Chroma(client=client, collection_name=collection, embedding_function=LangchainEmbeddings(embedder),
                  collection_configuration=COLLECTION_CONFIG)


def iter_chunks(client: ClientAPI, collection: str, include: list[str], page: int = 2000) -> Iterator[dict[str, Any]]:
    """Every chunk of a collection as {id, metadata?, document?}, read page by page (no whole-collection read)."""
    col = get_collection(client, collection)
    offset = 0
    while True:
        got = col.get(include=include, limit=page, offset=offset)
        for n, chunk_id_ in enumerate(got["ids"]):
            yield {"id": chunk_id_, **{field[:-1]: got[field][n] for field in include}}
        if len(got["ids"]) < page:
            return
        offset += page


def _heal(manager: SQLRecordManager, client: ClientAPI, collection: str) -> None:
    """Make the records and the collection agree again after a crash between their two writes (or a wiped side).

    A record whose chunk is gone is forgotten (the sync re-adds the chunk if its source still has it); a chunk without
    a record is adopted under its source id (skipped if unchanged, cleaned up with its source otherwise), so only the
    difference is re-embedded, never the whole collection.
    """
    keys = manager.list_keys()
    col = get_collection(client, collection)
    if col.count() == len(keys) and (not keys or len(col.get(ids=keys[:50], include=[])["ids"]) == len(keys[:50])):
        return
    stored = {c["id"]: c["metadata"] for c in iter_chunks(client, collection, ["metadatas"])}
    missing = sorted(set(keys) - stored.keys())
    orphans = sorted(stored.keys() - set(keys))
    logger.warning("records and collection %s disagree: %d records without a chunk forgotten, %d chunks without a "
                   "record adopted", collection, len(missing), len(orphans))
    for start in range(0, len(missing), 5000):
        manager.delete_keys(missing[start:start + 5000])
    for start in range(0, len(orphans), 5000):
        batch = orphans[start:start + 5000]
        manager.update(batch, group_ids=[(stored[i] or {}).get(SOURCE_KEY) for i in batch])


def sync(
    docs: Iterable[Document], collection: str, *, client: ClientAPI, embedder: Embedder, settings: Settings,
    cleanup: Literal["full", "scoped_full"], total: int | None = None, progress: bool = False,
) -> IndexReport:
    """Add new/changed chunks, skip unchanged ones, then delete the outdated chunks of every source seen in this run
    ("scoped_full": other sources are untouched) or of the whole collection ("full": sources not seen are removed).

    Cleanup runs once, after every chunk is written, so a source spanning several embedding batches is never
    deleted and re-added (LangChain's "incremental" mode cleans per batch), and a crash mid-run loses nothing:
    the next run skips what was written and deletes what is outdated.
    """
    manager = record_manager(settings, collection)
    _heal(manager, client, collection)
    store = langchain_store(client, collection, embedder)
    source = tqdm(docs, total=total, desc=f"indexing {collection}", unit="chunk", disable=not progress)
    result = index(source, manager, store, cleanup=cleanup, source_id_key=SOURCE_KEY, key_encoder=chunk_id,
                   batch_size=settings.index_batch_size)
    return IndexReport(
        collection=collection, added=result["num_added"], updated=result["num_updated"], skipped=result["num_skipped"],
        deleted=result["num_deleted"], total=get_collection(client, collection).count(),
    )


def delete_where(where: dict, collection: str, *, client: ClientAPI, settings: Settings) -> int:
    """Remove the chunks matching a metadata filter from the collection and the records; returns how many."""
    col = get_collection(client, collection)
    ids = col.get(where=where, include=[])["ids"]
    if ids:
        col.delete(ids=ids)
        record_manager(settings, collection).delete_keys(ids)
    return len(ids)
