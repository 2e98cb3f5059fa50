"""ROUGE scoring against hand-computed values, reference loading, and shots that never leak the scored example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edurag.prompts import STRATEGIES, Shot, summary_prompt
from eval.rouge import load_summary_items, score_multi, score_pairs

# Pair 1: 6 tokens each, unigram overlap the,the,cat,on,mat = 5; bigram overlap the-cat,on-the,the-mat = 3 of 5; LCS 5.
# Pair 2 after Porter stemming (tokens longer than 3 chars): [dog, are, run] vs [a, dog, run, fast]:
# unigram overlap 2 -> P 2/3, R 2/4, F 4/7; no common bigram; LCS "dog run" = 2 -> F 4/7.
PREDICTIONS = ["the cat sat on the mat", "dogs are running"]
REFERENCES = ["the cat lay on the mat", "a dog runs fast"]


def test_single_reference_matches_hand_computed() -> None:
    scores = score_pairs(PREDICTIONS, REFERENCES)
    assert scores["rouge1"] == pytest.approx((5 / 6 + 4 / 7) / 2)
    assert scores["rouge2"] == pytest.approx((3 / 5 + 0) / 2)
    assert scores["rougeL"] == pytest.approx((5 / 6 + 4 / 7) / 2)
    assert scores["rougeLsum"] == pytest.approx(scores["rougeL"])


def test_multi_reference_takes_the_best_reference_per_item() -> None:
    scores = score_multi(PREDICTIONS, [[REFERENCES[1], REFERENCES[0]], [REFERENCES[1]]])
    assert scores["rouge1"] == pytest.approx((5 / 6 + 4 / 7) / 2)
    worse = score_pairs(PREDICTIONS, [REFERENCES[1], REFERENCES[1]])
    assert worse["rouge1"] < scores["rouge1"]


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError):
        score_pairs(PREDICTIONS, REFERENCES[:1])


def test_dialogsum_test_rows_keep_summary1_first(tmp_path: Path) -> None:
    path = tmp_path / "test.jsonl"
    row = {"fname": "t0", "dialogue": "#Person1#: Hi.", "summary2": "second", "summary1": "first", "summary3": "third"}
    path.write_text(json.dumps(row) + "\n" + json.dumps({"dialogue": "x", "summary": "only"}) + "\n")
    items = load_summary_items(path)
    assert items[0].references == ("first", "second", "third")
    assert items[1].references == ("only",) and items[1].id == "1"
    assert len(load_summary_items(path, limit=1)) == 1


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_prompts_never_show_the_scored_example_as_a_shot(strategy: str) -> None:
    scored = Shot(dialogue="#Person1#: Where is the library?\n#Person2#: Next to the gym.", summary="SCORED-SUMMARY")
    others = [Shot(dialogue=f"#Person1#: question {i}\n#Person2#: answer {i}", summary=f"summary {i}") for i in range(3)]
    prompt = summary_prompt(scored.dialogue, strategy, [scored, *others], few_shot_k=2)
    assert prompt.count(scored.dialogue) == 1
    assert "SCORED-SUMMARY" not in prompt
    if strategy != "zero_shot":
        assert "summary 0" in prompt


def test_a_shot_list_made_only_of_the_scored_example_is_refused() -> None:
    scored = Shot(dialogue="#Person1#: Hello.", summary="greeting")
    with pytest.raises(ValueError):
        summary_prompt(scored.dialogue, "one_shot", [scored])


def test_named_fields_for_other_layouts(tmp_path: Path) -> None:
    path = tmp_path / "lectures.jsonl"
    path.write_text(json.dumps({"transcript": "Today we study cells.", "lecture_description": "Cells.", "summary": "x"}) + "\n")
    items = load_summary_items(path, text_field="transcript", summary_field="lecture_description")
    assert items[0].text == "Today we study cells." and items[0].references == ("Cells.",)


def test_qmsum_meetings_read_turns_and_the_general_answer(tmp_path: Path) -> None:
    path = tmp_path / "qmsum.jsonl"
    meeting = {"topic_list": [], "specific_query_list": [{"query": "What about budgets?", "answer": "Not this one."}],
               "general_query_list": [{"query": "Summarize the whole meeting.", "answer": "The board set the budget."}],
               "meeting_transcripts": [{"speaker": "Chair", "content": "Let us {disfmarker} set the budget ."},
                                       {"speaker": "Member C", "content": "{vocalsound}"},
                                       {"speaker": "Member B", "content": "I agree . {comment}"}]}
    path.write_text(json.dumps(meeting) + "\n")
    items = load_summary_items(path)
    assert items[0].text == "Chair: Let us set the budget .\nMember B: I agree ."
    assert items[0].references == ("The board set the budget.",)


def test_greedy_oracle_stays_in_budget_and_beats_every_single_choice() -> None:
    from edurag.sentences import count_words
    from eval.rouge import greedy_rouge_l_oracle, make_scorer

    sentences = ["Okay so let us begin.", "Supply and demand set the price of goods in a market.",
                 "I had coffee this morning.", "When the price rises, demand for the goods falls.",
                 "Any questions so far?", "Governments sometimes fix prices, which causes shortages."]
    words = [count_words(s) for s in sentences]
    reference = "The lecture explains how supply and demand set the price of goods and why fixed prices cause shortages."
    scorer = make_scorer()

    def f(indexes: list[int]) -> float:
        return scorer.score(reference, " ".join(sentences[i] for i in indexes))["rougeL"].fmeasure

    for budget in (12, 25, 40):
        chosen = greedy_rouge_l_oracle(sentences, words, reference, budget)
        assert chosen == sorted(chosen) and sum(words[i] for i in chosen) <= budget
        assert all(f(chosen) >= f([i]) for i in range(len(sentences)) if words[i] <= budget)
    assert greedy_rouge_l_oracle(sentences, words, reference, 40) == [1, 5]  # the off-topic sentences only dilute it
    assert greedy_rouge_l_oracle(sentences, words, reference, 3) == []  # nothing fits
