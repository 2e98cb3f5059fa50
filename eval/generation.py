"""Run the product's summarizer over many texts exactly as /summarize does (cleaning, budget, format, map-reduce)."""

from __future__ import annotations

from typing import Callable, Sequence

from edurag.embedder import Embedder
from edurag.generators import Generator
from edurag.summarization.service import SummaryOptions, summarize_document


def summarize_many(generator: Generator, embedder: Embedder, texts: Sequence[str], options: SummaryOptions,
                   advance: Callable[[int], None] = lambda n: None) -> list[str]:
    """One summary per text through summarize_document (the service's code path), in input order."""
    out: list[str] = []
    for text in texts:
        out.append(summarize_document(generator, embedder, text, options).summary)
        advance(1)
    return out


def lead_words(text: str, words: int) -> str:
    """The lead-N baseline: the first `words` words of the transcript (timestamps and cue numbers removed)."""
    from edurag.transcript_text import clean_text

    return " ".join(" ".join(line.split(": ", 1)[-1] for line in clean_text(text).splitlines()).split()[:words])
