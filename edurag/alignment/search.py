"""Hybrid standards retrieval: long texts split into passages, dense (Chroma) + lexical (BM25, tantivy) top hits fused
per passage, aggregated per standard, with soft boosts for grade cues found in the text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from chromadb.api.models.Collection import Collection
from chromadb.errors import NotFoundError

from edurag.components import Components, embedder_for
from edurag.settings import STANDARDS_COLLECTION
from edurag.standards import expand_grades
from vectorstore.chroma import get_collection, where_all

_ORDINALS = {"first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5", "sixth": "6", "seventh": "7",
             "eighth": "8", "ninth": "9", "tenth": "10", "eleventh": "11", "twelfth": "12"}
_GRADE_PATTERNS = [
    re.compile(r"\bgrades?\s*(k|\d{1,2})\b", re.I),
    re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)[\s-]*grade", re.I),
    re.compile(r"\b(" + "|".join(_ORDINALS) + r")[\s-]*grade", re.I),
]
_BAND_CUES = {
    re.compile(r"\bkindergarten", re.I): ["K"],
    re.compile(r"\bmiddle[\s-]school", re.I): expand_grades("MS"),
    re.compile(r"\bhigh[\s-]school|\balgebra (?:i|1|ii|2)\b|\bgeometry course|\bprecalculus|\bcalculus", re.I): expand_grades("HS"),
}


@dataclass
class Candidate:
    """A standard's fused score with its parts and the input passage that matched it best."""

    code: str
    score: float
    dense: float
    lexical: float
    boost: float
    passage: str
    metadata: dict[str, Any] = field(default_factory=dict)


def grade_cues(text: str) -> set[str]:
    """Grades the text names ("grade 6", "7th grade", "sixth-grade", "kindergarten", "high school")."""
    cues: set[str] = set()
    for pattern in _GRADE_PATTERNS:
        for raw in pattern.findall(text):
            value = _ORDINALS.get(raw.lower(), raw.upper())
            if value == "K" or value.isdigit() and 1 <= int(value) <= 12:
                cues.add(value)
    for pattern, grades in _BAND_CUES.items():
        if pattern.search(text):
            cues.update(grades)
    return cues


def grade_match(named: set[str], grades: list[str] | None) -> float:
    """How well a standard's grade span fits the named grades (Jaccard): 1 for the same span, 1/13 for a K-12 practice."""
    span = set(grades or [])
    return len(named & span) / len(named | span) if named & span else 0.0


def _fuse(c: Components, collection: Collection, parts: list[str], vectors: np.ndarray, where: dict[str, Any] | None,
          ) -> tuple[list[str], list[dict[str, Any]], np.ndarray, np.ndarray]:
    """Dense (Chroma top `dense_candidates`) and lexical (BM25 top `lexical_candidates`) hits of every passage, on the
    union of the chunks either found: their ids, metadata, and cosine and max-normalized BM25 score per passage.

    Both reads are top-k searches that honour `where`, so a query costs the same at 1,000 and 1,000,000 chunks (no
    pass over the collection); a chunk one signal did not return scores 0 on it for that passage.
    """
    s = c.settings
    dense_hits = collection.query(query_embeddings=vectors.tolist(), n_results=s.dense_candidates, where=where,
                                  include=["distances", "metadatas"])
    lexical = c.lexical.get(collection.name)
    lexical_hits = [lexical.search(part, s.lexical_candidates, where) for part in parts]
    position: dict[str, int] = {}
    metadatas: list[dict[str, Any]] = []
    for ids, metas in zip(dense_hits["ids"], dense_hits["metadatas"]):
        for chunk_id, meta in zip(ids, metas):
            if chunk_id not in position:
                position[chunk_id] = len(metadatas)
                metadatas.append(dict(meta or {}))
    for hits in lexical_hits:
        for hit in hits:
            if hit.id not in position:
                position[hit.id] = len(metadatas)
                metadatas.append(hit.metadata)
    dense = np.zeros((len(parts), len(metadatas)), dtype=np.float32)
    lex = np.zeros_like(dense)
    for p, (ids, distances) in enumerate(zip(dense_hits["ids"], dense_hits["distances"])):
        for chunk_id, distance in zip(ids, distances):
            dense[p, position[chunk_id]] = 1.0 - distance
    for p, hits in enumerate(lexical_hits):
        for hit in hits:
            lex[p, position[hit.id]] = hit.score
    if not metadatas:
        return [], [], dense, lex
    lex_norm = lex / np.maximum(lex.max(axis=1, keepdims=True), 1e-9)
    return list(position), metadatas, dense, lex_norm


def hybrid_search(c: Components, text: str, k: int, grade: str | None = None, subject: str | None = None,
                  framework: str | None = None, grade_hint: str | None = None) -> list[Candidate]:
    """The k best standards for a text of any length, best first; grade filters, grade_hint (the lesson's grade) boosts."""
    try:
        return _standards_search(c, text, k, grade, subject, framework, grade_hint)
    except NotFoundError:  # a cached target dropped by a re-index elsewhere: look the alias up again
        c.aliases.invalidate()
        return _standards_search(c, text, k, grade, subject, framework, grade_hint)


def _standards_search(c: Components, text: str, k: int, grade: str | None, subject: str | None, framework: str | None,
                      grade_hint: str | None) -> list[Candidate]:
    s = c.settings
    target, collection = c.aliases.get(c.client, STANDARDS_COLLECTION)
    embedder = embedder_for(c, target.embedding_model)
    split = embedder.passages(text, s.passage_tokens, s.passage_overlap)
    parts = split.texts
    where = where_all(framework=framework, subject=subject, grades=[grade] if grade else None)
    ids, metadatas, dense, lex_norm = _fuse(c, collection, parts, embedder.encode_tokens(split.tokens), where)
    if not ids:
        return []
    fused = dense + s.lexical_weight * lex_norm
    best_passage = fused.argmax(axis=0)

    boost = np.zeros(len(ids), dtype=np.float32)
    for weight, named in ((s.grade_boost, grade_cues(text)), (s.grade_hint_boost, set(expand_grades(grade_hint)))):
        if named:
            boost += weight * np.array([grade_match(named, m.get("grades")) for m in metadatas], dtype=np.float32)
    score = fused.max(axis=0) + boost
    order = np.argsort(-score)[:k]
    return [Candidate(code=str(metadatas[i].get("code", "")), score=float(score[i]),
                      dense=float(dense[best_passage[i], i]), lexical=float(lex_norm[best_passage[i], i]),
                      boost=float(boost[i]), passage=parts[best_passage[i]], metadata=metadatas[i])
            for i in order]


@dataclass
class ChunkHit:
    """A transcript chunk with its fused score (cosine + lexical_weight x max-normalized BM25) and its parts."""

    id: str
    text: str
    metadata: dict[str, Any]
    score: float
    dense: float
    lexical: float


def search_chunks(c: Components, collection_name: str, text: str, k: int, where: dict[str, Any] | None = None,
                  ) -> list[ChunkHit]:
    """The k chunks of a collection (transcripts) best matching a short query: dense and BM25 top hits fused."""
    collection = get_collection(c.client, collection_name)
    ids, metadatas, dense, lex_norm = _fuse(c, collection, [text], c.embedder.encode([text]), where)
    if not ids:
        return []
    score = dense[0] + c.settings.lexical_weight * lex_norm[0]
    order = [int(i) for i in np.argsort(-score)[:k]]
    got = collection.get(ids=[ids[i] for i in order], include=["documents"])
    texts = dict(zip(got["ids"], got["documents"]))
    return [ChunkHit(id=ids[i], text=texts.get(ids[i]) or "", metadata=metadatas[i], score=float(score[i]),
                     dense=float(dense[0, i]), lexical=float(lex_norm[0, i])) for i in order]
