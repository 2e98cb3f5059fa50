"""The learned part of /align: a query-side linear adapter on the embedder and a logistic ranker over per-standard
features of a (possibly long, multi-passage) text, with an isotonic map from ranker score to calibrated confidence.

The features are computed here for serving and for training alike (finetune.aligner fits the weights on the dev
split of real publisher lessons). Shapes: `dense` and `lexical` are (passages, standards) arrays; `dense` holds the
cosine similarity of each passage to each candidate standard (0 where Chroma did not return the standard for that
passage), `lexical` the BM25 score of each passage against each standard divided by the passage's best BM25 score.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from edurag.standards import ALL_GRADES, expand_grades

FEATURES = ("fused", "dense", "lexical", "dense_mean", "dense_z", "passage_share", "grade_mass", "cluster_support",
            "domain_support", "subject_mass", "span", "grade_stated", "text_prior", "word_prior")
LEXICAL_WEIGHT = 0.3
PRIOR_TEMPERATURE = 0.05
PASSAGE_TOP = 10
WORD_NGRAMS = 2  # the word prior reads words and word pairs ("ten frame", "number line", "unit rate")
WORD_MIN_LESSONS = 2  # a term counts once this many training lessons use it
PRACTICE_PREFIX = "MP."
LIKELY = "likely addressed"
RELATED = "related"
MODEL_FILE = "aligner.npz"
MANIFEST_FILE = "edurag_manifest.json"  # finetune.manifest.MANIFEST_NAME; serving never imports finetune
_GRADE_INDEX = {grade: i for i, grade in enumerate(ALL_GRADES)}
BUNDLED_MODEL_DIR = Path(__file__).resolve().parents[1] / "data" / "aligner"
QUERY_ENCODER_DIR = "query_encoder"  # in an aligner folder: the distilled encoder its ranker was trained on (optional)


def aligner_folder(setting: str) -> Path:
    """The folder of the aligner model EDURAG_ALIGNER_MODEL names ("" = the bundled edurag/data/aligner)."""
    return Path(setting) if setting else BUNDLED_MODEL_DIR


def keep_top(scores: np.ndarray, k: int) -> np.ndarray:
    """(rows, columns) scores with all but each row's k highest (ties at the k-th included) set to 0: per passage, the
    candidates a top-k search (Chroma's nearest, the lexical index's best BM25) returns."""
    if k >= scores.shape[1]:
        return scores.astype(np.float32)
    threshold = -np.partition(-scores, k - 1, axis=1)[:, k - 1:k]
    return np.where(scores >= threshold, scores, 0.0).astype(np.float32)


def text_words(text: str) -> int:
    """A text's length in whitespace-separated words, what the query adapter's length gate reads (AlignerModel.adapt)."""
    return len(text.split())


def is_practice(code: str) -> bool:
    """A practice standard (CCSS Standards for Mathematical Practice), listed apart from content standards."""
    return code.startswith(PRACTICE_PREFIX)


def grade_fit(named: set[str], grades: Sequence[str] | None) -> float:
    """How well a standard's grade span fits the named grades (Jaccard): 1 for the same span, 1/13 for a K-12 practice."""
    span = set(grades or [])
    return len(named & span) / len(named | span) if named & span else 0.0


def _softmax(x: np.ndarray, temperature: float) -> np.ndarray:
    z = np.exp((x - x.max()) / temperature)
    return z / z.sum()


@dataclass
class StandardTable:
    """What the features need of each indexed standard, as arrays in index order: a (standards, 13) grade indicator
    (K..12) and integer keys of its cluster, domain and subject. Built once per index (of), sliced per request (take)."""

    grades: np.ndarray
    cluster: np.ndarray
    domain: np.ndarray
    subject: np.ndarray
    subjects: tuple[str, ...] = ()

    @classmethod
    def of(cls, metadatas: Sequence[dict[str, Any]]) -> StandardTable:
        """The table of standards given their Chroma metadata (grades, domain, cluster, subject)."""
        grades = np.zeros((len(metadatas), len(ALL_GRADES)), dtype=np.float32)
        spans = [sorted({_GRADE_INDEX[g] for g in m.get("grades") or () if g in _GRADE_INDEX}) for m in metadatas]
        grades[[j for j, span in enumerate(spans) for _ in span], [i for span in spans for i in span]] = 1.0
        keys = {name: [str(m.get(name, "")) for m in metadatas] for name in ("domain", "cluster", "subject")}
        ids = {name: np.unique(np.array(values, dtype=str), return_inverse=True)[1] if values else np.zeros(0, int)
               for name, values in (("cluster", [f"{d}|{c}|{g}" for d, c, g in zip(keys["domain"], keys["cluster"], spans)]),
                                    ("domain", [f"{d}|{g}" for d, g in zip(keys["domain"], spans)]),
                                    ("subject", keys["subject"]))}
        return cls(grades=grades, cluster=ids["cluster"], domain=ids["domain"], subject=ids["subject"],
                   subjects=tuple(sorted(set(keys["subject"]))))

    def take(self, columns: np.ndarray) -> StandardTable:
        """The rows of these standards, in this order."""
        return StandardTable(self.grades[columns], self.cluster[columns], self.domain[columns], self.subject[columns],
                             self.subjects)


def prior_class(subject: str, grades: Sequence[str]) -> str | None:
    """The text-prior class of a standard or tagged lesson: `subject|grade` for one grade, `subject|HS` for grades 9-12,
    `subject|MS` for 6-8; None for wider spans (K-12 practices and anchors teach the prior nothing)."""
    if len(grades) == 1:
        return f"{subject}|{grades[0]}"
    if list(grades) == expand_grades("HS"):
        return f"{subject}|HS"
    if list(grades) == expand_grades("MS"):
        return f"{subject}|MS"
    return None


def prior_grid(classes: Sequence[str], probabilities: np.ndarray, subjects: Sequence[str]) -> np.ndarray:
    """(len(subjects), 13) probability of each subject and grade (K..12) from the text-prior classes' probabilities;
    a band class (HS, MS) gives its probability to each of its grades."""
    grid = np.zeros((len(subjects), len(ALL_GRADES)), dtype=np.float32)
    row = {subject: i for i, subject in enumerate(subjects)}
    for name, probability in zip(classes, probabilities):
        subject, grade = name.split("|")
        if subject in row:
            for g in expand_grades(grade):
                grid[row[subject], _GRADE_INDEX[g]] = max(grid[row[subject], _GRADE_INDEX[g]], probability)
    return grid


def subject_grid(classes: Sequence[str], probabilities: np.ndarray, subjects: Sequence[str],
                 grades: set[str]) -> np.ndarray:
    """(len(subjects), 13) grid of each subject's probability (the sum over its text-prior classes) on `grades`,
    0 on the other grades: a text prior whose grade part a stated grade replaces."""
    mass = np.zeros(len(subjects), dtype=np.float32)
    row = {subject: i for i, subject in enumerate(subjects)}
    for name, probability in zip(classes, probabilities):
        subject = name.split("|")[0]
        if subject in row:
            mass[row[subject]] += probability
    return np.outer(mass, grade_vector(grades)).astype(np.float32)


def word_vectorizer(terms: Sequence[str] | None = None) -> Any:
    """The word prior's TF-IDF features (scikit-learn): words and word pairs, sublinear counts, L2-normalized rows;
    with `terms` (the fitted vocabulary, in column order) ready for transform once its idf_ is set, else to fit."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vocabulary = {term: i for i, term in enumerate(terms)} if terms is not None else None
    return TfidfVectorizer(ngram_range=(1, WORD_NGRAMS), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b",
                           min_df=1 if vocabulary else WORD_MIN_LESSONS, vocabulary=vocabulary, dtype=np.float32)


def grade_vector(grades: set[str]) -> np.ndarray:
    """A 13-slot (K..12) indicator of grades; unknown names are ignored."""
    out = np.zeros(len(ALL_GRADES), dtype=np.float32)
    out[[_GRADE_INDEX[g] for g in grades if g in _GRADE_INDEX]] = 1.0
    return out


def _jaccard(table: np.ndarray, named: np.ndarray) -> np.ndarray:
    shared = table @ named
    union = table.sum(axis=1) + named.sum() - shared
    return np.where(shared > 0, shared / np.maximum(union, 1), 0.0)


def _support(keys: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Softmax mass of the other candidates sharing each candidate's key."""
    inverse = np.unique(keys, return_inverse=True)[1]
    return np.bincount(inverse, weights=weight)[inverse] - weight


def standard_features(dense: np.ndarray, lexical: np.ndarray, table: StandardTable,
                      named_grades: set[str] = frozenset(), hint_grades: set[str] = frozenset(),
                      prior: np.ndarray | None = None, word_prior: np.ndarray | None = None) -> np.ndarray:
    """(standards, len(FEATURES)) features of every column of `dense`/`lexical` (see the module docstring), whose
    standards `table` describes in the same order.

    Besides the best passage's scores, a standard is supported by the other passages (mean, z-score within its
    passage, share of passages ranking it in their top 10) and by its neighbours: the grades, clusters, domains and
    subject that the best-scoring standards of the whole text concentrate on (soft priors, no grade needed), and by
    `prior`, the text prior's (subjects, 13) grid (prior_grid) of how likely the text is of each subject and grade,
    and `word_prior`, the same grid from the text's words (AlignerModel.word_prior).
    """
    p, n = dense.shape
    out = np.zeros((n, len(FEATURES)), dtype=np.float32)
    if n == 0:
        return out
    fused = dense + LEXICAL_WEIGHT * lexical
    best = fused.max(axis=0)
    candidate = dense > 0
    counts = np.maximum(candidate.sum(axis=1, keepdims=True), 1)
    mean = np.where(candidate, dense, 0).sum(axis=1, keepdims=True) / counts
    sd = np.sqrt(np.where(candidate, (dense - mean) ** 2, 0).sum(axis=1, keepdims=True) / counts) + 1e-6
    top = min(PASSAGE_TOP, n)
    threshold = -np.partition(-fused, top - 1, axis=1)[:, top - 1:top]
    weight = _softmax(best, PRIOR_TEMPERATURE)
    span = table.grades.sum(axis=1)
    per_grade = (weight / np.maximum(span, 1)) @ table.grades
    out[:, 0] = best
    out[:, 1] = dense.max(axis=0)
    out[:, 2] = lexical.max(axis=0)
    out[:, 3] = dense.mean(axis=0)
    out[:, 4] = np.where(candidate, (dense - mean) / sd, -3.0).max(axis=0) / 10.0
    out[:, 5] = (fused >= threshold).mean(axis=0)
    out[:, 6] = table.grades @ per_grade
    out[:, 7] = _support(table.cluster, weight)
    out[:, 8] = _support(table.domain, weight)
    out[:, 9] = _support(table.subject, weight) + weight
    out[:, 10] = np.log(np.maximum(span, 1)) / np.log(len(ALL_GRADES))
    for stated in (named_grades, hint_grades):  # a grade the text names counts like the request's grade_hint
        if stated:
            out[:, 11] = np.maximum(out[:, 11], _jaccard(table.grades, grade_vector(stated)))
    for column, grid in ((12, prior), (13, word_prior)):
        if grid is not None:
            out[:, column] = (table.grades * grid[table.subject]).max(axis=1)
    return out


@dataclass
class AlignerModel:
    """Trained weights: an optional (dim, dim) query adapter, a logistic ranker over FEATURES (standardized by
    `mean`/`scale`) and an isotonic calibration curve (`calibration_x` scores -> `calibration_y` probabilities).

    `adapter_words` gates the adapter by text length: a text of w words moves min(1, w / adapter_words) of the way
    from its plain vector to the adapted one (0 = the full adapter for every text). The adapter is fitted to long
    multi-activity lessons; short one-standard texts keep more of the embedder's own geometry.

    Two text priors give each subject and grade a probability: `prior_*` from the mean passage vector, `word_*` from
    the text's words (TF-IDF of words and word pairs, word_vectorizer; a multinomial logistic regression)."""

    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray
    calibration_x: np.ndarray
    calibration_y: np.ndarray
    adapter: np.ndarray | None = None
    likely_threshold: float = 0.5
    prior_classes: tuple[str, ...] = ()
    prior_coef: np.ndarray | None = None
    prior_intercept: np.ndarray | None = None
    adapter_words: int = 0
    word_classes: tuple[str, ...] = ()
    word_terms: tuple[str, ...] = ()
    word_idf: np.ndarray | None = None
    word_coef: np.ndarray | None = None
    word_intercept: np.ndarray | None = None

    @cached_property
    def _words(self) -> Any:
        """The fitted TF-IDF vectorizer of the word prior."""
        vectorizer = word_vectorizer(self.word_terms)
        vectorizer.idf_ = self.word_idf
        return vectorizer

    def word_prior(self, text: str, subjects: Sequence[str], hint_grades: set[str] = frozenset()) -> np.ndarray | None:
        """The word prior of a text as a (len(subjects), 13) grid (prior_grid); None without one.

        A grade hint replaces the prior's grade part: the grid then holds each subject's probability on the hinted
        grades and 0 elsewhere (subject_grid), so the words no longer pull toward a grade the teacher did not give."""
        if self.word_coef is None:
            return None
        logits = np.asarray(self._words.transform([text]) @ self.word_coef.T).ravel() + self.word_intercept
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        if hint_grades:
            return subject_grid(self.word_classes, probabilities, subjects, hint_grades)
        return prior_grid(self.word_classes, probabilities, subjects)

    def prior(self, vectors: np.ndarray, subjects: Sequence[str]) -> np.ndarray | None:
        """The text prior (multinomial logistic regression on the mean passage vector, before the adapter) as a
        (len(subjects), 13) grid (prior_grid); None without a prior."""
        if self.prior_coef is None or len(vectors) == 0:
            return None
        mean = vectors.mean(axis=0)
        logits = self.prior_coef @ (mean / max(float(np.linalg.norm(mean)), 1e-12)) + self.prior_intercept
        probabilities = np.exp(logits - logits.max())
        return prior_grid(self.prior_classes, probabilities / probabilities.sum(), subjects)

    def adapter_share(self, words: int) -> float:
        """How far (0..1) a text of `words` words moves toward its adapted vector (the length gate)."""
        if self.adapter is None:
            return 0.0
        return 1.0 if self.adapter_words <= 0 else min(1.0, words / self.adapter_words)

    def adapt(self, vectors: np.ndarray, words: int) -> np.ndarray:
        """Passage vectors (n, dim) of a text of `words` words (text_words), mapped by the query adapter as far as
        the length gate lets them (adapter_share) and re-normalized; unchanged without an adapter."""
        share = self.adapter_share(words)
        if share == 0.0 or len(vectors) == 0:
            return vectors
        mapped = vectors + share * (vectors @ self.adapter - vectors)
        return (mapped / np.maximum(np.linalg.norm(mapped, axis=1, keepdims=True), 1e-12)).astype(np.float32)

    def score(self, features: np.ndarray) -> np.ndarray:
        """Ranker logits (higher = more likely a publisher would tag the standard), one per feature row."""
        return ((features - self.mean) / self.scale) @ self.weights + self.bias

    def confidence(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probability that a standard with this score is tagged (monotone non-decreasing in score)."""
        return np.interp(scores, self.calibration_x, self.calibration_y)

    def label(self, probability: float) -> str:
        """`likely addressed` at or above likely_threshold, else `related`."""
        return LIKELY if probability >= self.likely_threshold else RELATED

    def save(self, folder: Path) -> Path:
        """Write aligner.npz into folder (the manifest is written by the trainer)."""
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {"weights": self.weights, "bias": np.array([self.bias]), "mean": self.mean, "scale": self.scale,
                  "calibration_x": self.calibration_x, "calibration_y": self.calibration_y,
                  "likely_threshold": np.array([self.likely_threshold]), "features": np.array(FEATURES),
                  "adapter_words": np.array([self.adapter_words])}
        if self.adapter is not None:
            arrays["adapter"] = self.adapter.astype(np.float16)
        if self.prior_coef is not None:
            arrays |= {"prior_classes": np.array(self.prior_classes), "prior_coef": self.prior_coef.astype(np.float16),
                       "prior_intercept": self.prior_intercept}
        if self.word_coef is not None:
            arrays |= {"word_classes": np.array(self.word_classes), "word_terms": np.array(self.word_terms),
                       "word_idf": self.word_idf.astype(np.float32), "word_coef": self.word_coef.astype(np.float16),
                       "word_intercept": self.word_intercept}
        path = folder / MODEL_FILE
        np.savez_compressed(path, **arrays)
        return path


def load_aligner_model(folder: Path | None = None) -> AlignerModel:
    """The ranker in folder (default: the bundled edurag/data/aligner); raises FileNotFoundError or ValueError."""
    path = (folder or BUNDLED_MODEL_DIR) / MODEL_FILE
    with np.load(path, allow_pickle=False) as data:
        if tuple(str(f) for f in data["features"]) != FEATURES:
            raise ValueError(f"{path} was trained on features {list(data['features'])}, this code computes {list(FEATURES)}")
        return AlignerModel(
            weights=data["weights"].astype(np.float32), bias=float(data["bias"][0]), mean=data["mean"].astype(np.float32),
            scale=data["scale"].astype(np.float32), calibration_x=data["calibration_x"].astype(np.float64),
            calibration_y=data["calibration_y"].astype(np.float64),
            adapter=data["adapter"].astype(np.float32) if "adapter" in data else None,
            likely_threshold=float(data["likely_threshold"][0]),
            adapter_words=int(data["adapter_words"][0]) if "adapter_words" in data else 0,
            prior_classes=tuple(str(c) for c in data["prior_classes"]) if "prior_classes" in data else (),
            prior_coef=data["prior_coef"].astype(np.float32) if "prior_coef" in data else None,
            prior_intercept=data["prior_intercept"].astype(np.float32) if "prior_intercept" in data else None,
            **({"word_classes": tuple(str(c) for c in data["word_classes"]), "word_terms": tuple(str(t) for t in data["word_terms"]),
                "word_idf": data["word_idf"].astype(np.float64), "word_coef": data["word_coef"].astype(np.float32),
                "word_intercept": data["word_intercept"].astype(np.float32)} if "word_coef" in data else {}))


def read_model_manifest(folder: Path | None = None) -> dict[str, Any]:
    """The manifest beside the ranker (base model, data sha256, hyperparameters, metrics)."""
    return json.loads(((folder or BUNDLED_MODEL_DIR) / MANIFEST_FILE).read_text(encoding="utf-8"))
