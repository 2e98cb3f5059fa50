"""The paper's prompt templates, rendered by one module."""

import pytest

from edurag.prompts import Shot, rag_prompt, shots_prompt, summary_prompt, zero_shot_prompt
from edurag.settings import BUNDLED_SHOTS_FILE
from edurag.prompts import load_shots


def test_zero_shot_template_is_the_papers():
    assert zero_shot_prompt("A: hi") == "Summarize the following conversation.\n\nA: hi\n\nSummary: "


def test_few_shot_uses_flan_template_with_blank_line_separators():
    shots = [Shot("d1", "s1"), Shot("d2", "s2")]
    assert shots_prompt("d3", shots) == (
        "Dialogue:\n\nd1\n\nWhat was going on?\ns1\n\n\n"
        "Dialogue:\n\nd2\n\nWhat was going on?\ns2\n\n\n"
        "Dialogue:\n\nd3\n\nWhat was going on?"
    )


def test_strategies_pick_shot_counts_and_never_use_the_input_as_a_shot():
    shots = [Shot("same", "x"), Shot("d2", "s2"), Shot("d3", "s3")]
    one = summary_prompt("same", "one_shot", shots)
    assert one.count("What was going on?") == 2 and "d2" in one and "\nx\n" not in one
    few = summary_prompt("same", "few_shot", shots, few_shot_k=2)
    assert few.count("What was going on?") == 3 and "\nx\n" not in few


def test_unknown_strategy_and_missing_shots_fail_clearly():
    with pytest.raises(ValueError, match="unknown strategy"):
        summary_prompt("d", "two_shot", [])
    with pytest.raises(ValueError, match="needs 2"):
        summary_prompt("d", "few_shot", [Shot("a", "b")])


def test_rag_prompt_lists_codes():
    prompt = rag_prompt("Which standard?", [("6.RP.A.3", "Use ratio reasoning")])
    assert "[6.RP.A.3] Use ratio reasoning" in prompt and prompt.endswith("Question: Which standard?\n\nAnswer:")


def test_bundled_shots_load():
    assert len(load_shots(BUNDLED_SHOTS_FILE)) >= 2
