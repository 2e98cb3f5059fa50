"""Every prompt edurag sends to a generator: the paper's summary templates, shot builders and the RAG prompt."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence, get_args

from edurag.datasets import read_jsonl

Strategy = Literal["zero_shot", "one_shot", "few_shot"]  # the paper's prompt strategies; API and CLI accept these
STRATEGIES: tuple[str, ...] = get_args(Strategy)

ZERO_SHOT_TEMPLATE = "Summarize the following conversation.\n\n{dialogue}\n\nSummary: "
FLAN_TEMPLATE = "Dialogue:\n\n{dialogue}\n\nWhat was going on?"
SHOT_SEPARATOR = "\n\n\n"
RAG_TEMPLATE = (
    "Answer the teacher's question using only the curriculum standards below. Cite every standard you use "
    "by its code in square brackets, e.g. [6.RP.A.3]. If none of them fits, say that no standard matches well.\n\n"
    "Standards:\n{context}\n\nQuestion: {question}\n\nAnswer:"
)

NO_MATCH = "No standard matches this text well; try describing the lesson objective in more detail or removing filters."


@dataclass(frozen=True)
class Shot:
    """A solved example: a dialogue and its reference summary."""

    dialogue: str
    summary: str


def zero_shot_prompt(dialogue: str) -> str:
    """The paper's instruction prompt; also the training input of every fine-tune."""
    return ZERO_SHOT_TEMPLATE.format(dialogue=dialogue)


def shots_prompt(dialogue: str, shots: Sequence[Shot]) -> str:
    """One/few-shot prompt: solved FLAN examples separated by blank lines, then the unsolved dialogue."""
    solved = "".join(FLAN_TEMPLATE.format(dialogue=s.dialogue) + f"\n{s.summary}{SHOT_SEPARATOR}" for s in shots)
    return solved + FLAN_TEMPLATE.format(dialogue=dialogue)


def check_strategy(strategy: str) -> Strategy:
    """The strategy itself when it is one of STRATEGIES, else ValueError naming the choices."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    return strategy  # type: ignore[return-value]


def summary_prompt(dialogue: str, strategy: str, shots: Sequence[Shot] = (), few_shot_k: int = 2) -> str:
    """Render the summary prompt for a strategy; shots must come from data other than the scored dialogue."""
    if check_strategy(strategy) == "zero_shot":
        return zero_shot_prompt(dialogue)
    wanted = 1 if strategy == "one_shot" else few_shot_k
    usable = [s for s in shots if s.dialogue.strip() != dialogue.strip()][:wanted]
    if len(usable) < wanted:
        raise ValueError(f"{strategy} needs {wanted} example(s) distinct from the input, got {len(usable)}")
    return shots_prompt(dialogue, usable)


def rag_prompt(question: str, context: Sequence[tuple[str, str]]) -> str:
    """The retrieval-augmented prompt: the question plus retrieved items as (code or source, text) pairs."""
    lines = "\n".join(f"[{code}] {text}" for code, text in context)
    return RAG_TEMPLATE.format(context=lines or "(none retrieved)", question=question)


def load_shots(path: Path) -> list[Shot]:
    """Read solved examples from a jsonl file with `dialogue` and `summary` fields."""
    return [Shot(dialogue=r["dialogue"], summary=r["summary"]) for r in read_jsonl(path)]
