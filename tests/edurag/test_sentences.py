"""Sentence units: sentencex's sentences, re-segmented when an unpaired quotation mark joined them, then bounded."""

from __future__ import annotations

import pytest

from edurag.sentences import bound_sentence, count_words, split_sentences

# An apostrophe before a year opens what sentencex takes for a quotation, closed only by the possessive apostrophe
# three sentences later (as in the Open Yale lecture whose 2,248-word "sentence" this fixes).
ELISION = "In '88, he decides to run again. He wins the Michigan primary. Party leaders worry about the states' rights."


def test_an_unpaired_quotation_mark_does_not_join_sentences():
    assert len(split_sentences(ELISION, "en")) == 1  # sentencex alone reads the rest of the text as one quotation
    sentences = split_sentences(ELISION, "en", max_words=12)
    assert sentences == ["In '88, he decides to run again.", "He wins the Michigan primary.",
                         "Party leaders worry about the states' rights."]


def test_sentences_within_the_bound_and_paired_quotes_are_left_as_sentencex_gives_them():
    text = 'He said "Stop. Wait here." Then he left. Everyone stayed.'
    assert split_sentences(text, "en", max_words=10) == split_sentences(text, "en")
    assert split_sentences(ELISION, "en", max_words=30) == [ELISION]


def test_an_opening_quotation_mark_stays_with_its_sentence():
    text = "In '88 the crowd waited for him. \"Have him do something.\" Nobody expected the states' rights to matter."
    assert split_sentences(text, "en", max_words=8) == [
        "In '88 the crowd waited for him.", '"Have him do something."', "Nobody expected the states' rights to matter."]


def test_a_run_on_sentence_is_cut_at_clauses_and_dashes_as_written():
    sentence = ("This time he--it is not a symbolic campaign, not by a long shot and he is - in fact - the man—who "
                "leads")
    pieces = bound_sentence(sentence, 6)
    assert all(count_words(p) <= 6 for p in pieces)
    assert pieces[:2] == ["This time he--", "it is not a symbolic campaign,"]
    assert " ".join(pieces) == "This time he-- it is not a symbolic campaign, not by a long shot and he is - in fact - the man—who leads"


def test_an_ellipsis_is_not_a_word():
    """An excerpt's mark (or a pause written "...") does not count against a budget, after Chinese text as well."""
    assert count_words("\u2026though at a decreasing rate") == 5
    assert count_words("and then ... we left \u2026") == 4
    assert count_words("\u6c34\u5faa\u73af\u662f\u5730\u7403\u2026") == count_words("\u6c34\u5faa\u73af\u662f\u5730\u7403") == 3
