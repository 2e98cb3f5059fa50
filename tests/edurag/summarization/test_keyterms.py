"""Key terms as the transcript writes them (they are found lower-cased)."""

from __future__ import annotations

from edurag.summarization.keyterms import as_written

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
