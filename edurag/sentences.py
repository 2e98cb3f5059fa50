"""Language-aware sentence splitting and word counting with hard length bounds, for any language and any punctuation.

Sentences come from `sentencex` (Wikimedia's rule-based segmenter, ~300 languages through fallback chains), the
language from `py3langid`. A "sentence" longer than `max_words` is first segmented again by sentencex with quotation
marks and brackets blanked (see `split_sentences`), then cut at clause punctuation and dashes, then into windows of at
most `max_words` words (speech-to-text output often has no sentence punctuation at all), so no extracted unit (and so
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
# Clause ends: after clause punctuation, and after a dash between words ("he--it is", "one - two", "one—two").
_CLAUSE_END = re.compile(r"(?<=[,;:，；、：])\s*|(?<=\w--)(?=\w)|(?<=\s[-–—])\s+|(?<=\w[–—])(?=\w)")
# Marks that open what sentencex takes for a quotation or a parenthesis (its quote pairs: "…", ' …', “…”, «…», ‘…’,
# „…“, 《…》, 「…」; brackets), inside which it never ends a sentence. See `split_sentences`.
_QUOTING = re.compile(r"[\"“”„‟«»‹›‘‚‛《》「」(\[{<（]|(?<!\S)'")
_TERMINAL = re.compile(r"[.!?。！？…]['\"”’)\]]*$")


def count_words(text: str) -> int:
    """Words in a text: whitespace tokens, plus one word per CHARS_PER_WORD characters of unspaced scripts (CJK, Thai);
    an ellipsis on its own (an excerpt's mark, a pause) is not a word.

    This is the unit of every summary budget (`max_words`), so a Chinese summary is bounded like an English one.
    """
    unspaced = sum(len(run) for run in _UNSPACED_RUN.findall(text))
    spaced = sum(token.strip(".\u2026") != "" for token in _UNSPACED_RUN.sub(" ", text).split())
    return spaced + math.ceil(unspaced / CHARS_PER_WORD)


# Fewer letters than this and py3langid's guess is not worth reporting. On the 4,690 turns of DialogSum dev (all
# English) it names English for 17% of the turns under 5 letters ("Hi." -> af), 73% at 5-9 ("hello there." -> st),
# 94% at 10-14, 97.5% at 15-19 and 99.3% or more from 20 letters on (bench/summary_length.md, session 10).
MIN_LANGUAGE_LETTERS = 20
UNDETERMINED = "und"  # BCP 47 / ISO 639-2 "undetermined"


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language (py3langid on the first 4,000 characters); UNDETERMINED ("und") when
    they hold fewer than MIN_LANGUAGE_LETTERS letters, where a guess is as often wrong as right. Splitting and key
    terms then use no language's rules (sentencex's defaults, no stop words)."""
    import py3langid

    sample = text[:4000]
    if sum(ch.isalpha() for ch in sample) < MIN_LANGUAGE_LETTERS:
        return UNDETERMINED
    return str(py3langid.classify(sample)[0])


def split_sentences(text: str, language: str, max_words: int | None = None) -> list[str]:
    """Sentences of a text in its language (sentencex), whitespace-trimmed, empty ones dropped.

    With `max_words`, a sentence longer than that is segmented again with its quotation marks and brackets blanked.
    sentencex never breaks inside a quotation, and pairs each opening mark with the next closing one; transcripts
    drop quotation marks and write elisions with apostrophes ("In '88 ... states' rights"), so one unpaired mark
    turns everything up to the next mark into one quoted "sentence" (2,248 words in an Open Yale lecture). Blanking
    keeps sentencex's own rules (abbreviations, numbers, terminators of every script) deciding each boundary; it is
    hand-written because sentencex has no option to ignore quotes.
    """
    import sentencex

    sentences = [s.strip() for s in sentencex.segment(language, text) if s.strip()]
    if max_words is None:
        return sentences
    return [part for s in sentences for part in (_unquoted_sentences(s, language) if count_words(s) > max_words else [s])]


def _unquoted_sentences(sentence: str, language: str) -> list[str]:
    """sentencex's sentences of a text whose quotation marks and brackets it reads as blanks (same length, so the
    pieces are cut from the original text); an opening mark goes with the sentence it opens."""
    import sentencex

    blanked = _QUOTING.sub(" ", sentence)
    cuts, end = [0], 0
    for piece in sentencex.segment(language, blanked)[:-1]:
        end += len(piece)
        cut = end
        while cut > cuts[-1] and blanked[cut - 1] != sentence[cut - 1]:
            cut -= 1
        cuts.append(cut)
    cuts.append(len(sentence))
    return [part for a, b in zip(cuts, cuts[1:]) if (part := sentence[a:b].strip())]


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
    """A sentence as pieces of at most `max_words` words: whole if it fits, else runs of its clauses (cut after
    clause punctuation and dashes, as written), else fixed word windows."""
    if count_words(sentence) <= max_words:
        return [sentence]
    cuts = sorted({0, len(sentence), *(m.end() for m in _CLAUSE_END.finditer(sentence))})
    out: list[str] = []
    current = ""
    for clause in (sentence[a:b] for a, b in zip(cuts, cuts[1:])):
        if count_words(current + clause) <= max_words:
            current += clause
            continue
        if current.strip():
            out.append(current.strip())
        current = clause
        if count_words(clause) > max_words:
            pieces = _tokens(clause)
            windows = [pieces[i:i + max_words] for i in range(0, len(pieces), max_words)]
            out += [_join(w) for w in windows[:-1]]
            current = _join(windows[-1]) + clause[len(clause.rstrip()):]
    if current.strip():
        out.append(current.strip())
    return out


def bounded_sentences(text: str, language: str, max_words: int) -> list[str]:
    """Sentences of the text (in its language), none longer than `max_words` words."""
    return [piece for sentence in split_sentences(text, language, max_words)
            for piece in bound_sentence(sentence, max_words)]
