"""Idempotent sync of documents into a Chroma collection through LangChain's indexing API and a SQL record manager."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable, Iterator, Literal

from chromadb.api import ClientAPI
from langchain_chroma import Chroma
from langchain_classic.indexes import SQLRecordManager
from langchain_core.documents import Document
from langchain_core.indexing import index
from tqdm import tqdm

from edurag.chunk_ids import SOURCE_KEY, chunk_id
from edurag.embedder import Embedder, LangchainEmbeddings
from edurag.settings import Settings
from vectorstore.chroma import COLLECTION_CONFIG, get_collection, iter_pages
from vectorstore.lexical import LexicalIndex, lexical_store

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


class IndexedChroma(Chroma):
    """LangChain's Chroma store that writes every added or deleted chunk to the collection's BM25 index too.

    The indexing API calls `add_texts` and `delete` only, so the lexical index follows Chroma chunk for chunk; Chroma
    is written first, and `heal_lexical` repairs the lexical side after a crash between the two writes.
    """

    def __init__(self, *args: Any, lexical: LexicalIndex, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lexical = lexical

    def add_texts(self, texts: Iterable[str], metadatas: list[dict] | None = None, ids: list[str] | None = None,
                  **kwargs: Any) -> list[str]:
        texts = list(texts)
        added = super().add_texts(texts, metadatas, ids, **kwargs)
        self._lexical.upsert(added, texts, metadatas or [{}] * len(texts))
        return added

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> None:
        super().delete(ids, **kwargs)
        self._lexical.delete(ids or [])


def langchain_store(client: ClientAPI, collection: str, embedder: Embedder, settings: Settings) -> Chroma:
    """LangChain's Chroma wrapper over our client and embedder, keeping the collection's BM25 index in step."""
    get_collection(client, collection)
    return IndexedChroma(client=client, collection_name=collection, embedding_function=LangchainEmbeddings(embedder),
                         collection_configuration=COLLECTION_CONFIG, lexical=lexical_store(settings).get(collection))


def heal_lexical(client: ClientAPI, collection: str, settings: Settings, page: int = 2000) -> int:
    """Rebuild the collection's BM25 index from Chroma (page by page) when their sizes differ; returns chunks indexed.

    They differ after a crash between a Chroma write and its lexical write, or when the index predates this data dir's
    chunks (an index directory removed, or chunks written by an older edurag).
    """
    lexical = lexical_store(settings).get(collection)
    col = get_collection(client, collection)
    if lexical.count() == col.count():
        return 0
    logger.warning("lexical index of %s holds %d chunks, Chroma %d: rebuilding it", collection, lexical.count(), col.count())
    lexical.clear()
    indexed = 0
    for got in iter_pages(col, ["documents", "metadatas"], page):
        lexical.upsert(got["ids"], [d or "" for d in got["documents"]], got["metadatas"])
        indexed += len(got["ids"])
    return indexed


def iter_chunks(client: ClientAPI, collection: str, include: list[str], page: int = 2000) -> Iterator[dict[str, Any]]:
    """Every chunk of a collection as {id, metadata?, document?}, read page by page (no whole-collection read)."""
    for got in iter_pages(get_collection(client, collection), include, page):
        for n, chunk_id_ in enumerate(got["ids"]):
            yield {"id": chunk_id_, **{field[:-1]: got[field][n] for field in include}}


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
    on_progress: Callable[[int, int | None], None] | None = None,
) -> IndexReport:
    """Add new/changed chunks, skip unchanged ones, then delete the outdated chunks of every source seen in this run
    ("scoped_full": other sources are untouched) or of the whole collection ("full": sources not seen are removed).

    Cleanup runs once, after every chunk is written, so a source spanning several embedding batches is never
    deleted and re-added (LangChain's "incremental" mode cleans per batch), and a crash mid-run loses nothing:
    the next run skips what was written and deletes what is outdated. `on_progress(done, total)` is called after each
    batch with the chunks written or skipped so far.
    """
    manager = record_manager(settings, collection)
    _heal(manager, client, collection)
    heal_lexical(client, collection, settings)
    store = langchain_store(client, collection, embedder, settings)
    source: Iterable[Document] = tqdm(docs, total=total, desc=f"indexing {collection}", unit="chunk", disable=not progress)
    if on_progress is not None:
        source = _reporting(source, settings.index_batch_size, total, on_progress)
    result = index(source, manager, store, cleanup=cleanup, source_id_key=SOURCE_KEY, key_encoder=chunk_id,
                   batch_size=settings.index_batch_size)
    if on_progress is not None:
        on_progress(result["num_added"] + result["num_updated"] + result["num_skipped"], total)
    return IndexReport(
        collection=collection, added=result["num_added"], updated=result["num_updated"], skipped=result["num_skipped"],
        deleted=result["num_deleted"], total=get_collection(client, collection).count(),
    )


def _reporting(docs: Iterable[Document], batch: int, total: int | None,
               on_progress: Callable[[int, int | None], None]) -> Iterator[Document]:
    """The documents unchanged; when the indexer asks for the first one of a batch, the batches before it are done."""
    for n, doc in enumerate(docs):
        if n and n % batch == 0:
            on_progress(n, total)
        yield doc


def delete_where(where: dict, collection: str, *, client: ClientAPI, settings: Settings) -> int:
    """Remove the chunks matching a metadata filter from the collection and the records; returns how many."""
    col = get_collection(client, collection)
    ids = col.get(where=where, include=[])["ids"]
    if ids:
        col.delete(ids=ids)
        lexical_store(settings).get(collection).delete(ids)
        record_manager(settings, collection).delete_keys(ids)
    return len(ids)
