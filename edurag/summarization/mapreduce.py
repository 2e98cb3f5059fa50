"""Map-reduce summarization: texts longer than the generator's window are chunked, summarized, then re-summarized."""

from __future__ import annotations

from dataclasses import dataclass

from edurag.chunking import SENTENCE_SEPARATORS, split_by_tokens
from edurag.generators import Generator
from edurag.sentences import count_words

MAX_ROUNDS = 4
MIN_CHUNK_WORDS = 15


@dataclass
class SummaryResult:
    """A summary and how many first-round chunks it was built from."""

    summary: str
    chunks: int


def split_for(generator: Generator, text: str, strategy: str) -> list[str]:
    """Token-aware chunks of a text that each fit the generator's window with its prompt."""
    budget = max(generator.window_tokens() - generator.prompt_overhead(strategy) - 8, 32)
    if generator.count_tokens(text) <= budget:
        return [text]
    return split_by_tokens(text, budget, 0, generator.count_tokens, SENTENCE_SEPARATORS)


def summarize_text(generator: Generator, text: str, strategy: str = "zero_shot", adapter: str | None = None,
                   max_words: int | None = None) -> SummaryResult:
    """Summarize one text of any length: map over window-sized chunks, reduce until one summary fits.

    With max_words, each of n chunks is summarized in max_words / n words (at least MIN_CHUNK_WORDS); when the chunk
    summaries together fit the budget they are the summary (in reading order), otherwise they are reduced within it.
    """
    chunks = split_for(generator, text, strategy)
    first_round = len(chunks)
    share = max(MIN_CHUNK_WORDS, max_words // len(chunks)) if max_words else None
    for _ in range(MAX_ROUNDS):
        summaries = generator.summarize(chunks, strategy, adapter, share if len(chunks) > 1 else max_words)
        if len(summaries) == 1:
            return SummaryResult(summary=summaries[0], chunks=first_round)
        joined = " ".join(s for s in summaries if s)
        if max_words and count_words(joined) <= max_words:
            return SummaryResult(summary=joined, chunks=first_round)
        chunks = split_for(generator, "\n".join(summaries), strategy)
        share = max(MIN_CHUNK_WORDS, max_words // len(chunks)) if max_words else None
    return SummaryResult(summary=generator.summarize(["\n".join(chunks)], strategy, adapter, max_words)[0], chunks=first_round)
