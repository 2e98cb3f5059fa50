"""Bloom level accuracy on labelled questions (bloom_questions_600.csv: `Questions`, `Category` BT1..BT6 =
Remember..Create; Windows-1252 text): the verb classifier against a majority-class and a verb-lookup baseline.

The questions are for evaluation only: each has a stable split from a hash of its row (the project's split rule);
anything tuned is tuned on `dev`, and `heldout` is the number to report."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from edurag.frameworks.bloom import LEVELS, classify, verb_lookup
from edurag.datasets import split_of


@dataclass
class BloomItem:
    """A labelled question."""

    text: str
    level: str
    split: str


def read_questions(path: Path) -> list[BloomItem]:
    """The labelled questions with their split (BTn -> the n-th level)."""
    with path.open(encoding="cp1252", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [BloomItem(row["Questions"].strip(), LEVELS[int(row["Category"].strip()[2:]) - 1], split_of(f"bloom-{i}"))
            for i, row in enumerate(rows)]


def accuracy_table(items: list[BloomItem], later_weight: float | None = None) -> dict[str, dict[str, float]]:
    """Accuracy per method and split; the majority class and the fallback of verb lookup come from dev only."""
    dev = [i for i in items if i.split == "dev"]
    majority = Counter(i.level for i in dev).most_common(1)[0][0]
    kwargs = {} if later_weight is None else {"later_weight": later_weight}
    methods = {
        "majority class": lambda text: majority,
        "verb lookup (first verb, lowest level)": lambda text: verb_lookup(text) or majority,
        "weighted verbs (edurag)": lambda text: classify(text, **kwargs).level or majority,
    }
    table: dict[str, dict[str, float]] = {}
    for name, predict in methods.items():
        table[name] = {}
        for split in ("dev", "heldout", "all"):
            rows = [i for i in items if split == "all" or i.split == split]
            table[name][split] = round(sum(predict(i.text) == i.level for i in rows) / len(rows), 4)
    table["questions"] = {split: float(sum(1 for i in items if split == "all" or i.split == split)) for split in ("dev", "heldout", "all")}
    return table
