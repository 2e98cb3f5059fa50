"""A BM25 index (bm25s) kept beside a Chroma collection: Chroma OSS has no local BM25, so the lexical index is
derived from the collection's own contents and rebuilt whenever its chunk ids (which embed content hashes) change."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import bm25s
import numpy as np
import Stemmer
from chromadb.api.models.Collection import Collection

_STEMMER = Stemmer.Stemmer("english")
RECHECK_SECONDS = 2.0


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop-word-filtered, Snowball-stemmed tokens."""
    return bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False)


@dataclass
class LexicalIndex:
    """BM25 over every chunk of one collection, with the chunks' ids and metadata in index order."""

    fingerprint: str
    ids: list[str]
    metadatas: list[dict[str, Any]]
    retriever: bm25s.BM25

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for the query (index order)."""
        tokens = tokenize([query])[0]
        if not tokens:
            return np.zeros(len(self.ids), dtype=np.float32)
        return self.retriever.get_scores(tokens)


def _fingerprint(ids: list[str]) -> str:
    return hashlib.sha1("\n".join(sorted(ids)).encode()).hexdigest()


def build_index(collection: Collection) -> LexicalIndex:
    """Read all chunks of a collection and index their text with BM25."""
    got = collection.get(include=["documents", "metadatas"])
    retriever = bm25s.BM25()
    if got["ids"]:
        retriever.index(tokenize(list(got["documents"])), show_progress=False)
    return LexicalIndex(fingerprint=_fingerprint(got["ids"]), ids=list(got["ids"]),
                        metadatas=[dict(m or {}) for m in got["metadatas"]], retriever=retriever)


@dataclass
class LexicalCache:
    """Per-process cache of lexical indexes, re-validated against Chroma at most every RECHECK_SECONDS."""

    _indexes: dict[str, LexicalIndex] = field(default_factory=dict)
    _checked: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, collection: Collection) -> LexicalIndex:
        """The collection's lexical index, rebuilt if its chunks changed since it was built."""
        with self._lock:
            index = self._indexes.get(collection.name)
            now = time.monotonic()
            if index is not None and now - self._checked.get(collection.name, 0.0) < RECHECK_SECONDS:
                return index
            if index is None or _fingerprint(collection.get(include=[])["ids"]) != index.fingerprint:
                index = self._indexes[collection.name] = build_index(collection)
            self._checked[collection.name] = now
            return index

    def invalidate(self) -> None:
        """Forget every index (after an ingest in this process), so the next query rebuilds."""
        with self._lock:
            self._indexes.clear()
            self._checked.clear()
