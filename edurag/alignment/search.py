"""Hybrid standards retrieval: long texts split into passages, dense (Chroma) + lexical (BM25) scores fused per
passage, aggregated per standard, with soft boosts for grade cues found in the text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from chromadb.errors import NotFoundError

from edurag.components import Components, embedder_for
from edurag.settings import STANDARDS_COLLECTION
from edurag.standards import expand_grades
from vectorstore.chroma import where_all

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


def _allowed(metadatas: list[dict[str, Any]], grade: str | None, subject: str | None, framework: str | None) -> np.ndarray:
    return np.array([(grade is None or grade in (m.get("grades") or [])) and (subject is None or m.get("subject") == subject)
                     and (framework is None or m.get("framework") == framework) for m in metadatas], dtype=bool)


def hybrid_search(c: Components, text: str, k: int, grade: str | None = None, subject: str | None = None,
                  framework: str | None = None, grade_hint: str | None = None) -> list[Candidate]:
    """The k best standards for a text of any length, best first; grade filters, grade_hint (the lesson's grade) boosts."""
    s = c.settings
    try:
        target, collection = c.aliases.get(c.client, STANDARDS_COLLECTION)
        lexical = c.lexical.get(collection)
    except NotFoundError:  # a cached target dropped by a re-index elsewhere: look the alias up again
        c.aliases.invalidate()
        target, collection = c.aliases.get(c.client, STANDARDS_COLLECTION)
        lexical = c.lexical.get(collection)
    if not lexical.ids:
        return []
    allowed = _allowed(lexical.metadatas, grade, subject, framework)
    if not allowed.any():
        return []
    embedder = embedder_for(c, target.embedding_model)
    split = embedder.passages(text, s.passage_tokens, s.passage_overlap)
    parts = split.texts
    vectors = embedder.encode_tokens(split.tokens)
    position = {chunk_id: i for i, chunk_id in enumerate(lexical.ids)}

    n = len(lexical.ids)
    dense = np.zeros((len(parts), n), dtype=np.float32)
    result = collection.query(query_embeddings=vectors.tolist(), n_results=min(s.dense_candidates, n),
                              where=where_all(framework=framework, subject=subject, grades=[grade] if grade else None),
                              include=["distances"])
    for p, (ids, distances) in enumerate(zip(result["ids"], result["distances"])):
        for chunk_id, distance in zip(ids, distances):
            if chunk_id in position:
                dense[p, position[chunk_id]] = 1.0 - distance
    lex = np.stack([lexical.scores(part) for part in parts]) * allowed
    lex_norm = lex / np.maximum(lex.max(axis=1, keepdims=True), 1e-9)
    fused = dense + s.lexical_weight * lex_norm
    best_passage = fused.argmax(axis=0)

    boost = np.zeros(n, dtype=np.float32)
    for weight, named in ((s.grade_boost, grade_cues(text)), (s.grade_hint_boost, set(expand_grades(grade_hint)))):
        if named:  # most requests name no grade: no pass over every standard then
            boost += weight * np.array([grade_match(named, m.get("grades")) for m in lexical.metadatas], dtype=np.float32)
    score = np.where(allowed, fused.max(axis=0) + boost, -np.inf)
    order = [i for i in np.argsort(-score)[:k] if np.isfinite(score[i])]
    return [Candidate(code=str(lexical.metadatas[i].get("code", "")), score=float(score[i]),
                      dense=float(dense[best_passage[i], i]), lexical=float(lex_norm[best_passage[i], i]),
                      boost=float(boost[i]), passage=parts[best_passage[i]], metadata=lexical.metadatas[i])
            for i in order]
