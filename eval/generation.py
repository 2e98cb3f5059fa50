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


def oracle_summary(text: str, reference: str, options: SummaryOptions) -> str:
    """The greedy ROUGE-L oracle (eval.rouge.greedy_rouge_l_oracle) over the sentence units the summarizer itself
    extracts from, within the same word budget: how high extraction could go with perfect sentence choice. Sentences
    are rendered as the summary renders them (speaker attribution included)."""
    from edurag.generators import render_unit
    from edurag.sentences import count_words
    from edurag.summarization.service import prepare_text
    from eval.rouge import greedy_rouge_l_oracle

    prepared = prepare_text(text, options)
    sentences = [render_unit(u.speaker, u.text, prepared.attribute) for u in prepared.units]
    chosen = greedy_rouge_l_oracle(sentences, [count_words(s) for s in sentences], reference, prepared.budget)
    return " ".join(sentences[i] for i in chosen)
