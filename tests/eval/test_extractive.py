"""The extractive default summarizer: batching changes nothing, short turns are skipped, budgets hold."""

from __future__ import annotations

import json

import pytest

from edurag.embedder import load_embedder
from edurag.generators import ExtractiveGenerator
from edurag.settings import Settings
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def dialogues() -> list[str]:
    return [json.loads(line)["dialogue"] for line in (FIXTURES / "dialogsum_dev40.jsonl").read_text().splitlines()[:4]]


@pytest.fixture(scope="module")
def generator() -> ExtractiveGenerator:
    return ExtractiveGenerator(load_embedder(Settings()))


def test_batched_equals_one_by_one(generator: ExtractiveGenerator, dialogues: list[str]) -> None:
    assert generator.summarize(dialogues, "zero_shot") == [generator.summarize([d], "zero_shot")[0] for d in dialogues]


def test_short_turns_are_skipped_and_speaker_tags_kept(generator: ExtractiveGenerator) -> None:
    text = ("#Person1#: Hi.\n#Person2#: Hello.\n#Person1#: I want to book a table for four people tonight.\n"
            "#Person2#: We have a table by the window at seven o'clock.\n#Person1#: Great, we will take the window table.")
    summary = generator.summarize([text], "zero_shot")[0]
    assert "Hi." not in summary and "Hello." not in summary
    assert summary.startswith("#Person1#: I want to book")


def test_sentence_cap_and_word_budget(dialogues: list[str], generator: ExtractiveGenerator) -> None:
    capped = ExtractiveGenerator(generator.embedder, sentences=1)
    budget = ExtractiveGenerator(generator.embedder, sentences=10, max_words=15)
    for text in dialogues:
        assert capped.summarize([text], "zero_shot")[0].count("#Person") == 1
        units = [u.split(":", 1)[1].split() for u in budget.summarize([text], "zero_shot")[0].split(" #Person")]
        sizes = [len(u) for u in units]
        assert sum(sizes) - min(sizes) < 15  # adding stops once the chosen sentences reach the budget
