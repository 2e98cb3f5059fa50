"""Learned sentence relevance for lectures: a ridge regression over cheap sentence features and the sentence's MiniLM
vector, trained on the tune split of the Open Yale dev lectures to predict how much of a sentence's word pairs a
human course overview repeats (its stemmed bigram precision against `lecture_description`).

Why: ROUGE-L is one longest common subsequence over the whole summary, so a lecture summary gains when its sentences
carry the overview's phrasing in order. Centrality and a tf-idf centroid (summarization.salience) cannot see which
sentences read like an overview; a linear model over the embedding can ("what we'll see is how the Fed ..." rather
than "So that's the idea here."). The bundled model (edurag/data/summary_scorer: scorer.npz + edurag_manifest.json)
is rebuilt with `edurag finetune summary-scorer` (finetune/summary_scorer.py); its manifest gives base embedder, data
sha256, hyperparameters and metrics. Scores are z-scored within a lecture, so only their order and spread matter.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from edurag.adapters import MANIFEST_NAME
from edurag.generators import centrality

BUNDLED_SCORER_DIR = Path(__file__).resolve().parents[1] / "data" / "summary_scorer"
SCORER_FILE = "scorer.npz"

# Cheap per-sentence features (the embedding and its offset from the lecture's mean follow them).
FEATURES: tuple[str, ...] = (
    "position", "first_5_percent", "section_position", "section_first_10_percent", "centrality", "centrality_z",
    "lexical", "lexical_z", "section_centrality", "section_centrality_z", "words", "log_words", "cue_phrases",
    "filler_share", "personal_pronoun_share", "capitalized_share", "has_digit", "question", "key_terms", "comma_share",
)
_CUES = re.compile(r"\b(today|we'll|we will|i want to|talk about|going to|let me|this lecture|the point|in other words|"
                   r"the question|first|second|finally|so what)\b", re.I)
_FILLERS = re.compile(r"\b(um|uh|you know|i mean|kind of|sort of|okay|ok|right|yeah|well|actually|so)\b", re.I)
_PERSONAL = re.compile(r"\b(i|i'm|me|my|we|we're|our|us|you|your|you're)\b", re.I)
_CAPITALIZED = re.compile(r"(?<!^)(?<![.?!] )\b[A-Z][a-z]+")  # capitalized words not opening a sentence: names


def _z(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)


def sentence_features(texts: Sequence[str], vectors: np.ndarray, words: np.ndarray, starts: Sequence[int],
                      lexical: np.ndarray, key_terms: Sequence[str]) -> np.ndarray:
    """(n, len(FEATURES) + 2 * dim) features of a text's n sentence units: position in the text and in its topic
    section (`starts`: first unit of each section), embedding centrality to the text and to the section, tf-idf
    centroid score (`lexical`), length in words, cue phrases, fillers, personal pronouns, names, digits, questions,
    key terms present, commas; then the unit vector and its offset from the text's mean vector."""
    n = len(texts)
    position = np.arange(n) / max(n - 1, 1)
    section_position, section_centrality = np.zeros(n), np.zeros(n)
    for a, b in zip(starts, list(starts[1:]) + [n]):
        section_position[a:b] = np.arange(b - a) / max(b - a - 1, 1)
        section_centrality[a:b] = centrality(vectors[a:b])
    overall = centrality(vectors)
    lengths = np.asarray(words, dtype=np.float64)
    terms = [t.lower() for t in key_terms]
    text_rows = []
    for text in texts:
        tokens = max(len(text.split()), 1)
        lowered = text.lower()
        text_rows.append([len(_CUES.findall(text)), len(_FILLERS.findall(text)) / tokens,
                          len(_PERSONAL.findall(text)) / tokens, len(_CAPITALIZED.findall(text)) / tokens,
                          any(ch.isdigit() for ch in text), text.rstrip().endswith("?"),
                          sum(term in lowered for term in terms), text.count(",") / tokens])
    cheap = np.column_stack([position, position < 0.05, section_position, section_position < 0.1, overall,
                             _z(overall), lexical, _z(lexical), section_centrality, _z(section_centrality), lengths,
                             np.log1p(lengths), np.array(text_rows, dtype=np.float64).reshape(n, -1)])
    return np.hstack([cheap, vectors, vectors - vectors.mean(axis=0)])


@dataclass(frozen=True)
class SentenceScorer:
    """A linear model over sentence_features: standardize with mean/scale, then weights. `embedder` and `dim` name
    the sentence vectors it was trained on; it scores no other embedder's vectors."""

    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray
    embedder: str
    dim: int

    def predict(self, features: np.ndarray) -> np.ndarray:
        """(n,) predicted bigram precision of each sentence (features from sentence_features)."""
        return ((features - self.mean) / self.scale) @ self.weights + self.bias

    def relevance(self, features: np.ndarray) -> np.ndarray:
        """(n,) predictions z-scored within the text: the relevance MMR ranks a lecture's sentences by."""
        return _z(self.predict(features))

    def save(self, folder: Path) -> Path:
        """Write scorer.npz into folder (the manifest is written by the trainer)."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / SCORER_FILE
        np.savez_compressed(path, weights=self.weights.astype(np.float32), bias=np.array([self.bias]),
                            mean=self.mean.astype(np.float32), scale=self.scale.astype(np.float32),
                            features=np.array(FEATURES), embedder=np.array([self.embedder]), dim=np.array([self.dim]))
        return path


def load_sentence_scorer(folder: Path | None = None) -> SentenceScorer:
    """The scorer in folder (default: the bundled edurag/data/summary_scorer); FileNotFoundError, or ValueError when
    it was trained on other features than this code computes."""
    path = (folder or BUNDLED_SCORER_DIR) / SCORER_FILE
    with np.load(path, allow_pickle=False) as data:
        if tuple(str(f) for f in data["features"]) != FEATURES:
            raise ValueError(f"{path} was trained on features {list(data['features'])}, this code computes {list(FEATURES)}")
        return SentenceScorer(weights=data["weights"].astype(np.float64), bias=float(data["bias"][0]),
                              mean=data["mean"].astype(np.float64), scale=data["scale"].astype(np.float64),
                              embedder=str(data["embedder"][0]), dim=int(data["dim"][0]))


def read_scorer_manifest(folder: Path | None = None) -> dict[str, Any]:
    """The manifest beside the scorer (base embedder, data sha256, hyperparameters, metrics, rebuild command)."""
    return json.loads(((folder or BUNDLED_SCORER_DIR) / MANIFEST_NAME).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def bundled_scorer() -> SentenceScorer:
    """The bundled scorer, loaded once per process."""
    return load_sentence_scorer()


def scorer_for(embedder_name: str, dim: int) -> SentenceScorer | None:
    """The bundled scorer when it was trained on this embedder's vectors, else None (the summarizer then ranks by
    centrality alone)."""
    scorer = bundled_scorer()
    return scorer if scorer.embedder == embedder_name and scorer.dim == dim else None
