"""Caption files (WebVTT and SRT) read with webvtt-py into timed cues with speakers, and rendered as transcript text.

`read_cues` is the one caption reader: transcript ingestion, bulk jobs and summary outlines (cue start times) use it.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from typing import Literal

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError
from webvtt.models import Timestamp

from edurag.transcript_text import speaker_label

CaptionFormat = Literal["vtt", "srt"]

# SRT content is recognised by its first block: a cue number, then a timing line (what webvtt-py's SRT reader expects).
_SRT_START = re.compile(r"\A\s*\d+[ \t]*\n[^\n]*-->")
_TIMING_ARROW = "-->"
# SSA/ASS override tags that subtitle editors leave in SRT text ({\an8} places a line at the top, {\i1} italics): never
# speech, and webvtt-py keeps them as text (no caption library in use here removes them).
_OVERRIDE_TAGS = re.compile(r"\{\\[^}]*\}")
# Two timestamps with something between them: a timing line even when its arrow is mistyped (`->`, `=>`, `–>`).
_TIMING_LIKE = re.compile(r"\s*(?:\d+:)?\d{1,2}:\d{1,2}(?:[.,]\d+)?\s*[-=–—]{0,2}[>→]\s*(?:\d+:)?\d{1,2}:\d{1,2}")


class CaptionError(ValueError):
    """A caption file that cannot be read; the message names the line and the problem."""


@dataclass(frozen=True)
class Cue:
    """One caption line: start and end in seconds from the start of the recording, the speaker ("" when the caption
    names none, e.g. SRT) and the text with cue tags removed and character references decoded."""

    start: float
    end: float
    speaker: str
    text: str


def normalize_newlines(text: str) -> str:
    """`\\r\\n` and lone `\\r` (old Mac / some caption exporters) become `\\n`."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def sniff_format(text: str) -> CaptionFormat | None:
    """"vtt" for a WEBVTT header, "srt" for a first block that is a cue number and a timing line, else None."""
    text = normalize_newlines(text).lstrip("\ufeff")
    if text.lstrip().startswith("WEBVTT"):
        return "vtt"
    if _SRT_START.match(text):
        return "srt"
    return None


def _check_timings(lines: list[str], fmt: CaptionFormat) -> list[tuple[int, int]]:
    """(line number, start ms) of every timing line; a timing line that does not parse is an error naming it.

    webvtt-py skips such cues silently, which would turn a typo into lost text or a misleading "no caption text".
    """
    timings: list[tuple[int, int]] = []
    for number, line in enumerate(lines, 1):
        if _TIMING_ARROW not in line:
            if _TIMING_LIKE.match(line):
                raise CaptionError(f"line {number}: cue timing {line.strip()!r} does not parse (the arrow must be "
                                   f"'{_TIMING_ARROW}')")
            continue
        start, _, rest = line.partition(_TIMING_ARROW)
        end = rest.split()[0] if rest.split() else ""
        try:
            stamps = [Timestamp.from_string(s.strip().replace(",", ".") if fmt == "srt" else s.strip()) for s in (start, end)]
        except MalformedCaptionError as exc:
            example = "00:00:01,000 --> 00:00:04,000" if fmt == "srt" else "00:00:01.000 --> 00:00:04.000"
            raise CaptionError(f"line {number}: cue timing {line.strip()!r} does not parse ({exc}; expected e.g. "
                               f"{example})") from exc
        if stamps[1] < stamps[0]:
            raise CaptionError(f"line {number}: cue timing {line.strip()!r} ends before it starts")
        timings.append((number, stamps[0].in_milliseconds()))
    return timings


def _parse(text: str, fmt: CaptionFormat) -> list[webvtt.Caption]:
    lines = text.split("\n")
    if fmt == "vtt" and not text.lstrip().startswith("WEBVTT"):
        raise CaptionError("is missing the WEBVTT header on the first line")
    timings = _check_timings(lines, fmt)
    if not timings:
        raise CaptionError(f"has no cue timing line (e.g. 00:00:01{',' if fmt == 'srt' else '.'}000 --> 00:00:04"
                           f"{',' if fmt == 'srt' else '.'}000) found")
    try:
        captions = list(webvtt.from_buffer(io.StringIO(text), format=fmt))
    except (MalformedFileError, MalformedCaptionError) as exc:
        kind = "a WEBVTT header line" if fmt == "vtt" else "a cue number on the line above each timing line"
        raise CaptionError(f"is malformed ({exc or 'invalid format'}; it needs {kind})") from exc
    read = [c.start_time.in_milliseconds() for c in captions]
    position = 0
    for number, start in timings:  # every timing line with text must have become a cue, in order
        if position < len(read) and read[position] == start:
            position += 1
            continue
        if number == len(lines) or not lines[number].strip():  # a cue without text: nothing lost
            continue
        need = "a blank line before it" if fmt == "vtt" else "its cue number on the line above and a blank line before"
        raise CaptionError(f"line {number}: the cue '{lines[number - 1].strip()}' could not be read (it needs {need})")
    return captions


def read_cues(text: str, fmt: CaptionFormat) -> list[Cue]:
    """The captions of a WebVTT or SRT document as one Cue per spoken line, in order.

    Voice spans (`<v Teacher A>...</v>`, also `<v.class Name>`) give each line its speaker. SRT has no voice spans, so
    its speakers are written in the text: a speaker label opening an SRT line (`Teacher: ...`, `>> TEACHER: ...`,
    `[Teacher] ...` or `<i>[Teacher]</i> ...`; read by edurag.transcript_text.speaker_label) is its speaker and is
    removed from the text; a `>>` with no name opens an unnamed speaker's line. (WebVTT text is left as written:
    auto-captions of a lecture carry a stray "Student:" at a line start, which would make the rest of the lecture that
    student's turn.) A line with neither keeps the speaker of the line before it in the same cue. Other cue tags and SSA override tags ({\\an8}) are
    removed and HTML character references (`&amp;`, `&#39;`) decoded. Rolling captions, which repeat the previous
    cue's lines, are de-duplicated: a line is dropped when the previous cue had the same line from the same speaker
    (so "Right." said by two people in a row is kept twice). Raises CaptionError naming the line of a timing that does
    not parse, a cue that cannot be read, or a file with no caption text.
    """
    captions = _parse(normalize_newlines(text).lstrip("\ufeff"), fmt)
    cues: list[Cue] = []
    previous: set[tuple[str, str]] = set()
    for caption in captions:
        speaker = ""
        current: set[tuple[str, str]] = set()
        start, end = caption.start_time.in_milliseconds() / 1000, caption.end_time.in_milliseconds() / 1000
        for raw, plain in zip(caption.lines, caption.text.split("\n")):
            voice = webvtt.Caption.VOICE_SPAN_PATTERN.search(raw)
            line = " ".join(_OVERRIDE_TAGS.sub("", html.unescape(plain)).split())
            if voice:
                speaker = html.unescape(voice.group(1)).strip()
            elif fmt == "srt":
                label, rest, _ = speaker_label(line)
                if label or rest != line:  # a label, or ">>" opening an unnamed new speaker's line
                    speaker, line = label, rest.strip()
            if not line:
                continue
            key = (speaker, line)
            if key not in previous and key not in current:
                cues.append(Cue(start=start, end=end, speaker=speaker, text=line))
            current.add(key)
        previous = current
    if not cues:
        raise CaptionError("has no caption text (every cue is empty)")
    return cues


def cues_text(cues: list[Cue]) -> str:
    """Transcript text: consecutive lines of one named speaker form one `Speaker: text` turn; unnamed lines stay
    one per line."""
    turns: list[tuple[str, list[str]]] = []
    for cue in cues:
        if cue.speaker and turns and turns[-1][0] == cue.speaker:
            turns[-1][1].append(cue.text)
        else:
            turns.append((cue.speaker, [cue.text]))
    return "\n".join(f"{speaker}: {' '.join(lines)}" if speaker else lines[0] for speaker, lines in turns)
