"""Run a generator over many texts exactly as the service does, batching the texts that fit one window."""

from __future__ import annotations

from typing import Callable, Sequence

from edurag.generators import Generator
from edurag.summarization.mapreduce import split_for, summarize_text


def summarize_many(generator: Generator, texts: Sequence[str], strategy: str = "zero_shot", adapter: str | None = None,
                   batch_size: int = 8, advance: Callable[[int], None] = lambda n: None) -> list[str]:
    """One summary per text: texts within the window go to `generator.summarize` in batches (summarize_text's
    single-chunk path), longer ones through `summarize_text` map-reduce."""
    out: list[str | None] = [None] * len(texts)
    pending: list[int] = []

    def flush() -> None:
        for index, summary in zip(pending, generator.summarize([texts[i] for i in pending], strategy, adapter)):
            out[index] = summary
        advance(len(pending))
        pending.clear()

    for index, text in enumerate(texts):
        if len(split_for(generator, text, strategy)) > 1:
            out[index] = summarize_text(generator, text, strategy, adapter).summary
            advance(1)
            continue
        pending.append(index)
        if len(pending) >= batch_size:
            flush()
    if pending:
        flush()
    return [s or "" for s in out]
