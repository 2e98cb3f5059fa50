"""Language-aware sentence splitting and word counting with hard length bounds, for any language and any punctuation.

Sentences come from `sentencex` (Wikimedia's rule-based segmenter, ~300 languages through fallback chains), the
language from `py3langid`. Speech-to-text output often has no sentence punctuation at all; a "sentence" longer than
`max_words` is cut at clause punctuation, then into windows of at most `max_words` words, so no extracted unit (and so
no summary) can exceed a word budget.
"""

from __future__ import annotations

import math
import re

# Scripts written without spaces between words: Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar.
_UNSPACED = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_UNSPACED_RUN = re.compile(_UNSPACED.pattern + "+")
# Characters of unspaced scripts per word: Chinese words average 1.5-2 characters, Japanese a little more.
CHARS_PER_WORD = 2
_CLAUSE_END = re.compile(r"(?<=[,;:，；、：])\s*")
_TERMINAL = re.compile(r"[.!?。！？…]['\"”’)\]]*$")


def count_words(text: str) -> int:
    """Words in a text: whitespace tokens, plus one word per CHARS_PER_WORD characters of unspaced scripts (CJK, Thai).

    This is the unit of every summary budget (`max_words`), so a Chinese summary is bounded like an English one.
    """
    unspaced = sum(len(run) for run in _UNSPACED_RUN.findall(text))
    spaced = len(_UNSPACED_RUN.sub(" ", text).split())
    return spaced + math.ceil(unspaced / CHARS_PER_WORD)


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language (py3langid on the first 4,000 characters); "en" for empty text."""
    import py3langid

    sample = text[:4000]
    return str(py3langid.classify(sample)[0]) if sample.strip() else "en"


def split_sentences(text: str, language: str) -> list[str]:
    """Sentences of a text in its language (sentencex), whitespace-trimmed, empty ones dropped."""
    import sentencex

    return [s.strip() for s in sentencex.segment(language, text) if s.strip()]


def has_terminal(sentence: str) -> bool:
    """Whether a sentence ends with sentence punctuation (any script)."""
    return bool(_TERMINAL.search(sentence.strip()))


def _tokens(text: str) -> list[str]:
    """Word-sized pieces that join back with spaces: whitespace words, unspaced runs cut into CHARS_PER_WORD chars."""
    pieces: list[str] = []
    for word in text.split():
        if not _UNSPACED.search(word):
            pieces.append(word)
            continue
        buffer = ""
        for char in word:
            buffer += char
            if _UNSPACED.match(char) and len(buffer) >= CHARS_PER_WORD:
                pieces.append(buffer)
                buffer = ""
        if buffer:
            pieces.append(buffer)
    return pieces


def _join(pieces: list[str]) -> str:
    """Join word pieces, without the spaces unspaced scripts never had."""
    out = ""
    for piece in pieces:
        if out and not (_UNSPACED.match(out[-1]) and _UNSPACED.match(piece[0])):
            out += " "
        out += piece
    return out


def truncate_words(text: str, max_words: int) -> str:
    """The text's first `max_words` words (count_words units), with an ellipsis when something was cut."""
    if count_words(text) <= max_words:
        return text
    pieces = _tokens(text)
    kept: list[str] = []
    for piece in pieces:
        if count_words(_join(kept + [piece])) > max_words:
            break
        kept.append(piece)
    return _join(kept).rstrip(",;: ") + "…" if kept else ""


def bound_sentence(sentence: str, max_words: int) -> list[str]:
    """A sentence as pieces of at most `max_words` words: whole if it fits, else clauses, else fixed word windows."""
    if count_words(sentence) <= max_words:
        return [sentence]
    out: list[str] = []
    current = ""
    for clause in (c for c in _CLAUSE_END.split(sentence) if c.strip()):
        candidate = _join([current, clause]) if current else clause
        if count_words(candidate) <= max_words:
            current = candidate
            continue
        if current:
            out.append(current)
        if count_words(clause) <= max_words:
            current = clause
            continue
        pieces = _tokens(clause)
        windows = [pieces[i:i + max_words] for i in range(0, len(pieces), max_words)]
        out += [_join(w) for w in windows[:-1]]
        current = _join(windows[-1])
    if current:
        out.append(current)
    return out


def bounded_sentences(text: str, language: str, max_words: int) -> list[str]:
    """Sentences of the text (in its language), none longer than `max_words` words."""
    return [piece for sentence in split_sentences(text, language) for piece in bound_sentence(sentence, max_words)]
