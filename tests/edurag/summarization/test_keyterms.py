"""Key terms: noun phrases of the transcript, as it writes them (they are found lower-cased); content words."""

from __future__ import annotations

import json

from sklearn.feature_extraction.text import CountVectorizer

from edurag.summarization.keyterms import as_written, candidates, content_words, is_noun_phrase, term_options
from tests.conftest import FIXTURES

TEXT = ("Supply and demand set the price. Today we look at supply and demand in the cotton market of the South.\n"
        "Martin Luther King spoke in Montgomery. Then King and the Montgomery bus boycott. Photosynthesis is next. "
        "We end with photosynthesis.")


def test_names_keep_capitals_and_common_words_stay_lower_case() -> None:
    assert as_written("luther king", TEXT) == "Luther King"
    assert as_written("montgomery", TEXT) == "Montgomery"
    assert as_written("photosynthesis", TEXT) == "photosynthesis"  # its capital only ever starts a sentence


def test_dropped_stop_words_come_back_and_terms_never_written_are_none() -> None:
    assert as_written("supply demand", TEXT) == "supply and demand"
    assert as_written("market south", TEXT) == "market of the South"
    assert as_written("cotton south", TEXT) is None  # three words apart: not one term
    assert as_written("luther spoke", TEXT) is None  # "King" is no stop word: not one term
    assert as_written("price today", TEXT) is None  # across a sentence end
    assert as_written("zebra crossing", TEXT) is None


def test_discourse_words_verbs_and_adverbs_are_no_key_terms() -> None:
    """A lecturer's talk ("interesting", "suppose", "essentially", "years ago") is frequent in every lecture and names
    no topic; nouns, names and adjective + noun do."""
    for talk in ("interesting", "suppose", "essentially", "especially", "years ago", "read passage", "thinking facts",
                 "thinking", "mortgage mortgage"):
        assert not is_noun_phrase(talk, "en"), talk
    for term in ("malthus", "poverty", "death rates", "demographic transition", "affirmative action", "holocene",
                 "global warming", "dynamic hedging"):
        assert is_noun_phrase(term, "en"), term
    assert is_noun_phrase("interesting", "es")  # no tagger for other languages: nothing is dropped


def test_candidates_of_a_real_lecture_are_its_noun_phrases() -> None:
    """Of the Malthus lecture slice (tests/fixtures), the frequent terms that are not noun phrases ("assume", "quite",
    "vertically") are no candidates; those that are stay."""
    text = json.loads((FIXTURES / "yale_lecture_runon.jsonl").read_text(encoding="utf-8").splitlines()[0])["transcript"]
    frequent = CountVectorizer(**term_options("en")).fit([text]).get_feature_names_out()
    found = candidates(text, "en")
    assert found and set(found) <= set(frequent)
    assert all(is_noun_phrase(term, "en") for term in found)
    assert any(not is_noun_phrase(term, "en") for term in frequent)  # the filter has something to drop


def test_content_words_leave_out_stop_words_fillers_and_contractions() -> None:
    sentences = ["Who's got the mic?", "They're in the envelope.", "It doesn't matter, right?",
                 "Malthus thought wages would fall back to subsistence."]
    assert content_words(sentences, "en").tolist() == [0, 1, 1, 5]  # "mic" is classroom talk, "doesn" no word
