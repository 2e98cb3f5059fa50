"""Hybrid standards retrieval: long texts split into passages, dense (Chroma) + lexical (BM25) scores fused per
passage, aggregated per standard, with soft boosts for grade cues found in the text."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.models.Collection import Collection
from chromadb.errors import NotFoundError

from edurag.alignment.ranking import (FEATURES, QUERY_ENCODER_DIR, AlignerModel, StandardTable, aligner_folder, grade_fit,
                                      is_practice, load_aligner_model, read_model_manifest, standard_features, text_words)
from edurag.components import Components, embedder_for, query_embedder_for
from edurag.embedder import Embedder
from edurag.markup import plain_text
from edurag.settings import STANDARDS_COLLECTION
from edurag.standards import ALL_GRADES, BUILTIN_FRAMEWORKS, expand_grades, same_statement, statement_words
from vectorstore.chroma import nearest
from vectorstore.lexical import LexicalHit

logger = logging.getLogger(__name__)

PRACTICES_K = 3
_ORDINALS = {"first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5", "sixth": "6", "seventh": "7",
             "eighth": "8", "ninth": "9", "tenth": "10", "eleventh": "11", "twelfth": "12"}
_GRADE_PATTERNS = [
    re.compile(r"\bgrades?\s*(k|\d{1,2})\b", re.I),
    re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)[\s-]*grade", re.I),
    re.compile(r"\b(" + "|".join(_ORDINALS) + r")[\s-]*grade", re.I),
]
# Grade ranges: "grades 3-5", "grade K-2", "grades 6 to 8"; without "grade", a school band (K-2, 3-5, 6-8, 9-12,
# 9-10, 11-12) followed by what it names ("K-2 standards", "6-8 science standards", "the 9-12 grade band"); never a
# code's part (K-2-ETS1-1, RH.6-8.1).
_GRADE_RANGES = [
    re.compile(r"\bgrades?\s*(k|\d{1,2})\s*(?:-|–|—|to|through|thru)\s*(k|\d{1,2})(?![\w.]|-\w)", re.I),
    re.compile(r"(?<![\w.-])(?=(?:k[-–]2|3[-–]5|6[-–]8|9[-–]1[02]|11[-–]12)\b)(k|\d{1,2})[-–](\d{1,2})(?![\w.]|-\w)"
               r"(?=(?:\s+[a-z]+){0,2}?\s+(?:standards?|grades?|bands?)\b)", re.I),
]
_BAND_CUES = {
    re.compile(r"\bkindergarten", re.I): ["K"],
    re.compile(r"\bmiddle[\s-]school", re.I): expand_grades("MS"),
    re.compile(r"\bhigh[\s-]school|\balgebra (?:i|1|ii|2)\b|\bgeometry course|\bprecalculus|\bcalculus", re.I): expand_grades("HS"),
    re.compile(r"\bMS\b(?!-)"): expand_grades("MS"),  # as written in "MS standards", not MS-PS1-2 or "Ms."
    re.compile(r"\bHS\b(?!-)"): expand_grades("HS"),
}


@dataclass
class Candidate:
    """A standard's score with its parts and the input passage that matched it best.

    `score` is the learned ranker's logit when the aligner model is in use (else the fused cosine + BM25 + grade
    boosts); `confidence` is its calibrated probability of being a standard the lesson addresses (None without a model).
    """

    code: str
    score: float
    dense: float
    lexical: float
    boost: float
    passage: str
    metadata: dict[str, Any] = field(default_factory=dict)
    confidence: float | None = None
    label: str = ""
    features: dict[str, float] = field(default_factory=dict)
    equivalents: list[dict[str, str]] = field(default_factory=list)  # {framework, code} of copies in other frameworks


COPIES_WINDOW = 5  # candidates read per place when collapsing copies: one per bundled state framework and CCSS itself


def _copies(a: Candidate, b: Candidate) -> bool:
    """Whether two candidates may be one standard: other frameworks, or one framework's code twice (NY-5.NBT.7~2)."""
    fa, fb = a.metadata.get("framework"), b.metadata.get("framework")
    return fa != fb or a.code.split("~")[0] == b.code.split("~")[0]


def distinct_standards(hits: list[Candidate], k: int) -> list[Candidate]:
    """The k best distinct standards of a ranking over several frameworks: a candidate whose statement is a copy of
    a better one's (same grades, edurag.standards.same_statement) joins its `equivalents` instead of taking a place,
    and a group is shown by its built-in framework's member (CCSS, NGSS) when it has one, at the group's best rank.
    `hits` best first; returns at most k."""
    groups: list[list[Candidate]] = []
    keys: list[tuple[tuple[str, ...], frozenset[str]]] = []
    for hit in hits:
        grades, words = tuple(hit.metadata.get("grades") or ()), statement_words(str(hit.metadata.get("statement", "")))
        for group, (group_grades, group_words) in zip(groups, keys):
            if grades == group_grades and _copies(hit, group[0]) and same_statement(words, group_words):
                group.append(hit)
                break
        else:
            if len(groups) < k:
                groups.append([hit])
                keys.append((grades, words))
    out = []
    for group in groups:
        shown = next((h for h in group if h.metadata.get("framework") in BUILTIN_FRAMEWORKS), group[0])
        shown.equivalents = [{"framework": str(h.metadata.get("framework", "")), "code": h.code} for h in group if h is not shown]
        out.append(shown)
    return out


def align_scope(c: Components) -> tuple[str, ...] | None:
    """The frameworks a call naming none ranks: the settings' align_frameworks that the catalog holds; None (every
    framework, no filter) when the setting is empty, none of them is there, or they are all there is (a filter that
    keeps the whole index would only send the dense search through the post-filter's over-fetch; its cost was not
    measured apart)."""
    scope = tuple(f for f in c.settings.align_frameworks if c.catalog.size(f))
    return scope if scope and set(c.catalog.frameworks()) - set(scope) else None


def _ranking(c: Components, top: list[Candidate], k: int, framework: str | None,
             practices_for: Callable[[list[Candidate]], list[Candidate]]) -> Ranking:
    """The Ranking of a framework's candidates as ranked, or without a framework, of distinct standards (copies
    collapsed: distinct_standards) with their equivalents in the imported frameworks."""
    if framework:
        return Ranking(top, practices_for(top))
    top = with_equivalents(c, distinct_standards(top, k))
    return Ranking(top, with_equivalents(c, practices_for(top)))


def with_equivalents(c: Components, hits: list[Candidate]) -> list[Candidate]:
    """The hits, each with the imported frameworks' copies of it (Catalog.equivalents) added to its `equivalents`."""
    for hit in hits:
        known = {(e["framework"], e["code"]) for e in hit.equivalents}
        hit.equivalents += [{"framework": f, "code": code} for f, code in c.catalog.equivalents(hit.code)
                            if (f, code) not in known]
    return hits


@dataclass
class Ranking:
    """Content standards (practices only if asked) and, apart, the practices (CCSS MP) the text exercises."""

    standards: list[Candidate]
    practices: list[Candidate]


def grade_cues(text: str) -> set[str]:
    """Grades the text names ("grade 6", "7th grade", "sixth-grade", "kindergarten", "high school", "HS"), a range
    or school band in full ("grades 3-5", "K-2 standards", "6-8 science standards": 3, 4, 5 / K, 1, 2 / 6, 7, 8)."""
    cues: set[str] = set()
    for pattern in _GRADE_PATTERNS:
        for raw in pattern.findall(text):
            value = _ORDINALS.get(raw.lower(), raw.upper())
            if value == "K" or value.isdigit() and 1 <= int(value) <= 12:
                cues.add(value)
    for pattern in _GRADE_RANGES:
        for first, last in ((a.upper(), b.upper()) for a, b in pattern.findall(text)):
            if first in ALL_GRADES and last in ALL_GRADES:
                cues.update(ALL_GRADES[ALL_GRADES.index(first):ALL_GRADES.index(last) + 1])
    for pattern, grades in _BAND_CUES.items():
        if pattern.search(text):
            cues.update(grades)
    return cues


@lru_cache(maxsize=4)
def aligner_model_for(setting: str, embedding_model: str) -> AlignerModel | None:
    """The aligner model EDURAG_ALIGNER_MODEL names ("" = bundled, "off" = none), if it was trained on this embedder;
    else None and /align ranks by the fused score with grade boosts. Loaded once per process."""
    if setting == "off":
        return None
    folder = Path(setting) if setting else None
    base = read_model_manifest(folder)["base"]["id"]
    if base != embedding_model:
        logger.warning("the aligner model was trained on %s, the standards index uses %s: ranking by fused score", base,
                       embedding_model)
        return None
    return load_aligner_model(folder)


def passage_encoder(c: Components, embedder: Embedder) -> Embedder:
    """The encoder of /align's passages for a standards index built with `embedder`: the aligner model's distilled
    query encoder (its folder's QUERY_ENCODER_DIR) when the model applies to that embedder and has one, else the
    embedder. Built on first use (seconds; `edurag ingest standards` does it ahead), then loaded once per process."""
    s = c.settings
    if aligner_model_for(s.aligner_model, embedder.name) is None:
        return embedder
    return query_embedder_for(s, embedder, aligner_folder(s.aligner_model) / QUERY_ENCODER_DIR)


def hybrid_search(c: Components, text: str, k: int, grade: str | None = None, subject: str | None = None,
                  framework: str | None = None, grade_hint: str | None = None, include_practices: bool = False) -> list[Candidate]:
    """The k best standards for a text of any length, best first (rank_standards without the practices list)."""
    return rank_standards(c, text, k, grade, subject, framework, grade_hint, include_practices).standards


def rank_standards(c: Components, text: str, k: int, grade: str | None = None, subject: str | None = None,
                   framework: str | None = None, grade_hint: str | None = None, include_practices: bool = False,
                   practices_k: int = PRACTICES_K) -> Ranking:
    """The k best content standards for a text of any length, best first, and up to practices_k practices apart.

    The text is read as plain text first (edurag.markup: TeX math and Markdown rendered). Each passage is encoded
    (through the aligner model's query adapter); its `dense_candidates` nearest standards (Chroma) and
    `lexical_candidates` best BM25 standards (the collection's tantivy index) are fused (fused_candidates), both
    searches honouring the filters, and only those candidates are read and ranked: the aligner model scores them on
    features of all passages (edurag.alignment.ranking) and calibrates a confidence. `grade` filters; `grade_hint`
    (the lesson's grade) and grades the text names count in the ranker's features. Practices (CCSS MP) go to
    `practices` and enter `standards` only with include_practices. Raises nothing for an empty index or filters that
    match nothing: both lists are then empty.
    """
    s = c.settings
    text = plain_text(text)
    try:
        target, collection = c.aliases.get(c.client, STANDARDS_COLLECTION)
    except NotFoundError:  # a cached target dropped by a re-index elsewhere: look the alias up again
        c.aliases.invalidate()
        target, collection = c.aliases.get(c.client, STANDARDS_COLLECTION)
    embedder = embedder_for(c, target.embedding_model)
    model = aligner_model_for(s.aligner_model, embedder.name)
    query = passage_encoder(c, embedder)
    split = query.passages(text, s.passage_tokens, s.passage_overlap)
    parts = split.texts
    scope = framework or align_scope(c)
    conditions = {"framework": scope, "subject": subject, "grades": [grade] if grade else None}
    lexical_searches = c.lexical_indexes.get(collection.name).submit(parts, s.lexical_candidates, conditions)
    plain = query.encode_tokens(split.tokens)
    vectors = model.adapt(plain, text_words(text)) if model is not None else plain
    share = c.catalog.share(scope, subject, grade)
    try:
        _, metadatas, dense, lex_norm = fused_candidates(c, collection, parts, vectors, conditions, share,
                                                         lexical_searches=lexical_searches)
    except NotFoundError:
        c.aliases.invalidate()
        target, collection = c.aliases.get(c.client, STANDARDS_COLLECTION)
        _, metadatas, dense, lex_norm = fused_candidates(c, collection, parts, vectors, conditions, share)
    if not metadatas:
        return Ranking([], [])
    fused = dense + s.lexical_weight * lex_norm
    best_passage = fused.argmax(axis=0)
    codes = [str(m.get("code", "")) for m in metadatas]
    practice = np.array([is_practice(code) for code in codes], dtype=bool)
    named, hinted = grade_cues(text), set(expand_grades(grade_hint))

    def candidate(i: int, score: float, boost: float = 0.0, confidence: float | None = None,
                  features: dict[str, float] | None = None) -> Candidate:
        return Candidate(code=codes[i], score=float(score), dense=float(dense[best_passage[i], i]),
                         lexical=float(lex_norm[best_passage[i], i]), boost=float(boost), passage=parts[best_passage[i]],
                         metadata=metadatas[i], confidence=confidence,
                         label=model.label(confidence) if model and confidence is not None else "",
                         features=features or {})

    practice_order = [i for i in np.argsort(-fused.max(axis=0)) if practice[i]][:practices_k]

    def practices_for(top: list[Candidate]) -> list[Candidate]:
        """The best-matching practices of the subject the top content standard belongs to (or any close match)."""
        subject = top[0].metadata.get("subject") if top and top[0].dense >= s.min_score else None
        return [candidate(i, fused[:, i].max()) for i in practice_order
                if dense[:, i].max() >= s.min_score or metadatas[i].get("subject") == subject]

    ranked = np.flatnonzero(~practice | include_practices)
    if model is not None:
        table = StandardTable.of([metadatas[i] for i in ranked])
        features = standard_features(dense[:, ranked], lex_norm[:, ranked], table, named, hinted,
                                     model.prior(plain, table.subjects),
                                     model.word_prior(text, table.subjects, hinted))
        scores = model.score(features)
        confidences = model.confidence(scores)
        order = np.argsort(-scores)[:k if framework else COPIES_WINDOW * k]
        top = [candidate(ranked[j], scores[j], confidence=float(confidences[j]),
                         features=dict(zip(FEATURES, map(float, features[j])))) for j in order]
        return _ranking(c, top, k, framework, practices_for)
    boost = np.zeros(len(metadatas), dtype=np.float32)
    for weight, grades in ((s.grade_boost, named), (s.grade_hint_boost, hinted)):
        if grades:
            boost[ranked] += weight * np.array([grade_fit(grades, metadatas[i].get("grades")) for i in ranked],
                                               dtype=np.float32)
    score = fused.max(axis=0) + boost
    order = ranked[np.argsort(-score[ranked])]
    top = [candidate(i, score[i], boost[i]) for i in order[:k if framework else COPIES_WINDOW * k]]
    return _ranking(c, top, k, framework, practices_for)


def fused_candidates(c: Components, collection: Collection, parts: list[str], vectors: np.ndarray, conditions: dict[str, Any],
                     share: float | None = None, metadata: bool = True,
                     lexical_searches: list[Future[list[LexicalHit]]] | None = None,
                     ) -> tuple[list[str], list[dict[str, Any]], np.ndarray, np.ndarray]:
    """Dense (Chroma top `dense_candidates`) and lexical (BM25 top `lexical_candidates`) hits of every passage, on the
    union of the chunks either found: their ids, metadata, and cosine and max-normalized BM25 score per passage.
    `conditions` are metadata filters as where_all takes them (None = any; a list value: the chunk's list contains its
    first element); `share` is the fraction of the collection they keep, when known (Catalog.share): a broad filter is
    then applied to an unfiltered over-fetch rather than as a Chroma `where` (vectorstore.chroma.nearest; same top k).

    Both reads are top-k searches that honour the conditions, with no pass over the collection (HNSW; BM25 reads the
    posting lists of the query's words, tantivy applies filters as term queries, cheap at any share); a chunk one signal did not
    return scores 0 on it for that passage. Chroma returns distances only; the candidates' metadata comes from the
    process's MetadataCache (Components.chunk_metadata): the first time a chunk is a candidate it is taken from its BM25
    hit (the index stores it) or, for a dense-only candidate, read from Chroma. With `metadata=False` nothing is read
    and every chunk gets an empty dict: for callers that read the metadata of a few winners. `lexical_searches`: the
    BM25 searches of `parts` already submitted on this collection's index (LexicalIndex.submit, so that they ran while
    the caller encoded); else they are submitted here and run while Chroma searches.
    """
    s = c.settings
    if lexical_searches is None:
        lexical_searches = c.lexical_indexes.get(collection.name).submit(parts, s.lexical_candidates, conditions)
    dense_hits = nearest(collection, vectors, s.dense_candidates, conditions, share, s.post_filter_min_share,
                         s.post_filter_overfetch, metadata=False, cache=c.chunk_metadata)
    lexical_hits = [search.result() for search in lexical_searches]
    found = list(dict.fromkeys([i for ids in dense_hits.ids for i in ids] + [h.id for hits in lexical_hits for h in hits]))
    # read once per process (content-addressed ids): a BM25 hit brings its stored metadata, the rest is one Chroma get
    stored = {hit.id: hit for hits in lexical_hits for hit in hits}
    known = c.chunk_metadata.read(collection, found, stored) if metadata else {chunk_id: {} for chunk_id in found}
    position = {chunk_id: n for n, chunk_id in enumerate(i for i in found if i in known)}
    metadatas = [known[chunk_id] for chunk_id in position]
    dense = np.zeros((len(parts), len(metadatas)), dtype=np.float32)
    lex = np.zeros_like(dense)
    for p, (ids, distances) in enumerate(zip(dense_hits.ids, dense_hits.distances)):
        for chunk_id, distance in zip(ids, distances):
            if chunk_id in position:
                dense[p, position[chunk_id]] = 1.0 - distance
    for p, hits in enumerate(lexical_hits):
        for hit in hits:
            if hit.id in position:
                lex[p, position[hit.id]] = hit.score
    if not metadatas:
        return [], [], dense, lex
    lex_norm = lex / np.maximum(lex.max(axis=1, keepdims=True), 1e-9)
    return list(position), metadatas, dense, lex_norm


@dataclass
class ChunkHit:
    """A transcript chunk with its fused score (cosine + lexical_weight x max-normalized BM25) and its parts."""

    id: str
    text: str
    metadata: dict[str, Any]
    score: float
    dense: float
    lexical: float


def search_chunks(c: Components, collection_name: str, text: str, k: int, conditions: dict[str, Any] | None = None,
                  ) -> list[ChunkHit]:
    """The k chunks of a collection (transcripts) best matching a short query: dense and BM25 top hits fused; the
    text and metadata are read for those k only."""
    _, collection = c.aliases.get(c.client, collection_name)  # handle cached (a never-switched alias is the name)
    conditions = conditions or {}
    searches = c.lexical_indexes.get(collection.name).submit([text], c.settings.lexical_candidates, conditions)
    ids, _, dense, lex_norm = fused_candidates(c, collection, [text], c.embedder.encode([text]), conditions,
                                               metadata=False, lexical_searches=searches)
    if not ids:
        return []
    score = dense[0] + c.settings.lexical_weight * lex_norm[0]
    order = [int(i) for i in np.argsort(-score)[:k]]
    got = collection.get(ids=[ids[i] for i in order], include=["documents", "metadatas"])
    found = {chunk_id: (text or "", meta or {}) for chunk_id, text, meta in zip(got["ids"], got["documents"], got["metadatas"])}
    return [ChunkHit(id=ids[i], text=found[ids[i]][0], metadata=found[ids[i]][1], score=float(score[i]),
                     dense=float(dense[0, i]), lexical=float(lex_norm[0, i])) for i in order if ids[i] in found]
