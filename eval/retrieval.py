"""Retrieval accuracy over plain dicts: hit@k, recall@k and MRR with sub-standard roll-up and cluster tags."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from statistics import fmean
from typing import Callable, Iterable, Sequence

import numpy as np

from edurag.standards import Catalog

logger = logging.getLogger(__name__)

Retriever = Callable[[str, int, dict], list[str]]
PRIMARY_METRIC = "mrr"


@dataclass(frozen=True)
class RetrievalItem:
    """A query text, the standard codes it is tagged with, retrieval filters and labels for breakdowns."""

    id: str
    text: str
    standard_ids: tuple[str, ...]
    filters: dict = field(default_factory=dict, hash=False)
    grade: str = ""
    domain: str = ""
    source: str = ""
    grade_from_tags: bool = False


class CodeNormalizer:
    """Turns tagged codes into groups of acceptable standards and retrieved codes into standards."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def group(self, code: str) -> frozenset[str]:
        """Standards that satisfy one tag: itself rolled up, or every standard under a cluster/domain tag."""
        node = self.catalog.resolve(code)
        if node is None or node.level in ("Standard", "Sub-standard"):
            return frozenset({self.catalog.standard_of(code)})
        found: set[str] = set()
        stack = list(node.children)
        while stack:
            child = self.catalog.get(stack.pop())
            if child is None:
                continue
            if child.level == "Standard":
                found.add(child.code)
            elif child.level != "Sub-standard":
                stack += child.children
        return frozenset(found or {node.code})


def item_metrics(ranked: Sequence[str], groups: Sequence[frozenset[str]], ks: Sequence[int]) -> dict[str, float]:
    """hit@k (any tag found in the top k), recall@k (share of tags found) and reciprocal rank within max(ks)."""
    deduped = list(dict.fromkeys(ranked))[:max(ks)]
    first_rank = {}
    for index, group in enumerate(groups):
        first_rank[index] = next((rank for rank, code in enumerate(deduped, 1) if code in group), None)
    found = [r for r in first_rank.values() if r is not None]
    out: dict[str, float] = {}
    for k in ks:
        within = sum(1 for r in found if r <= k)
        out[f"hit@{k}"] = 1.0 if within else 0.0
        out[f"recall@{k}"] = within / len(groups)
    out["mrr"] = 1.0 / min(found) if found else 0.0
    return out


@dataclass
class RetrievalResult:
    """Aggregated metrics, per-item rows and breakdowns by grade and by domain."""

    metrics: dict[str, float]
    per_item: list[dict]
    breakdown: dict[str, dict[str, dict[str, float]]]
    primary_metric: str = PRIMARY_METRIC


class RetrievalEvaluator:
    """Scores a retriever (text, k, filters -> ranked codes) on items; arithmetic only, no models."""

    def __init__(self, items: Sequence[RetrievalItem], normalizer: CodeNormalizer, ks: Sequence[int] = (1, 5, 10)) -> None:
        if not items:
            raise ValueError("no retrieval items to evaluate")
        self.items = list(items)
        self.normalizer = normalizer
        self.ks = sorted(set(ks))

    def __call__(self, retrieve: Retriever, progress: Callable[[Iterable], Iterable] = iter) -> RetrievalResult:
        """Retrieve max(ks) standards per item and aggregate the metrics."""
        rows = []
        for item in progress(self.items):
            groups = list(dict.fromkeys(self.normalizer.group(code) for code in item.standard_ids))
            ranked = [self.normalizer.catalog.standard_of(code) for code in retrieve(item.text, max(self.ks), dict(item.filters))]
            metrics = item_metrics(ranked, groups, self.ks)
            rows.append({"id": item.id, "grade": item.grade, "domain": item.domain, "source": item.source,
                         "gold": list(item.standard_ids), "retrieved": ranked, **metrics})
        names = [k for k in rows[0] if k.startswith(("hit@", "recall@")) or k == "mrr"]
        return RetrievalResult(
            metrics=_mean(rows, names),
            per_item=rows,
            breakdown={by: _grouped(rows, by, names) for by in ("grade", "domain", "source")},
        )


RELIABILITY_BINS = (0.0, 0.1, 0.2, 0.35, 0.5, 0.7, 1.0)


def reliability_table(confidences: Sequence[float], tagged: Sequence[bool],
                      bins: Sequence[float] = RELIABILITY_BINS) -> list[dict[str, float | str]]:
    """Calibration of returned standards: per confidence bin, how many, their mean confidence and the share that the
    publisher tagged (a calibrated model has mean confidence close to the tagged share in every bin)."""
    confidence, hit = np.asarray(confidences, dtype=float), np.asarray(tagged, dtype=float)
    table: list[dict[str, float | str]] = []
    for low, high in zip(bins, bins[1:]):
        inside = (confidence >= low) & ((confidence < high) if high < bins[-1] else (confidence <= high))
        if inside.any():
            table.append({"bin": f"{low:.2f}-{high:.2f}", "standards": int(inside.sum()),
                          "mean_confidence": round(float(confidence[inside].mean()), 3),
                          "tagged_share": round(float(hit[inside].mean()), 3)})
    return table


def _mean(rows: Sequence[dict], names: Sequence[str]) -> dict[str, float]:
    return {name: fmean(r[name] for r in rows) for name in names} | {"items": float(len(rows))}


def _grouped(rows: Sequence[dict], key: str, names: Sequence[str]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[row[key] or "?"].append(row)
    return {name: _mean(members, names) for name, members in sorted(groups.items())}
