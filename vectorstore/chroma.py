"""Open Chroma (embedded PersistentClient or HttpClient to a server) and query collections."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Iterator
from urllib.parse import urlparse

import chromadb
from cachetools import LRUCache
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings

from edurag.settings import Settings

COLLECTION_CONFIG = {"hnsw": {"space": "cosine"}}
METADATA_CACHE_CHUNKS = 20_000  # ~1.5 KB of Python dict per standards chunk: ~30 MB; holds the bundled corpus 17 times


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


def describe_mode(settings: Settings) -> dict[str, str]:
    """How Chroma is reached, for /health."""
    if settings.chroma_url:
        return {"mode": "server", "url": settings.chroma_url}
    return {"mode": "embedded", "path": str(settings.chroma_dir.resolve())}


def get_collection(client: ClientAPI, name: str) -> Collection:
    """Get or create a cosine-space collection; embeddings are always computed by edurag, never by Chroma."""
    return client.get_or_create_collection(name, configuration=COLLECTION_CONFIG, embedding_function=None)


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
    chunk is no longer returned by queries, so its entry is just never read again.
    """

    chunks: int = METADATA_CACHE_CHUNKS
    _cache: LRUCache = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._cache = LRUCache(maxsize=self.chunks)

    def read(self, collection: Collection, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Metadata of these chunks (copies), from the cache or one `get` of the ids it lacks; ids no longer in the
        collection are left out."""
        key = str(collection.id)
        with self._lock:
            found = {i: self._cache.get((key, i)) for i in ids}
        missing = [i for i, meta in found.items() if meta is None]
        if missing:
            got = collection.get(ids=missing, include=["metadatas"])
            fetched = {i: dict(m or {}) for i, m in zip(got["ids"], got["metadatas"])}
            with self._lock:
                for i, meta in fetched.items():
                    self._cache[(key, i)] = meta
            found.update(fetched)
        return {i: dict(meta) for i, meta in found.items() if meta is not None}


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
    """A Chroma `where` clause from keyword conditions, skipping None; lists use $contains."""
    clauses = [
        {key: {"$contains": value[0]}} if isinstance(value, list) else {key: value}
        for key, value in conditions.items() if value is not None
    ]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
