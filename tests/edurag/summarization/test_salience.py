"""MEAD centroid scores: sentences carrying the transcript's recurring content words rank above talk about nothing."""

from __future__ import annotations

import numpy as np

from edurag.summarization.salience import lexical_centrality

LECTURE = [
    "Okay, so, you know, I think we are all here now.",
    "Photosynthesis turns light energy into chemical energy stored in glucose.",
    "The chloroplast is where photosynthesis happens, inside the leaf cells.",
    "Chlorophyll in the chloroplast absorbs light energy, mostly red and blue light.",
    "Any questions before we go on?",
    "The glucose made by photosynthesis feeds the plant and, through food chains, the animals that eat it.",
]


def test_content_sentences_outrank_fillers_and_procedure() -> None:
    scores = lexical_centrality(LECTURE, "en")
    assert scores.shape == (len(LECTURE),)
    assert np.all((scores >= 0) & (scores <= 1 + 1e-9))
    content, talk = scores[[1, 2, 3, 5]], scores[[0, 4]]
    assert content.min() > talk.max()
    assert talk.max() == 0.0  # nothing but stop words and speech fillers


def test_only_stop_words_give_zeros_and_empty_input_is_empty() -> None:
    assert lexical_centrality(["So, um, you know.", "Okay, yeah, right."], "en").tolist() == [0.0, 0.0]
    assert lexical_centrality([], "en").shape == (0,)


def test_unspaced_script_is_scored_by_character_ngrams() -> None:
    sentences = ["水循环是地球上最重要的自然过程。", "水受热以后蒸发，变成水蒸气。", "好的，我们开始吧。", "水蒸气遇冷凝结成云，水循环继续。"]
    scores = lexical_centrality(sentences, "zh")
    assert scores[2] < min(scores[0], scores[1], scores[3])
