"""Lesson text as a reader sees it: TeX math and Markdown markup rendered to plain text before /align reads it.

Publishers' pages write math in TeX (Illustrative Mathematics puts every number in `\\( \\)`:
`\\(\\frac{3}{4} \\boldcdot 2\\)`), and teachers paste Markdown from documents and chat tools (`**3/10**`,
`# Step 1`). The encoder and BM25 read that markup as words: `\\frac`, `\\boldcdot` and `**` are word pieces that
carry nothing a standard says and cost encoder time. Rendering uses the libraries that parse these formats:
pylatexenc (TeX math to Unicode text) and markdown-it-py (CommonMark with tables). Only delimited math is read as TeX
(`\\( \\)`, `\\[ \\]`, `$$ $$`); a single `$` is a price more often than math.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache
from typing import Any

# Math delimiters, openers and closers alike; `_spans` pairs them in one pass.
_DELIMITER = re.compile(r"\\[()\[\]]|\$\$")
_CLOSER = {"\\(": "\\)", "\\[": "\\]", "$$": "$$"}
# A math span longer than this is a stray delimiter pairing with a far one, not math: left as text.
MAX_MATH_CHARS = 2_000
# Binary operators and relations written with a space on each side.
_OPERATORS = {"times": "×", "div": "÷", "cdot": "·", "boldcdot": "·", "pm": "±", "geq": "≥", "ge": "≥", "leq": "≤",
              "le": "≤", "lt": "<", "gt": ">", "approx": "≈", "cong": "≅", "sim": "∼", "neq": "≠", "ne": "≠"}
_SPACES = re.compile(r"[ \t]{2,}")
_PAREN_SPACE = re.compile(r"(?<=\() | (?=\))")
# An unescaped % inside math: TeX's comment sign, which would drop the rest of the line; lesson pages mean percent.
_PERCENT = re.compile(r"(?<!\\)%")
# Ordinals written as superscripts: 6^{\text{th}} renders as 6^th; a grade reads "6th".
_ORDINAL = re.compile(r"(\d)\^(st|nd|rd|th)\b")
# `*` between two word characters is multiplication (2*3*4, l*w), not Markdown emphasis.
_TIMES_STAR = re.compile(r"(?<=[\w)])\*(?=[\w(])")
_WORD = re.compile(r"\w")
# A sign opening a span or a parenthesis is unary: `- 1/2` (a spaced fraction after \text-) reads `-1/2`.
_UNARY = re.compile(r"(^|\()([-−+]) (?=\S)")
# ASCII punctuation: rendered math is escaped before the Markdown pass reads it (`- 1/2` is not a list item).
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Blocks whose content is kept verbatim.
_VERBATIM = {"code_block", "fence", "html_block"}
# Markdown containers (quotes, lists) may nest this deep; markdown-it's CommonMark preset drops text below 20 levels.
_MAX_NESTING = 200


@lru_cache(maxsize=8)
def plain_text(text: str) -> str:
    """`text` with delimited TeX math as Unicode text (`\\(\\frac{3}{4}\\)` -> `3/4`, `\\(2\\frac{1}{2}\\)` ->
    `2 1/2`, `\\(60^\\circ\\)` -> `60^∘`) and Markdown as its text (emphasis and heading marks dropped, ordered list
    numbers kept; paragraphs kept apart by a blank line, lines by a newline; code and HTML blocks verbatim). Plain prose
    keeps its words and lines. Near-linear in the text's length; never raises on odd markup: a math span pylatexenc cannot
    read is kept as written (without its delimiters), and Markdown that would leave no words gives the text back."""
    rendered = _render_math(text)
    markdown = _markdown_text(_TIMES_STAR.sub(r"\\*", rendered))
    return markdown if _WORD.search(markdown) or not _WORD.search(rendered) else rendered


def has_words(text: str) -> bool:
    """Whether plain_text(text) has a letter or digit (what /align can read)."""
    return bool(_WORD.search(plain_text(text)))


def _render_math(text: str) -> str:
    out: list[str] = []
    position = 0
    for start, end, inner in _spans(text):
        before = " " if start and (text[start - 1].isalnum() or text[start - 1] in "\\$") else ""
        after = " " if end < len(text) and (text[end].isalnum() or text[end] in "\\$") else ""
        out += [text[position:start], before, _math_text(inner), after]
        position = end
    out.append(text[position:])
    return "".join(out)


def _spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, inner source) of each delimited math span, in order: an opener pairs with the next closer of its
    kind within MAX_MATH_CHARS; an opener without one is text. One pass over the delimiters, a bisect per opener."""
    found = [(m.start(), m.group()) for m in _DELIMITER.finditer(text)]
    closers: dict[str, list[int]] = {}
    for at, mark in found:
        closers.setdefault(mark, []).append(at)
    spans, end = [], 0
    for at, mark in found:
        if at < end or mark not in _CLOSER:
            continue
        ends = closers.get(_CLOSER[mark], [])
        i = bisect.bisect_right(ends, at + len(mark) - 1)
        if i < len(ends) and ends[i] - at <= MAX_MATH_CHARS:
            spans.append((at, ends[i] + 2, text[at + 2:ends[i]]))
            end = ends[i] + 2
    return spans


def _math_text(source: str) -> str:
    from pylatexenc.latexwalker import LatexWalker

    converter, macros = _latex()
    try:
        nodes = LatexWalker(_PERCENT.sub(r"\\%", source), latex_context=macros, tolerant_parsing=True).get_latex_nodes()[0]
        rendered = converter.nodelist_to_text(nodes)
    except Exception:  # pylatexenc raises several parse error types
        rendered = None
    # Unreadable, or a macro missing its arguments (\frac{6}: pylatexenc leaves its format string): kept as written.
    if rendered is None or "%s" in rendered:
        return _PUNCTUATION.sub(r"\\\1", source.strip())
    return _PUNCTUATION.sub(r"\\\1", _UNARY.sub(r"\1\2", _ORDINAL.sub(r"\1\2", _PAREN_SPACE.sub("", _SPACES.sub(" ", rendered).strip()))))


def _markdown_text(text: str) -> str:
    """Block texts apart by a blank line; a table row's cells on one line; an ordered list item after its number."""
    blocks: list[str] = []
    row: list[str] | None = None
    number = ""
    for token in _markdown().parse(text):
        if token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            blocks.append("  ".join(cell for cell in row if cell))
            row = None
        elif token.type == "list_item_open" and token.info:
            number = f"{token.info}{token.markup} "
        elif token.type == "inline":
            content = number + "".join(_inline_text(child) for child in token.children or [])
            number = ""
            (row if row is not None else blocks).append(content)
        elif token.type in _VERBATIM:
            blocks.append(token.content.rstrip("\n"))
    return "\n\n".join(block for block in blocks if block.strip())


def _inline_text(token: Any) -> str:
    if token.type in ("text", "code_inline", "html_inline"):
        return token.content
    if token.type in ("softbreak", "hardbreak"):
        return "\n"
    if token.type == "image":
        return "".join(_inline_text(child) for child in token.children or [])
    return ""


@lru_cache(maxsize=1)
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"maxNesting": _MAX_NESTING}).enable("table")


def _fraction(node: Any, l2tobj: Any) -> str:
    """`\\frac{a}{b}` as ` a/b ` (spaced, so a mixed number `2\\frac{1}{2}` reads `2 1/2`); a part with an operator in
    parentheses (`(x+1)/2`). pylatexenc passes its converter by this argument's name."""
    parts = [l2tobj.nodelist_to_text([arg]).strip() for arg in node.nodeargd.argnlist if arg is not None]
    if len(parts) < 2:
        return "%s"  # a missing argument: _math_text keeps the span as written
    numerator, denominator = (p if re.fullmatch(r"[\w.,∘′″]+", p) else f"({p})" for p in parts[-2:])
    return f" {numerator}/{denominator} "


@lru_cache(maxsize=1)
def _latex() -> tuple[Any, Any]:
    """pylatexenc's converter and parser macros, taught what lesson pages use that it does not know: IM's `\\boldcdot`,
    `\\dfrac`/`\\tfrac` read as `\\frac`, `\\phantom` (invisible space) written as nothing, and operators kept
    apart from their numbers (TeX drops the space after `\\div`; the tokenizer would read `÷4` as one word)."""
    from pylatexenc import latexwalker, macrospec
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

    walker_db = latexwalker.get_default_latex_context_db()
    walker_db.add_context_category("lesson-pages", prepend=True, macros=[
        macrospec.MacroSpec(name, "{{") for name in ("dfrac", "tfrac")] + [
        macrospec.MacroSpec(name, "") for name in ("boldcdot", "lt", "gt")] + [macrospec.MacroSpec("phantom", "{")])
    text_db = get_default_latex_context_db()
    text_db.add_context_category("lesson-pages", prepend=True, macros=[
        MacroTextSpec(name, simplify_repl=_fraction) for name in ("frac", "dfrac", "tfrac")] + [
        MacroTextSpec("phantom", discard=True)] + [MacroTextSpec(name, f" {sign} ") for name, sign in _OPERATORS.items()])
    return LatexNodes2Text(latex_context=text_db, math_mode="text", keep_comments=False), walker_db
