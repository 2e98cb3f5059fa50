"""Map-reduce summarization: texts longer than the generator's window are chunked, summarized, then re-summarized."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from edurag.generators import Generator

MAX_ROUNDS = 4


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
    splitter = RecursiveCharacterTextSplitter(chunk_size=budget, chunk_overlap=0, separators=["\n\n", "\n", ". ", " ", ""],
                                              length_function=generator.count_tokens)
    return splitter.split_text(text)


def summarize_text(generator: Generator, text: str, strategy: str = "zero_shot", adapter: str | None = None) -> SummaryResult:
    """Summarize one text of any length: map over window-sized chunks, reduce until one summary fits."""
    chunks = split_for(generator, text, strategy)
    first_round = len(chunks)
    for _ in range(MAX_ROUNDS):
        summaries = generator.summarize(chunks, strategy, adapter)
        if len(summaries) == 1:
            return SummaryResult(summary=summaries[0], chunks=first_round)
        chunks = split_for(generator, "\n".join(summaries), strategy)
    return SummaryResult(summary=generator.summarize(["\n".join(chunks)], strategy, adapter)[0], chunks=first_round)
