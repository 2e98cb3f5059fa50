"""How long a summary should be: a word budget that grows with the input, scaled by `length`, or given as `max_words`.

The curve is a power law, budget = SCALE * input_words ** EXPONENT, clamped to [MIN_WORDS, MAX_WORDS], with a sentence
cap for short inputs. It passes through two points chosen on dev data only (bench/summary_length.md):
- a median DialogSum dev dialogue (115 words) -> 30 words, 3 sentences: the best extractive ROUGE-1 over budgets
  15-50 on 200 dev dialogues (human summaries: median 18 words);
- a median Open Yale dev lecture (6,884 words) -> 290 words: the best ROUGE-1 over 240-360 on the tuning split of the
  43 dev lectures (human lecture overviews: median 240 words, which the extractive summary undershoots in content).
QMSum meetings (median 7,844 words, general summaries ~110 words) get ~310 words: lectures are what this is tuned for.
"""

from __future__ import annotations

import math
from typing import Literal

Length = Literal["brief", "standard", "detailed"]
LENGTHS: tuple[str, ...] = ("brief", "standard", "detailed")
LENGTH_FACTORS: dict[str, float] = {"brief": 0.5, "standard": 1.0, "detailed": 2.0}

SCALE = 2.16
EXPONENT = 0.554
MIN_WORDS = 15
MAX_WORDS = 600
WORDS_PER_SENTENCE = 12  # the sentence cap: a 115-word dialogue keeps ~2-3 sentences
MIN_SENTENCES = 2


def budget_words(input_words: int, length: str = "standard", max_words: int | None = None) -> int:
    """Word budget of a summary of an input of `input_words` words (count_words units); max_words wins when given.

    Never more than the input itself; raises ValueError for an unknown length.
    """
    if length not in LENGTH_FACTORS:
        raise ValueError(f"unknown length {length!r}; choose one of {', '.join(LENGTHS)}")
    if max_words is not None:
        return max(1, int(max_words))
    curve = SCALE * max(input_words, 1) ** EXPONENT * LENGTH_FACTORS[length]
    return int(min(max(round(curve), MIN_WORDS), MAX_WORDS * LENGTH_FACTORS[length], max(input_words, 1)))


def max_sentences(budget: int) -> int:
    """Sentences a summary of this budget may hold (short budgets: 2-3 sentences, as a reader expects of a dialogue)."""
    return max(MIN_SENTENCES, math.ceil(budget / WORDS_PER_SENTENCE))
