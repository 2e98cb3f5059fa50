"""Toxicity of generated summaries: mean and std of a scorer's toxic/hate probability (the paper's detox metric)."""

from __future__ import annotations

from statistics import fmean, pstdev
from typing import Sequence

from edurag.toxicity import ToxicityScorer


def toxicity_stats(scores: Sequence[float]) -> dict[str, float]:
    """Mean and population std (numpy's default, as the paper's np.std) of toxicity scores."""
    if not scores:
        raise ValueError("no texts were scored")
    return {"toxicity_mean": fmean(scores), "toxicity_std": pstdev(scores), "items": float(len(scores))}


def score_texts(scorer: ToxicityScorer, texts: Sequence[str], batch_size: int = 32) -> list[float]:
    """Toxicity per text, scored in batches."""
    scores: list[float] = []
    for start in range(0, len(texts), batch_size):
        scores += scorer.toxicity(list(texts[start:start + batch_size]))
    return scores
