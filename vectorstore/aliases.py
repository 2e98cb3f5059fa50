"""Collection aliases stored in Chroma itself, so every API process and worker sharing the store sees one pointer.

An alias (e.g. `standards`) points at a versioned collection (`standards__v7`); one upsert switches it atomically.
Without an alias record the alias name is the collection itself (the index built before any re-index).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field

from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection

from vectorstore.chroma import get_collection

ALIASES_COLLECTION = "edurag_aliases"
_POINTER = [1.0]  # Chroma records need an embedding; aliases are looked up by id only


@dataclass
class Target:
    """Where an alias points, the version it replaced and the embedding model the target was built with."""

    name: str
    previous: str | None = None
    embedding_model: str | None = None


def version_name(alias: str, version: int) -> str:
    """`standards__v7`."""
    return f"{alias}__v{version}"


def _aliases(client: ClientAPI):
    return client.get_or_create_collection(ALIASES_COLLECTION, embedding_function=None)


def current_target(client: ClientAPI, alias: str) -> Target:
    """The alias's current target (the alias name itself when it was never switched)."""
    got = _aliases(client).get(ids=[alias], include=["metadatas"])
    if not got["ids"]:
        return Target(name=alias)
    meta = got["metadatas"][0] or {}
    return Target(name=str(meta["target"]), previous=meta.get("previous") or None,
                  embedding_model=meta.get("embedding_model") or None)


def current_collection(client: ClientAPI, alias: str) -> str:
    """The collection name queries should read for this alias."""
    return current_target(client, alias).name


@dataclass
class AliasCache:
    """Alias targets with their collection handles, re-read from Chroma at most every `ttl` seconds.

    Saves the queries two Chroma round trips each; a switch made by another process is seen within `ttl`, and the
    target it replaced stays queryable until the next re-index, so a slightly old pointer still answers correctly.
    """

    ttl: float = 2.0
    _entries: dict[str, tuple[float, Target, Collection]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, client: ClientAPI, alias: str) -> tuple[Target, Collection]:
        """The alias's target and its collection."""
        with self._lock:
            entry = self._entries.get(alias)
        if entry and time.monotonic() - entry[0] < self.ttl:
            return entry[1], entry[2]
        target = current_target(client, alias)
        collection = get_collection(client, target.name)
        with self._lock:
            self._entries[alias] = (time.monotonic(), target, collection)
        return target, collection

    def invalidate(self) -> None:
        """Forget every target (after a switch made in this process)."""
        with self._lock:
            self._entries.clear()


def switch(client: ClientAPI, alias: str, target: Target) -> None:
    """Point the alias at target.name in one upsert (readers see the old or the new pointer, never a mix)."""
    meta = {"target": target.name, "previous": target.previous or "", "embedding_model": target.embedding_model or "",
            "switched_at": time.time()}
    _aliases(client).upsert(ids=[alias], embeddings=[_POINTER], metadatas=[meta], documents=[target.name])


def versions(client: ClientAPI, alias: str) -> dict[int, str]:
    """Existing versioned collections of an alias, by version number."""
    pattern = re.compile(rf"^{re.escape(alias)}__v(\d+)$")
    out: dict[int, str] = {}
    for collection in client.list_collections():
        match = pattern.match(collection.name)
        if match:
            out[int(match.group(1))] = collection.name
    return dict(sorted(out.items()))
