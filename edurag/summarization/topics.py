"""Topic sections of a long transcript: TextTiling (Hearst 1997) over sentence embeddings instead of word counts.

At each gap between sentences, the cosine between the mean vectors of the blocks before and after it measures lexical
cohesion; a topic shift is a valley in that curve. A valley's depth is how far the curve climbs on both sides before it
falls again; gaps deeper than mean - std/2 (Hearst's cutoff) are candidates, taken deepest first while every section
keeps a minimum length.
"""

from __future__ import annotations

import numpy as np

BLOCK_WORDS = 200  # Hearst's blocks: about 10 pseudo-sentences of 20 tokens
MIN_SECTION_WORDS = 250
WORDS_PER_SECTION = 900  # a 50-minute lecture (~7,000 words) gets ~7 sections, like Open Yale Courses' chapter lists
MAX_SECTIONS = 12


def gap_scores(vectors: np.ndarray, block: int) -> np.ndarray:
    """Cohesion at each gap i (between sentence i-1 and i), i = 1..n-1: cosine of the neighbouring blocks' means."""
    n = len(vectors)
    cumulative = np.vstack([np.zeros((1, vectors.shape[1])), np.cumsum(vectors, axis=0)])
    scores = np.zeros(max(n - 1, 0))
    for i in range(1, n):
        left = cumulative[i] - cumulative[max(0, i - block)]
        right = cumulative[min(n, i + block)] - cumulative[i]
        denominator = np.linalg.norm(left) * np.linalg.norm(right)
        scores[i - 1] = float(left @ right / denominator) if denominator else 1.0
    return scores


def depth_scores(scores: np.ndarray) -> np.ndarray:
    """Hearst's depth: climb left and right while the score rises; depth = (left peak - s) + (right peak - s)."""
    depths = np.zeros_like(scores)
    for i, score in enumerate(scores):
        left = i
        while left > 0 and scores[left - 1] >= scores[left]:
            left -= 1
        right = i
        while right < len(scores) - 1 and scores[right + 1] >= scores[right]:
            right += 1
        depths[i] = (scores[left] - score) + (scores[right] - score)
    return depths


def section_starts(vectors: np.ndarray, words: np.ndarray, max_sections: int | None = None) -> list[int]:
    """Indexes of the first sentence of each section (always starting with 0).

    vectors: (n, dim) unit sentence vectors in reading order; words: (n,) words per sentence. The number of sections
    is at most total words / WORDS_PER_SECTION, max_sections and MAX_SECTIONS; short texts are one section.
    """
    n = len(vectors)
    total = int(words.sum())
    limit = min(max_sections or MAX_SECTIONS, MAX_SECTIONS, total // WORDS_PER_SECTION)
    if n < 4 or limit <= 1:
        return [0]
    block = int(np.clip(round(BLOCK_WORDS / max(words.mean(), 1)), 2, max(2, n // 4)))
    raw = gap_scores(vectors.astype(np.float64), block)
    smooth = np.convolve(np.pad(raw, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    depths = depth_scores(smooth)
    cutoff = depths.mean() - depths.std() / 2
    position = np.concatenate([[0], np.cumsum(words)])  # words before sentence i
    min_words = max(MIN_SECTION_WORDS, total // (limit * 3))
    starts = [0]
    for gap in np.argsort(-depths):
        if depths[gap] <= max(cutoff, 0) or len(starts) >= limit:
            break
        start = int(gap) + 1
        edges = sorted(starts + [start]) + [n]
        if all(position[b] - position[a] >= min_words for a, b in zip(edges, edges[1:])):
            starts.append(start)
    return sorted(starts)
