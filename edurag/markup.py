"""Lesson text as a reader sees it: TeX math and Markdown markup rendered to plain text before /align reads it.

Publishers' pages write math in TeX (Illustrative Mathematics puts every number in `\\( \\)`:
`\\(\\frac{3}{4} \\boldcdot 2\\)`), and teachers paste Markdown from documents and chat tools (`**3/10**`,
`# Step 1`). The encoder and BM25 read that markup as words: `\\frac`, `\\boldcdot` and `**` are word pieces that
carry nothing a standard says and cost encoder time. Rendering uses the libraries that parse these formats:
pylatexenc (TeX math to Unicode text) and markdown-it-py (CommonMark with tables). Only delimited math is read as TeX
(`\\( \\)`, `\\[ \\]`, `$$ $$`); a single `$` is a price more often than math.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

# Delimited TeX math: \( ... \), \[ ... \] and $$ ... $$.
_MATH = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]|\$\$(.+?)\$\$", re.S)
# Binary operators and relations written with a space on each side.
_OPERATORS = {"times": "×", "div": "÷", "cdot": "·", "boldcdot": "·", "pm": "±", "geq": "≥", "ge": "≥", "leq": "≤",
              "le": "≤", "approx": "≈", "cong": "≅", "sim": "∼", "neq": "≠", "ne": "≠"}
_SPACES = re.compile(r"[ \t]{2,}")
# Blocks whose content is kept verbatim.
_VERBATIM = {"code_block", "fence", "html_block"}


def plain_text(text: str) -> str:
    """`text` with delimited TeX math as Unicode text (`\\(\\frac{3}{4}\\)` -> `3/4`, `\\(60^\\circ\\)` -> `60^∘`)
    and Markdown as its text (emphasis, heading and list marks dropped; paragraphs kept apart by a blank line, lines by
    a newline; code and HTML blocks verbatim). Plain prose keeps its words and lines. Never raises on odd markup: a
    math span pylatexenc cannot read is kept as written."""
    return _markdown_text(_MATH.sub(_math_text, text))


def _math_text(match: re.Match[str]) -> str:
    from pylatexenc.latexwalker import LatexWalker

    source = next(group for group in match.groups() if group is not None)
    converter, macros = _latex()
    try:
        nodes = LatexWalker(source, latex_context=macros, tolerant_parsing=True).get_latex_nodes()[0]
        return _SPACES.sub(" ", converter.nodelist_to_text(nodes)).strip()
    except Exception:  # pylatexenc raises several parse error types; the span stays as the author wrote it
        return match.group(0)


def _markdown_text(text: str) -> str:
    """Block texts apart by a blank line; a table row's cells on one line."""
    blocks: list[str] = []
    row: list[str] | None = None
    for token in _markdown().parse(text):
        if token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            blocks.append("  ".join(cell for cell in row if cell))
            row = None
        elif token.type == "inline":
            content = "".join(_inline_text(child) for child in token.children or [])
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

    return MarkdownIt("commonmark").enable("table")


@lru_cache(maxsize=1)
def _latex() -> tuple[Any, Any]:
    """pylatexenc's converter and parser macros, taught what lesson pages use that it does not know: IM's `\\boldcdot`,
    `\\dfrac`/`\\tfrac` read as `\\frac`, `\\phantom` (invisible space) written as nothing, and operators kept
    apart from their numbers (TeX drops the space after `\\div`; the tokenizer would read `÷4` as one word)."""
    from pylatexenc import latexwalker, macrospec
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

    walker_db = latexwalker.get_default_latex_context_db()
    walker_db.add_context_category("lesson-pages", prepend=True, macros=[
        macrospec.MacroSpec(name, "{{") for name in ("dfrac", "tfrac")] + [macrospec.MacroSpec("boldcdot", ""),
        macrospec.MacroSpec("phantom", "{")])
    text_db = get_default_latex_context_db()
    frac = text_db.get_macro_spec("frac")
    text_db.add_context_category("lesson-pages", prepend=True, macros=[
        MacroTextSpec("dfrac", simplify_repl=frac.simplify_repl), MacroTextSpec("tfrac", simplify_repl=frac.simplify_repl),
        MacroTextSpec("phantom", discard=True)] + [MacroTextSpec(name, f" {sign} ") for name, sign in _OPERATORS.items()])
    return LatexNodes2Text(latex_context=text_db, math_mode="text", keep_comments=False), walker_db
