"""edurag.markup: lesson pages' TeX math and pasted Markdown read as plain text, prose left as it is."""

from __future__ import annotations

import json

import pytest

from edurag.markup import has_words, plain_text
from tests.conftest import FIXTURES


def test_tex_math_of_lesson_pages_reads_as_text() -> None:
    """Illustrative Mathematics' own macros (\\boldcdot, \\dfrac) read like the standard ones."""
    assert plain_text(r"Find \(\frac{3}{4} \boldcdot 8\) and \(\dfrac{x}{y}\), then \(\tfrac12\).") == "Find 3/4 · 8 and x/y, then 1/2."
    assert plain_text(r"An angle of \(60^\circ\) and \(\sqrt{2}\); \(12 \div 4 \times 3\)") == "An angle of 60^∘ and √(2); 12 ÷ 4 × 3"
    assert plain_text(r"Fill in \(\underline{\phantom{000}}\) = \(\boxed{5}\)") == "Fill in  = 5"
    assert plain_text(r"\[ y = \text{cost} \]") == "y = cost"


def test_dollar_prices_and_broken_math_are_kept() -> None:
    assert plain_text("A loaf costs $2.50 today and $3 tomorrow.") == "A loaf costs $2.50 today and $3 tomorrow."
    assert "1" in plain_text(r"unclosed \(\frac{1}{\) here") and plain_text(r"stray \) and \( alone") != ""


def test_markdown_reads_as_its_text_with_paragraphs_and_table_rows() -> None:
    pasted = ("**Problem: Community Garden**\n\nNia plants **3/10** of the garden.\n*Question 1:* Add the fractions.\n\n"
              "# Step 2\n- tomatoes\n- carrots\n\n| plant | share |\n|---|---|\n| beans | 1/4 |\n")
    assert plain_text(pasted) == ("Problem: Community Garden\n\nNia plants 3/10 of the garden.\nQuestion 1: Add the fractions."
                                  "\n\nStep 2\n\ntomatoes\n\ncarrots\n\nplant  share\n\nbeans  1/4")


def test_prose_without_markup_keeps_every_word() -> None:
    """Real lesson texts without TeX come back word for word ([IMAGE] placeholders included)."""
    rows = [json.loads(line) for line in (FIXTURES / "im_lessons_slice.jsonl").read_text(encoding="utf-8").splitlines()]
    prose = [row["text"] for row in rows if "\\" not in row["text"]]
    assert len(prose) >= 5
    for text in prose:
        assert plain_text(text).split() == text.split()
    tex = [row["text"] for row in rows if "\\(" in row["text"]]
    assert tex and all("\\(" not in plain_text(text) and "\\frac" not in plain_text(text) for text in tex)


def test_mixed_numbers_fractions_and_signs_read_as_written() -> None:
    """IM writes mixed numbers as \\(6\\frac{1}{4}\\): the whole part stays apart from the fraction."""
    assert plain_text(r"\(2\frac{1}{2}\) and \(4 \times 5\tfrac{1}{3}\) inches") == "2 1/2 and 4 × 5 1/3 inches"
    assert plain_text(r"\(\frac{x+1}{2}\), \(\text-\frac12\), \(-3 + (- \frac{1}{2})\)") == "(x+1)/2, -1/2, -3 + (-1/2)"
    assert plain_text(r"\(3 \gt 2\) and \(a \lt b\); \(\frac{1}{2}\)\(\frac{1}{3}\)") == "3 > 2 and a < b; 1/2 1/3"
    assert plain_text(r"A \(6^{\text{th}}\) grade lesson") == "A 6th grade lesson"


def test_percent_signs_and_malformed_macros_keep_the_text() -> None:
    """% inside math is a percent, not TeX's comment (which dropped the rest of the line); a macro missing its
    arguments is kept as written, not pylatexenc's `%s/%s`."""
    assert plain_text("$$ 50% off $$ today, and \\(25\\%\\) of 80") == "50% off today, and 25% of 80"
    assert plain_text(r"\[Image: a tape diagram with 25% shaded\] Students shade it.") == "Image: a tape diagram with 25% shaded Students shade it."
    assert plain_text(r"Students simplify \(\frac{6}\) and compare it to \(\frac{3}{4}\)") == "Students simplify \\frac{6} and compare it to 3/4"


def test_unpaired_and_far_delimiters_stay_text() -> None:
    """An opener without its closer, or paired with one beyond MAX_MATH_CHARS, is text: the words after it are kept."""
    from edurag.markup import MAX_MATH_CHARS

    assert plain_text(r"Compute \( 3 + 4 and explain.") == "Compute ( 3 + 4 and explain."
    far = r"\(x" + " word" * MAX_MATH_CHARS + r"\)"
    assert plain_text(far).count("word") == MAX_MATH_CHARS
    assert plain_text("\\( " * 3000 + "ratios") .endswith("ratios")


def test_markdown_keeps_products_list_numbers_and_deeply_quoted_text() -> None:
    assert plain_text("Compute 2*3*4 and l*w*h, then **bold** and *Question 1:* done") == "Compute 2*3*4 and l*w*h, then bold and Question 1: done"
    assert plain_text("2020. A great year\n\n1. first\n2. second") == "2020. A great year\n\n1. first\n\n2. second"
    assert plain_text("> " * 25 + "Students compare fractions.") == "Students compare fractions."


def test_markup_without_words_has_none() -> None:
    from edurag.markup import has_words

    assert not any(has_words(text) for text in ("***", "---", "# \r\n---\r\n***", r"\(\phantom{x}\)"))
    assert has_words(r"\(\frac{1}{2}\)") and has_words("ratios")


def test_setup_logging_keeps_pylatexenc_tolerant_parse_reports_out_of_the_log(caplog: pytest.LogCaptureFixture) -> None:
    """An unreadable TeX span is kept as written; pylatexenc's INFO report of it is not logged once edurag sets up."""
    import logging

    from edurag.settings import setup_logging

    setup_logging()
    with caplog.at_level(logging.INFO):
        assert has_words(r"Find \(\frac{1}\) of the \(\\ tape\) diagram")
    assert not [r for r in caplog.records if r.name.startswith("pylatexenc")]
