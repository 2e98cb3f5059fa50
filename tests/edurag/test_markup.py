"""edurag.markup: lesson pages' TeX math and pasted Markdown read as plain text, prose left as it is."""

from __future__ import annotations

import json

from edurag.markup import plain_text
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
