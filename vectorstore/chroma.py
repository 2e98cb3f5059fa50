"""Open Chroma (embedded PersistentClient or HttpClient to a server) and query collections."""

from __future__ import annotations

import logging
import math
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Protocol
from urllib.parse import urlparse

import chromadb
import numpy as np
from cachetools import LRUCache
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings
from filelock import ReadWriteLock, Timeout

from edurag.settings import Settings

logger = logging.getLogger(__name__)

# HNSW candidate list at search time. Chroma's default (100) equals /align's 100 dense candidates per passage, and
# then the tail of each top 100 is approximate: on the bundled standards 98.4% of the exact top 100 came back (min 90%
# for a passage), and which ones varied from process to process; 200 returns 99.9% (min 98%) for ~0.5 ms a query.
SEARCH_EF = 200
COLLECTION_CONFIG = {"hnsw": {"space": "cosine", "ef_search": SEARCH_EF}}
METADATA_CACHE_CHUNKS = 20_000  # ~1.5 KB of Python dict per standards chunk: ~30 MB; holds the bundled corpus 17 times


class Stored(Protocol):
    """A hit of another index that stores the chunk's metadata as indexed (vectorstore.lexical.LexicalHit)."""

    @property
    def metadata(self) -> dict[str, Any]: ...


class StoredIndex(Protocol):
    """Another index of a collection's chunks that stores each chunk's metadata (vectorstore.lexical.LexicalIndex)."""

    def stored(self, ids: list[str]) -> Mapping[str, Stored]: ...


@dataclass
class Hit:
    """One retrieved chunk with its cosine similarity."""

    id: str
    text: str
    metadata: dict[str, Any]
    score: float


def open_client(settings: Settings) -> ClientAPI:
    """HttpClient when EDURAG_CHROMA_URL is set, else a PersistentClient under the data dir."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1", port=url.port or 8000, ssl=url.scheme == "https", settings=chroma_settings
        )
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


WRITER_LOCK = "embedded-chroma.lock"  # in the data dir: a SQLite reader/writer lock (filelock.ReadWriteLock)


class DataDirBusy(RuntimeError):
    """Another process holds the embedded Chroma of this data dir; the message says which kind and what to do."""


@contextmanager
def hold_embedded_chroma(settings: Settings, writer: bool) -> Iterator[None]:
    """Hold the data dir's embedded Chroma for as long as the block runs: shared by serving processes (`writer=False`:
    an API, which keeps the vector index in memory and would not see another process's writes), exclusively by a
    command that writes it outside an API (`writer=True`: the CLI's ingests and deletes). Fails at once with
    DataDirBusy instead of waiting; the OS drops the lock when its process dies (even kill -9). Nothing is held
    when Chroma is a server (EDURAG_CHROMA_URL): every process then shares one index."""
    if settings.chroma_url:
        yield
        return
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / WRITER_LOCK
    lock = ReadWriteLock(path, timeout=0, blocking=False, is_singleton=False)
    try:
        (lock.acquire_write if writer else lock.acquire_read)()
    except Timeout as exc:
        if writer:
            raise DataDirBusy(
                f"a running edurag API (or another edurag command) holds {settings.data_dir.resolve()} ({path.name}); with "
                "embedded Chroma only one process may write it, and a running API would not see this change until it "
                "restarts. Ingest or delete through the API (POST /ingest/transcripts, DELETE /ingest/transcripts/{id}, "
                "POST /admin/frameworks), stop the API first, or run Chroma as a server (EDURAG_CHROMA_URL)") from exc
        raise DataDirBusy(f"an edurag command is writing {settings.data_dir.resolve()} ({path.name}); start the API when "
                          "it has finished, or run Chroma as a server (EDURAG_CHROMA_URL)") from exc
    try:
        yield
    finally:
        lock.release()
        lock.close()


def describe_mode(settings: Settings) -> dict[str, str]:
    """How Chroma is reached, for /health."""
    if settings.chroma_url:
        return {"mode": "server", "url": settings.chroma_url}
    return {"mode": "embedded", "path": str(settings.chroma_dir.resolve())}


def get_collection(client: ClientAPI, name: str) -> Collection:
    """Get or create a cosine-space collection; embeddings are always computed by edurag, never by Chroma. A collection
    made with a smaller HNSW ef_search (before SEARCH_EF) is raised to it (a search-time setting Chroma lets change)."""
    collection = client.get_or_create_collection(name, configuration=COLLECTION_CONFIG, embedding_function=None)
    ef_search = (collection.configuration_json.get("hnsw") or {}).get("ef_search")
    if ef_search is not None and ef_search < SEARCH_EF:
        collection.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})
    return collection


def query(collection: Collection, vector: list[float], k: int, where: dict[str, Any] | None = None) -> list[Hit]:
    """Nearest chunks to a query vector, best first, with score = 1 - cosine distance."""
    if collection.count() == 0:
        return []
    result = collection.query(
        query_embeddings=[vector], n_results=k, where=where or None, include=["documents", "metadatas", "distances"]
    )
    return [
        Hit(id=i, text=d or "", metadata=dict(m or {}), score=1.0 - float(dist))
        for i, d, m, dist in zip(result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0])
    ]


@dataclass
class MetadataCache:
    """Chunk metadata by (collection id, chunk id), least recently used dropped first; shared by a process's threads.

    Entries never go stale: chunk ids are content-addressed (edurag.chunk_ids.chunk_id hashes a chunk's text and
    metadata), so an id always carries the same metadata; a re-index writes a new collection (a new id); a deleted
    chunk is no longer returned by queries, so its entry is just never read again. `index_of` (collection name ->
    StoredIndex) is where chunks missing from the cache are read first: the collection's BM25 index stores the same
    metadata, and looking 150 ids up there took 4.5 ms CPU against Chroma's `get` 32 ms at 100k chunks (23 ms at 2k).
    """

    chunks: int = METADATA_CACHE_CHUNKS
    index_of: Callable[[str], StoredIndex] | None = None
    _cache: LRUCache = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._cache = LRUCache(maxsize=self.chunks)

    def read(self, collection: Collection, ids: list[str], stored: Mapping[str, Stored] | None = None,
             ) -> dict[str, dict[str, Any]]:
        """Metadata of these chunks (copies), from the cache, else from `stored` (hits of the collection's BM25 index,
        which stores each chunk's metadata as indexed), else from the collection's `index_of` index, else one Chroma
        `get` of the ids still lacking; ids in none of them are left out."""
        key = str(collection.id)
        with self._lock:
            found = {i: self._cache.get((key, i)) for i in ids}
        missing = [i for i, meta in found.items() if meta is None]
        if missing:
            stored = stored or {}
            fetched = {i: dict(stored[i].metadata) for i in missing if i in stored}
            rest = [i for i in missing if i not in fetched]
            if rest and self.index_of is not None:
                fetched.update({i: dict(hit.metadata) for i, hit in self.index_of(collection.name).stored(rest).items()})
                rest = [i for i in rest if i not in fetched]
            if rest:
                got = collection.get(ids=rest, include=["metadatas"])
                fetched.update({i: dict(m or {}) for i, m in zip(got["ids"], got["metadatas"])})
            with self._lock:
                for i, meta in fetched.items():
                    self._cache[(key, i)] = meta
            found.update(fetched)
        return {i: dict(meta) for i, meta in found.items() if meta is not None}


@dataclass
class Neighbours:
    """Per query vector (in input order): the nearest chunks' ids, cosine distances and metadata, best first; and the
    positions of the vectors that were answered by a metadata `where` query rather than by the post-filter."""

    ids: list[list[str]]
    distances: list[list[float]]
    metadatas: list[list[dict[str, Any]]]
    where_queried: list[int]


def nearest(collection: Collection, vectors: np.ndarray, k: int, conditions: dict[str, Any] | None = None,
            share: float | None = None, min_share: float = 0.25, overfetch: float = 1.5, metadata: bool = True,
            cache: MetadataCache | None = None) -> Neighbours:
    """The k nearest chunks to each query vector (float array, queries x dimension) among those matching `conditions`
    (as `where_all` takes them; None values = any).

    Chroma evaluates a metadata `where` before its HNSW search, so a filter that keeps most of a large collection costs
    about as much as reading that part of the collection's metadata (measured at 101,175 chunks: 1.4 s + 0.11 s per
    vector to keep 99%, against 0.03 s unfiltered). When `share`, the expected fraction of the collection the
    conditions keep, is at least `min_share`, the search reads instead the ceil(k x overfetch / share) nearest chunks
    without a filter and keeps those whose metadata match (`matches`): a vector left with at least k of them has
    exactly the filtered top k (the unfiltered top n, cut to the chunks that match, is the filtered ranking down to
    rank n), as has one whose unfiltered query returned the whole collection. Only the other vectors, whose neighbours
    are mostly chunks the filter drops, are queried again with the `where`; a selective filter (share below
    min_share: a small framework, a grade) always uses it. `share` None = unknown: the `where` is used. With
    `metadata=False` the `where` and unfiltered queries read distances only (Chroma's metadata read of every neighbour
    costs more as the collection grows) and their neighbours get empty dicts; the post-filter always reads metadata,
    through `cache` when given (a neighbour's metadata is then read from Chroma once per process).
    """
    where = where_all(**(conditions or {}))
    include: Any = ["distances", "metadatas"] if metadata else ["distances"]
    if where is None:
        got = collection.query(query_embeddings=vectors, n_results=k, include=include)
        return Neighbours(got["ids"], got["distances"], _metadatas(got), [])
    ids: list[list[str]] = [[] for _ in range(len(vectors))]
    distances: list[list[float]] = [[] for _ in range(len(vectors))]
    metadatas: list[list[dict[str, Any]]] = [[] for _ in range(len(vectors))]
    todo = list(range(len(vectors)))
    if share is not None and share >= min_share:
        n = math.ceil(k * overfetch / share)
        got = collection.query(query_embeddings=vectors, n_results=n,
                               include=["distances"] if cache else ["distances", "metadatas"])
        if cache:
            known = cache.read(collection, list(dict.fromkeys(i for hit_ids in got["ids"] for i in hit_ids)))
            got["metadatas"] = [[known.get(i) for i in hit_ids] for hit_ids in got["ids"]]
        todo = []
        for p, (hit_ids, dists, metas) in enumerate(zip(got["ids"], got["distances"], _metadatas(got))):
            kept = [j for j, meta in enumerate(metas) if matches(meta, conditions or {})][:k]
            if len(kept) < k and len(hit_ids) == n:
                todo.append(p)
                continue
            ids[p], distances[p], metadatas[p] = [hit_ids[j] for j in kept], [dists[j] for j in kept], [metas[j] for j in kept]
        if todo:
            logger.debug("post-filter left %d of %d vectors short: queried with the where", len(todo), len(vectors))
    if todo:
        got = collection.query(query_embeddings=vectors[todo], n_results=k, where=where, include=include)
        for p, hit_ids, dists, metas in zip(todo, got["ids"], got["distances"], _metadatas(got)):
            ids[p], distances[p], metadatas[p] = hit_ids, dists, metas
    return Neighbours(ids, distances, metadatas, todo)


def _metadatas(got: Any) -> list[list[dict[str, Any]]]:
    """Each neighbour's metadata as a dict (empty when the query did not read metadata)."""
    if got.get("metadatas") is None:
        return [[{} for _ in ids] for ids in got["ids"]]
    return [[dict(m or {}) for m in metas] for metas in got["metadatas"]]


def iter_pages(collection: Collection, include: list[str], page: int = 2000) -> Iterator[dict[str, Any]]:
    """A collection's chunks as successive `get` results of at most `page` ids (never one whole-collection read)."""
    offset = 0
    while True:
        got = collection.get(include=include, limit=page, offset=offset)
        if got["ids"]:
            yield got
        if len(got["ids"]) < page:
            return
        offset += page


def where_all(**conditions: Any) -> dict[str, Any] | None:
    """A Chroma `where` clause from keyword conditions, skipping None; lists use $contains, tuples $in (any of)."""
    clauses = [
        {key: {"$contains": value[0]}} if isinstance(value, list)
        else {key: {"$in": list(value)}} if isinstance(value, tuple) else {key: value}
        for key, value in conditions.items() if value is not None
    ]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def matches(metadata: dict[str, Any], conditions: dict[str, Any]) -> bool:
    """Whether a chunk's metadata meets conditions as `where_all` reads them, evaluated in Python: a scalar must be
    equal, a list value's first element must be in the chunk's list, a tuple must hold the chunk's value; None values
    are skipped."""
    for key, value in conditions.items():
        if value is None:
            continue
        have = metadata.get(key)
        if isinstance(value, list):
            if not isinstance(have, list) or value[0] not in have:
                return False
        elif isinstance(value, tuple):
            if have not in value:
                return False
        elif have != value:
            return False
    return True
