"""Score POST /ask on labelled questions: intent accuracy and the share answered with the right codes cited.

An item (jsonl: id, split dev|held_out, question, intent, expected codes, optional request, not_found, suggest,
ambiguous, any) counts as answered when no cited code is invented (every citation is a catalog code) and:
- it names only unknown codes (`not_found`): the answer says "not found", lists the code in `unresolved` and cites
  the `suggest` codes when given;
- otherwise at least 60% of the expected codes are cited (one of them when `any`), no named code was left
  unresolved, and an `ambiguous` item's answer says so.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from edurag.ask import Answer

COVERAGE = 0.6


@dataclass(frozen=True)
class AskItem:
    """One labelled question."""

    id: str
    split: str
    question: str
    intent: str
    expected: tuple[str, ...]
    request: dict[str, Any]
    not_found: bool = False
    suggest: tuple[str, ...] = ()
    ambiguous: bool = False
    any: bool = False


@dataclass(frozen=True)
class AskScore:
    """How one item was answered."""

    item: AskItem
    intent: str
    coverage: float
    invented: tuple[str, ...]
    answered: bool


def load_items(path: Path) -> list[AskItem]:
    """Read labelled questions from jsonl."""
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [AskItem(id=r["id"], split=r["split"], question=r["question"], intent=r["intent"],
                    expected=tuple(r["expected"]), request=r.get("request", {}), not_found=r.get("not_found", False),
                    suggest=tuple(r.get("suggest", ())), ambiguous=r.get("ambiguous", False), any=r.get("any", False))
            for r in rows]


def score(item: AskItem, answer: Answer, known: Callable[[str], bool]) -> AskScore:
    """Score one answer against its item; `known(code)` tells whether a code is in the catalog."""
    cited = set(answer.citations)
    invented = tuple(code for code in answer.citations if not known(code))
    coverage = len(cited & set(item.expected)) / len(item.expected) if item.expected else 1.0
    if item.not_found:
        ok = "not found" in answer.answer and bool(answer.unresolved) and set(item.suggest) <= cited
    else:
        ok = (coverage > 0 if item.any else coverage >= COVERAGE) and not answer.unresolved
        ok = ok and (not item.ambiguous or "ambiguous" in answer.answer)
    return AskScore(item=item, intent=answer.intent, coverage=coverage, invented=invented, answered=ok and not invented)


def summarize(scores: Iterable[AskScore]) -> dict[str, dict[str, float]]:
    """Per split (and all): items, intent accuracy, answered share, mean coverage, invented citations."""
    groups: dict[str, list[AskScore]] = defaultdict(list)
    for s in scores:
        groups[s.item.split].append(s)
        groups["all"].append(s)
    return {split: {"items": len(group), "intent_accuracy": sum(s.intent == s.item.intent for s in group) / len(group),
                    "answered": sum(s.answered for s in group) / len(group),
                    "mean_coverage": sum(s.coverage for s in group) / len(group),
                    "invented": sum(len(s.invented) for s in group)}
            for split, group in groups.items()}


def confusions(scores: Iterable[AskScore]) -> Counter:
    """(labelled intent, detected intent) pairs that differ, counted."""
    return Counter((s.item.intent, s.intent) for s in scores if s.intent != s.item.intent)
