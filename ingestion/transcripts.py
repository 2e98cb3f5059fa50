"""Read transcripts (.txt, .vtt, .jsonl) into plain text records and chunk them for retrieval."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import webvtt
from langchain_core.documents import Document

from edurag.chunking import split_by_tokens
from edurag.chunk_ids import COURSE_KEY, POSITION_KEY, SOURCE_FILE_KEY, SOURCE_KEY, TITLE_KEY, transcript_source_id

SUPPORTED_SUFFIXES = (".txt", ".vtt", ".jsonl")
TEXT_FIELDS = ("transcript", "text", "dialogue")
TITLE_FIELDS = ("title", "lecture_title", "id", "fname")
COURSE_FIELDS = ("course", "course_title")


class TranscriptError(ValueError):
    """A transcript file that cannot be read; the message names the file and the problem."""


@dataclass
class Transcript:
    """One transcript's text and where it came from."""

    title: str
    text: str
    source_file: str
    course: str = ""
    item: str = ""

    @property
    def source_id(self) -> str:
        """Stable source id: file name plus the record within it."""
        return transcript_source_id(self.source_file, self.item)


def decode(data: bytes, filename: str) -> str:
    """Strict UTF-8 (BOM allowed); anything else is rejected rather than silently mangled."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TranscriptError(f"{filename}: not valid UTF-8 (byte {exc.start})") from exc


def parse_transcripts(data: bytes, filename: str) -> list[Transcript]:
    """Parse one uploaded or local file into transcripts."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise TranscriptError(f"{filename}: unsupported file type {suffix or '(none)'}; use {', '.join(SUPPORTED_SUFFIXES)}")
    text = decode(data, filename)
    if not text.strip():
        raise TranscriptError(f"{filename}: file is empty")
    name = Path(filename).name
    if suffix == ".txt":
        return [Transcript(title=Path(filename).stem, text=text.strip(), source_file=name)]
    if suffix == ".vtt":
        return [Transcript(title=Path(filename).stem, text=_vtt_text(text, name), source_file=name)]
    return [parse_jsonl_line(line, name, n) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def parse_uploads(files: list[tuple[str, bytes]], limit: int) -> tuple[list[tuple[str, list[Transcript]]], list[str]]:
    """Parse every (file name, bytes) upload: the transcripts per file, and one message per file that is too large
    (over `limit` bytes, EDURAG_MAX_UPLOAD_BYTES) or cannot be read."""
    parsed: list[tuple[str, list[Transcript]]] = []
    errors: list[str] = []
    for name, data in files:
        if len(data) > limit:
            errors.append(f"{name}: larger than the {limit:,}-byte limit (EDURAG_MAX_UPLOAD_BYTES)")
            continue
        try:
            parsed.append((name, parse_transcripts(data, name)))
        except TranscriptError as exc:
            errors.append(str(exc))
    return parsed, errors


def _vtt_text(text: str, name: str) -> str:
    try:
        captions = webvtt.from_buffer(io.StringIO(text))
    except Exception as exc:  # webvtt raises its own MalformedFileError and others for broken files
        raise TranscriptError(f"{name}: malformed WebVTT ({exc})") from exc
    lines: list[str] = []
    for caption in captions:
        for line in caption.text.splitlines():
            line = line.strip()
            if line and (not lines or lines[-1] != line):  # auto-captions repeat the previous line
                lines.append(line)
    if not lines:
        raise TranscriptError(f"{name}: WebVTT file has no caption text")
    return "\n".join(lines)


def _first(record: dict[str, Any], fields: tuple[str, ...]) -> str:
    return next((str(record[f]) for f in fields if record.get(f)), "")


def parse_jsonl_line(line: str, name: str, number: int) -> Transcript:
    """One .jsonl line as a transcript (text/transcript/dialogue or turns; title and course when present)."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise TranscriptError(f"{name} line {number}: invalid JSON ({exc.msg})") from exc
    if not isinstance(record, dict):
        raise TranscriptError(f"{name} line {number}: expected a JSON object")
    text = _first(record, TEXT_FIELDS)
    if not text and isinstance(record.get("turns"), list):
        text = "\n".join(f"{t.get('speaker', '')}: {t.get('sentence') or t.get('text', '')}".strip(": ")
                         for t in record["turns"] if isinstance(t, dict))
    if not text.strip():
        raise TranscriptError(f"{name} line {number}: no transcript text (fields {', '.join(TEXT_FIELDS)} or turns)")
    title = _first(record, TITLE_FIELDS) or f"{Path(name).stem} #{number}"
    return Transcript(title=title, text=text.strip(), source_file=name, course=_first(record, COURSE_FIELDS), item=str(number))


def transcript_files(paths: list[Path]) -> list[Path]:
    """Files as given and, for folders, their transcript files (supported suffixes, recursively, sorted)."""
    files: list[Path] = []
    for path in paths:
        files += sorted(p for p in path.rglob("*") if p.suffix.lower() in SUPPORTED_SUFFIXES) if path.is_dir() else [path]
    return files


def read_paths(paths: list[Path]) -> list[Transcript]:
    """Read local files and folders (recursively, supported suffixes only)."""
    files = transcript_files(paths)
    if not files:
        raise TranscriptError("no transcript files found")
    out: list[Transcript] = []
    for file in files:
        out += parse_transcripts(file.read_bytes(), file.name)
    return out


def transcript_documents(transcripts: list[Transcript], count_tokens: Callable[[str], int], chunk_tokens: int,
                         overlap: int) -> list[Document]:
    """Token-aware chunks of each transcript (count_tokens: the embedder's) with title, course, source file and chunk index."""
    docs: list[Document] = []
    for t in transcripts:
        for index, chunk in enumerate(split_by_tokens(t.text, chunk_tokens, overlap, count_tokens)):
            docs.append(Document(page_content=chunk, metadata={
                SOURCE_KEY: t.source_id, POSITION_KEY: index, TITLE_KEY: t.title, COURSE_KEY: t.course,
                SOURCE_FILE_KEY: t.source_file,
            }))
    return docs
