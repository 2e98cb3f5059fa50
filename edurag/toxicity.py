"""Toxicity scorers: the offline profanity-check model or an HF hate-speech classifier; eval metric and PPO reward."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol, Sequence

from edurag.models import resolve_model_path

DEFAULT_CLASSIFIER = "facebook/roberta-hate-speech-dynabench-r4-target"
PROFANITY_CHECK = "profanity-check"
_NOT_HATE_LABELS = ("nothate", "not_hate", "not hate", "non-toxic", "nontoxic", "not_toxic", "neutral", "label_0")


class ToxicityScorer(Protocol):
    """Scores texts: toxicity in [0, 1] for evaluation, reward (higher = less toxic) for PPO."""

    name: str

    def toxicity(self, texts: Sequence[str]) -> list[float]:
        """Probability that each text is toxic/hateful."""

    def reward(self, texts: Sequence[str]) -> list[float]:
        """PPO reward per text: the not-hate logit (or log-odds of not toxic)."""


@dataclass
class ProfanityCheckScorer:
    """alt-profanity-check: a scikit-learn linear model shipped in its wheel (offline)."""

    name: str = PROFANITY_CHECK

    def toxicity(self, texts: Sequence[str]) -> list[float]:
        """predict_prob of the offensive class."""
        from profanity_check import predict_prob

        return [float(p) for p in predict_prob(list(texts))] if texts else []

    def reward(self, texts: Sequence[str]) -> list[float]:
        """log((1-p)/p): the not-toxic logit of a binary classifier, like the paper's not-hate logit."""
        return [math.log(max(1 - p, 1e-6) / max(p, 1e-6)) for p in self.toxicity(texts)]


@dataclass
class HFClassifierScorer:
    """A transformers sequence classifier; the not-hate class is found by its label name, not its index."""

    model: Any
    tokenizer: Any
    name: str
    not_hate_index: int

    def _logits(self, texts: Sequence[str]) -> Any:
        import torch

        batch = self.tokenizer(list(texts), return_tensors="pt", padding=True, truncation=True, max_length=512)
        with torch.inference_mode():
            return self.model(**batch).logits

    def toxicity(self, texts: Sequence[str]) -> list[float]:
        """1 - softmax probability of the not-hate class."""
        if not texts:
            return []
        probs = self._logits(texts).softmax(-1)[:, self.not_hate_index]
        return [float(1 - p) for p in probs]

    def reward(self, texts: Sequence[str]) -> list[float]:
        """Raw logit of the not-hate class (as in the paper's PPO recipe)."""
        return [float(x) for x in self._logits(texts)[:, self.not_hate_index]] if texts else []


def not_hate_index(id2label: dict[int, str]) -> int:
    """Index of the benign class, found by name; fails loudly rather than guessing an index."""
    for index, label in id2label.items():
        if label.lower().replace("-", "_") in _NOT_HATE_LABELS or label.lower() in _NOT_HATE_LABELS:
            return int(index)
    raise ValueError(f"classifier labels {sorted(id2label.values())} have no not-hate/non-toxic class")


def load_toxicity_scorer(name_or_path: str = PROFANITY_CHECK, allow_downloads: bool = False) -> ToxicityScorer:
    """`profanity-check` or an HF sequence-classifier id/path (resolved offline-first)."""
    if name_or_path == PROFANITY_CHECK:
        return ProfanityCheckScorer()
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = resolve_model_path(name_or_path, allow_downloads)
    if path is None:
        raise FileNotFoundError(f"toxicity classifier {name_or_path!r} is not available locally; "
                                f"use {PROFANITY_CHECK!r} for the offline scorer")
    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    return HFClassifierScorer(model=model, tokenizer=tokenizer, name=str(name_or_path),
                              not_hate_index=not_hate_index(model.config.id2label))
