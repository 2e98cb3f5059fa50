"""How long a summary should be: a word budget that grows with the input, scaled by `length`, or given as `max_words`.

The curve is a power law, budget = scale * input_words ** exponent, clamped to [MIN_WORDS, MAX_WORDS], with a sentence
cap for short inputs. It passes through two points chosen on dev data only (bench/summary_length.md):
- a median DialogSum dev dialogue (115 words) -> 30 words, 3 sentences: the best extractive ROUGE-1 over budgets
  15-50 on 200 dev dialogues (human summaries: median 18 words);
- a median Open Yale dev lecture (6,884 words) -> 290 words: the best ROUGE-1 over 240-360 on the tuning split of the
  43 dev lectures (human lecture overviews: median 240 words, which the extractive summary undershoots in content).
Meetings (summarization.meetings: three or more speakers, no teacher) have their own curve through the same dialogue
point and a median QMSum meeting (7,844 words) -> MEETING_ANCHOR words, chosen on the tune split of QMSum validation
(general summaries ~110 words; bench/summary_length.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Length = Literal["brief", "standard", "detailed"]
LENGTHS: tuple[str, ...] = ("brief", "standard", "detailed")
LENGTH_FACTORS: dict[str, float] = {"brief": 0.5, "standard": 1.0, "detailed": 2.0}


@dataclass(frozen=True)
class Curve:
    """budget = scale * input_words ** exponent (before clamping)."""

    scale: float
    exponent: float

    @classmethod
    def through(cls, short: tuple[int, int], long: tuple[int, int]) -> Curve:
        """The power law through two (input words, budget words) points."""
        exponent = math.log(long[1] / short[1]) / math.log(long[0] / short[0])
        return cls(scale=short[1] / short[0] ** exponent, exponent=exponent)


DIALOGUE_ANCHOR = (115, 30)
MEETING_ANCHOR = (7844, 130)
DEFAULT_CURVE = Curve(scale=2.16, exponent=0.554)  # through DIALOGUE_ANCHOR and (6884, 290), rounded
MEETING_CURVE = Curve.through(DIALOGUE_ANCHOR, MEETING_ANCHOR)
# A lecture's summary (summarization.service.is_lecture) is this share of the curve's budget: with the learned sentence
# scorer (summarization.sentence_scorer), 4-fold cross-validation on the lectures' tune split gave ROUGE-L 0.182 at
# 0.75 and 0.184 at 0.85 of it (and 0.179 at the full budget with alpha 3,000), ROUGE-1 0.370 / 0.377
# (bench/summary_length.md, session 8).
LECTURE_BUDGET_SHARE = 0.85
MIN_WORDS = 15
MAX_WORDS = 600
WORDS_PER_SENTENCE = 12  # the sentence cap: a 115-word dialogue keeps ~2-3 sentences
MIN_SENTENCES = 2


def budget_words(input_words: int, length: str = "standard", max_words: int | None = None,
                 curve: Curve = DEFAULT_CURVE) -> int:
    """Word budget of a summary of an input of `input_words` words (count_words units) on `curve` (MEETING_CURVE for
    meetings); max_words wins when given.

    Never more than the input itself; raises ValueError for an unknown length.
    """
    if length not in LENGTH_FACTORS:
        raise ValueError(f"unknown length {length!r}; choose one of {', '.join(LENGTHS)}")
    if max_words is not None:
        return max(1, int(max_words))
    words = curve.scale * max(input_words, 1) ** curve.exponent * LENGTH_FACTORS[length]
    return int(min(max(round(words), MIN_WORDS), MAX_WORDS * LENGTH_FACTORS[length], max(input_words, 1)))


def max_sentences(budget: int) -> int:
    """Sentences a summary of this budget may hold (short budgets: 2-3 sentences, as a reader expects of a dialogue)."""
    return max(MIN_SENTENCES, math.ceil(budget / WORDS_PER_SENTENCE))
