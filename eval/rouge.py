"""ROUGE evaluation of summaries: DialogSum-style data, generation through the service's code, rouge-score scoring."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Iterable, Sequence

from rapidfuzz.distance import LCSseq
from rouge_score import rouge_scorer, scoring
from rouge_score.tokenizers import DefaultTokenizer

from edurag.datasets import iter_jsonl

logger = logging.getLogger(__name__)

ROUGE_TYPES: tuple[str, ...] = ("rouge1", "rouge2", "rougeL", "rougeLsum")


@dataclass(frozen=True)
class SummaryItem:
    """One text to summarize with its reference summaries (the first one is the paper's single reference)."""

    id: str
    text: str
    references: tuple[str, ...]


def load_summary_items(path: Path, limit: int | None = None, text_field: str | None = None,
                       summary_field: str | None = None) -> list[SummaryItem]:
    """Read jsonl rows with `dialogue` (or `text`) and `summary` or `summary1..N` (DialogSum test has three);
    QMSum meetings (`meeting_transcripts` turns, reference = the answer to the general query) are recognised by their
    fields; other layouts (e.g. lectures: transcript / lecture_description) name their fields."""
    items: list[SummaryItem] = []
    for number, row in iter_jsonl(path):
        if "meeting_transcripts" in row and not (text_field or summary_field):
            row = _qmsum_row(row)
        if summary_field:
            refs = [row[summary_field]] if row.get(summary_field) else []
        else:
            refs = [row["summary"]] if row.get("summary") else []
            refs += [row[key] for key in sorted(k for k in row if k.startswith("summary") and k[7:].isdigit()) if row[key]]
        text = row.get(text_field or "dialogue") or ("" if text_field else row.get("text")) or ""
        if not text or not refs:
            raise ValueError(f"{path}:{number} has no text or no reference summary")
        items.append(SummaryItem(id=str(row.get("fname") or row.get("id") or number - 1), text=text, references=tuple(refs)))
        if limit is not None and len(items) >= limit:
            break
    return items


_QMSUM_MARKUP = re.compile(r"\s*\{(?:disfmarker|vocalsound|nonvocalsound|gap|pause|comment)\}")


def _qmsum_row(row: dict) -> dict:
    """A QMSum meeting as `text` ("Speaker: words" per turn, without the ICSI/AMI annotation tokens such as
    {disfmarker} and {vocalsound}; turns left empty are dropped) and `summary` (the general query's answer)."""
    contents = [(t["speaker"], _QMSUM_MARKUP.sub("", t["content"]).strip()) for t in row["meeting_transcripts"]]
    turns = "\n".join(f"{speaker}: {content}" for speaker, content in contents if content)
    general = [q["answer"] for q in row.get("general_query_list") or [] if q.get("answer")]
    return {"text": turns, "summary": general[0] if general else ""}


def make_scorer() -> rouge_scorer.RougeScorer:
    """The paper's setting: rouge1/2/L/Lsum with the Porter stemmer (as `evaluate`'s rouge metric builds it)."""
    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)


def score_pairs(predictions: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Mean F-measure per ROUGE type against one reference each (the paper's aggregated F-measure)."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    scorer = make_scorer()
    rows = [scorer.score(ref, pred) for pred, ref in zip(predictions, references)]
    return _mean_f(rows)


def score_multi(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> dict[str, float]:
    """Mean over examples of the best F-measure among each example's references (rouge-score's score_multi)."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} reference lists")
    scorer = make_scorer()
    return _mean_f([scorer.score_multi(list(refs), pred) for pred, refs in zip(predictions, references)])


def confidence_intervals(predictions: Sequence[str], references: Sequence[str]) -> dict[str, list[float]]:
    """95% bootstrap interval of each mean F-measure (rouge-score's BootstrapAggregator)."""
    scorer = make_scorer()
    aggregator = scoring.BootstrapAggregator()
    for pred, ref in zip(predictions, references):
        aggregator.add_scores(scorer.score(ref, pred))
    result = aggregator.aggregate()
    return {t: [round(result[t].low.fmeasure, 4), round(result[t].high.fmeasure, 4)] for t in ROUGE_TYPES}


def _mean_f(rows: Iterable[dict[str, scoring.Score]]) -> dict[str, float]:
    """Plain mean of F-measures: deterministic, which the bootstrap `mid` only estimates."""
    rows = list(rows)
    if not rows:
        return {t: 0.0 for t in ROUGE_TYPES}
    return {t: fmean(r[t].fmeasure for r in rows) for t in ROUGE_TYPES}


def per_item_scores(ids: Sequence[str], predictions: Sequence[str], references: Sequence[str]) -> list[dict[str, float | str]]:
    """F-measure per item and ROUGE type, with the prediction's word count (for split-wise and length analysis)."""
    scorer = make_scorer()
    rows: list[dict[str, float | str]] = []
    for item_id, pred, ref in zip(ids, predictions, references):
        scores = scorer.score(ref, pred)
        rows.append({"id": item_id, "words": len(pred.split()), **{t: round(scores[t].fmeasure, 4) for t in ROUGE_TYPES}})
    return rows


def greedy_rouge_l_oracle(sentences: Sequence[str], words: Sequence[int], reference: str, budget: int) -> list[int]:
    """The extractive upper bound for ROUGE-L: indexes (reading order) of the sentences a greedy search picks to
    maximise ROUGE-L F against the reference, never more than `budget` words in total (count `words` per sentence).

    Each step adds the sentence (kept in reading order) that raises F most and stops when none does, as the usual
    greedy oracle for extractive labels (Nallapati et al. 2017) does for ROUGE-1/2. Tokens are rouge-score's (stemmed,
    so the F is the one `make_scorer` reports); the LCS is rapidfuzz's (C++), because rouge-score's pure-Python LCS
    would take minutes per lecture over hundreds of candidates and steps.
    """
    tokenizer = DefaultTokenizer(use_stemmer=True)
    target = tokenizer.tokenize(reference)
    tokens = [tokenizer.tokenize(s) for s in sentences]
    chosen: list[int] = []
    used = 0
    best = 0.0
    while True:
        step: tuple[float, int] | None = None
        for i, sentence_tokens in enumerate(tokens):
            if i in chosen or not sentence_tokens or used + words[i] > budget:
                continue
            order = sorted(chosen + [i])
            candidate = [t for j in order for t in tokens[j]]
            common = LCSseq.similarity(candidate, target)
            f = 2 * common / (len(candidate) + len(target)) if common else 0.0
            if f > best and (step is None or f > step[0]):
                step = (f, i)
        if step is None:
            return sorted(chosen)
        best, index = step
        chosen.append(index)
        used += words[index]
