"""Transcript text as clean speaker turns: timestamps, cue numbers and markup removed, line start times kept.

Reads what teachers paste: plain text, `[00:00:01] Teacher: Good morning.` lines, `Teacher (00:01): ...`, stray caption
timing lines and cue numbers, DialogSum `#Person1#:` turns and single-line transcripts (caption files themselves are
read by ingestion.captions). Every summary is built from these turns, so no timestamp or cue number can reach it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# A leading time: [00:00:01], (0:01), 00:01:02.500, 1:02 -, optionally bracketed, before or after a speaker label.
_TIME = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_LEAD_TIME = re.compile(rf"^\s*[\[(]?\s*({_TIME})\s*[\])]?\s*[-–—|]?\s*")
_ANY_TIME = re.compile(rf"[\[(]\s*{_TIME}\s*[\])]|(?<![\w:.,]){_TIME}(?![\w:])")
_CUE_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}.*$")
_CUE_NUMBER = re.compile(r"^\s*\d+\s*$")
_TAG = re.compile(r"</?[a-z][^>]*>|<\d[\d:.]*>", re.IGNORECASE)
_SPEAKER = re.compile(r"^\s*(#[^#]{1,30}#|[A-Z][\w.'-]*(?: [A-Z0-9][\w.'-]*){0,3})\s*(?:\(\s*" + _TIME + r"\s*\))?\s*:\s+")
# Caption conventions for who speaks: `>>` opens a new speaker's line (`>> TEACHER: ...`, broadcast captions), and a
# bracketed label opens a line (`[Teacher] ...`; `<i>[Teacher]</i>` once tags are removed). A bracket is a speaker
# only when a role label (TEACHER_LABELS, STUDENT_GROUP_LABELS, any case) or a capitalised name ("Maria", "Ms.
# Rivera", "Student 2") is in it and speech follows: "[writes] 3x", "[SIGHS]" and "[inaudible]" are not.
_CHEVRONS = re.compile(r"^\s*>>+\s*")
_BRACKET_LABEL = re.compile(r"^\s*\[\s*([^\[\]\n]{1,40}?)\s*\]\s*(?=\S)")
_NAME = re.compile(r"^[A-Z][a-z][\w.'-]*(?: [A-Z0-9][\w.'-]*){0,2}$")
# Words a lesson writes before a colon that name no speaker: "Step 1: multiply both sides", "Remember: a rate ...".
_NOT_SPEAKERS = re.compile(r"^(?:Step|Example|Problem|Exercise|Part|Note|Remember|Hint|Tip)(?: \d+)?$", re.IGNORECASE)

# Transcribers' notes for what was no one's words or could not be heard, optionally with a time: "[inaudible 00:56:09]",
# "[unintelligible 00:08:46]", "(inaudible)", "[crosstalk]", "[laughter]", "[background conversation]" (the TalkMoves
# conventions), and caption files' sound descriptions ("[Bell]", "[BELL RINGS]", "[door closes]", "[phone buzzing]"). Summaries and search text leave them out; stage directions such as
# "[writes]" or "[to Alan]" stay, they say what happened.
_NOISE_WORDS = (r"inaudible|unintelligible|indiscernible|incomprehensible|unclear|cross-?talk|overlapping|"
                r"background(?: \w+)?|laugh(?:s|ter|ing)?|chuckl(?:es|ing)|giggl(?:es|ing)|applause|music|silence|"
                r"pause|noise|cough(?:s|ing)?|sigh(?:s|ing)?|bell|rings?|ringing|knock(?:s|ing)?|buzz(?:er|es|ing)?|"
                r"beep(?:s|ing)?|door|footsteps|static|whistle|alarm|cheer(?:s|ing)?|clap(?:s|ping)?|groan(?:s|ing)?|"
                r"gasp(?:s|ing)?|chatter(?:ing)?|sound(?:s)?(?: effects?)?")
_ANNOTATION = re.compile(rf"[ \t]*[\[(][^\[\]()\n]{{0,40}}?\b(?:{_NOISE_WORDS})\b[^\[\]()\n]{{0,40}}[\])]", re.IGNORECASE)

TEACHER_LABELS = re.compile(r"^(T\d*|Teacher\d*|Tchr|Instructor|Prof(essor)?|(Mr|Mrs|Ms|Miss|Mx|Dr)\.? [A-Z][\w'-]*)$", re.IGNORECASE)
STUDENT_GROUP_LABELS = re.compile(r"^(S|SS|Ss|SN|S\d+|Student\d*|Students|Class|Group)$", re.IGNORECASE)
_READABLE = {"t": "Teacher", "s": "Student", "ss": "Students", "sn": "Student", "class": "Class"}


@dataclass
class Turn:
    """Consecutive speech by one speaker: its lines joined, where each line starts (character offset, seconds)."""

    speaker: str
    text: str
    start: float | None = None
    line_starts: list[tuple[int, float | None]] = field(default_factory=list)

    def time_at(self, offset: int) -> float | None:
        """Start time of the line holding character `offset` of this turn's text (None without cue times)."""
        time = self.start
        for line_offset, line_time in self.line_starts:
            if line_offset > offset:
                break
            if line_time is not None:
                time = line_time
        return time


def seconds(stamp: str) -> float:
    """'01:02:03.5', '2:03' or '2:03,500' in seconds."""
    parts = stamp.replace(",", ".").split(":")
    total = 0.0
    for part in parts:
        total = total * 60 + float(part)
    return total


def readable_speaker(label: str) -> str:
    """A speaker label as a reader sees it: T -> Teacher, S/SS -> Student(s); names and #Person1# tags unchanged."""
    return _READABLE.get(label.lower(), label)


def speaker_label(line: str) -> tuple[str, str, float | None]:
    """(speaker, the rest of the line, seconds) of a line that opens with a speaker label: `Teacher: ...`,
    `#Person1#: ...`, `Teacher (00:01): ...` (its time in seconds), `>> TEACHER: ...`, `[Teacher] ...`; ("", the line,
    None) when it opens with none ("Step 1: ...", "Remember: ..." open none; a `>>` with no name is removed). The one reader of speaker labels in text, for pasted transcripts and for caption
    lines without a voice span (ingestion.captions)."""
    line = _CHEVRONS.sub("", line)
    match = _SPEAKER.match(line)
    if match and not _NOT_SPEAKERS.match(match.group(1)):
        time = re.search(_TIME, match.group(0)[len(match.group(1)):])
        return match.group(1).strip(), line[match.end():], seconds(time.group(0)) if time else None
    match = _BRACKET_LABEL.match(line)
    label = match.group(1) if match else ""
    if label and (TEACHER_LABELS.match(label) or STUDENT_GROUP_LABELS.match(label)
                  or (_NAME.match(label) and not _ANNOTATION.fullmatch(f"[{label}]"))):
        return label, line[match.end():], None
    return "", line, None


def _plain_lines(text: str) -> list[tuple[str, str, float | None]]:
    """(speaker, text, start seconds) per non-empty line of plain text; timings, cue numbers and markup removed."""
    out: list[tuple[str, str, float | None]] = []
    for raw in text.splitlines():
        if _CUE_TIMING.match(raw) or _CUE_NUMBER.match(raw) or not raw.strip():
            continue
        line = _TAG.sub("", raw)
        start: float | None = None
        match = _LEAD_TIME.match(line)
        if match:
            start, line = seconds(match.group(1)), line[match.end():]
        speaker, line, time = speaker_label(line)
        start = time if start is None else start
        if start is None:
            match = _LEAD_TIME.match(line)
            if match:
                start, line = seconds(match.group(1)), line[match.end():]
        line = re.sub(r"\s{2,}", " ", _ANY_TIME.sub(" ", line)).strip()
        if line:
            out.append((speaker, line, start))
    return out


def parse_turns(text: str) -> list[Turn]:
    """Plain text as speaker turns: consecutive lines of one speaker joined (unlabelled lines continue the last
    speaker). Caption files are read by ingestion.captions (edurag.summarization.service.read_turns)."""
    return join_lines(_plain_lines(text))


def strip_annotations(text: str) -> str:
    """The text without transcribers' notes of inaudible or non-speech moments ("Six minus (inaudible)." -> "Six
    minus.", "[unintelligible 00:08:46]" gone); other bracketed text is kept."""
    return _ANNOTATION.sub("", text)


def join_lines(lines: list[tuple[str, str, float | None]]) -> list[Turn]:
    """(speaker, text, start seconds) lines as turns, transcribers' notes removed (`strip_annotations`; a line of
    nothing else is dropped): a line by the speaker of the turn before, or by nobody, continues that turn."""
    turns: list[Turn] = []
    for speaker, raw, start in lines:
        line = strip_annotations(raw).strip()
        if not line:
            continue
        if turns and (speaker == turns[-1].speaker or not speaker):
            turn = turns[-1]
            turn.line_starts.append((len(turn.text) + 1, start))
            turn.text += " " + line
        else:
            turns.append(Turn(speaker=speaker, text=line, start=start, line_starts=[(0, start)]))
    return turns


def clean_text(text: str) -> str:
    """The transcript without timestamps, cue numbers or markup: one `Speaker: text` line per turn."""
    return "\n".join(f"{t.speaker}: {t.text}" if t.speaker else t.text for t in parse_turns(text))


# Clause punctuation a sentence splitter leaves at the head of a sentence ("; what are the last rites?"): not read.
_LEADING_MARKS = re.compile(r"^(?:[\s;:,]|--|\u2013|\u2014)+")


@dataclass
class Unit:
    """An extractable piece of a transcript: a sentence (or a bounded piece of one) with its speaker, turn and start
    time; `opens` / `closes` are false for a piece that starts / ends inside its sentence."""

    speaker: str
    text: str
    turn: int
    start: float | None = None
    opens: bool = True
    closes: bool = True


def _line_pieces(turn: Turn, begin: int, end: int, max_words: int) -> list[tuple[int, str]]:
    """The span [begin, end) of a turn cut at its line (cue) boundaries into pieces of at most max_words words."""
    from edurag.sentences import bound_sentence, count_words

    cuts = sorted({begin, end, *(o for o, _ in turn.line_starts if begin < o < end)})
    pieces: list[tuple[int, str]] = []
    current_start, current = begin, ""
    for a, b in zip(cuts, cuts[1:]):
        line = turn.text[a:b].strip()
        candidate = f"{current} {line}".strip()
        if current and count_words(candidate) > max_words:
            pieces.append((current_start, current))
            current_start, current = a, line
        else:
            current = candidate
    if current:
        pieces.append((current_start, current))
    return [(offset, part) for offset, text in pieces for part in bound_sentence(text, max_words)]


def sentence_units(turns: list[Turn], language: str, max_words: int) -> list[Unit]:
    """Sentences of every turn (split in the text's language), none longer than `max_words` words: an over-long
    "sentence" is segmented again without its quotation marks (sentences.split_sentences), and what is still too long
    (unpunctuated speech-to-text) is cut at cue boundaries when the turn has them, else at clauses or into fixed word
    windows."""
    from edurag.sentences import bound_sentence, count_words, split_sentences

    units: list[Unit] = []
    for index, turn in enumerate(turns):
        offset = 0
        for sentence in split_sentences(turn.text, language, max_words):
            begin = turn.text.find(sentence, offset)
            begin = offset if begin < 0 else begin
            offset = begin + len(sentence)
            if count_words(sentence) <= max_words:
                pieces = [(begin, sentence)]
            elif len(turn.line_starts) > 1:
                pieces = _line_pieces(turn, begin, offset, max_words)
            else:
                pieces = [(begin, p) for p in bound_sentence(sentence, max_words)]
            pieces = [(o, text) for o, p in pieces if (text := _LEADING_MARKS.sub("", p))]
            units += [Unit(speaker=turn.speaker, text=p, turn=index, start=turn.time_at(o), opens=j == 0,
                           closes=j == len(pieces) - 1) for j, (o, p) in enumerate(pieces)]
    return units
