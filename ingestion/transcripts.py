"""Transcripts (.txt, .vtt, .srt, .jsonl) as records with a stable identity, and their chunks for retrieval.

Identity: a source is one file, identified inside the transcripts collection by its normalized relative path
(`biology/week1.txt`): Unicode NFC, `/` separators, folders kept, no `..`, no absolute paths. A `.jsonl` source holds
one record per line, keyed by the record's `id` field or else its line number. Every chunk carries its source id, so
re-ingesting a source replaces exactly that source's chunks (records removed from it included) and nothing else.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from langchain_core.documents import Document

from edurag.chunk_ids import (COURSE_KEY, POSITION_KEY, RECORD_KEY, SOURCE_FILE_KEY, SOURCE_KEY, TITLE_KEY, transcript_item_id,
                              transcript_source_id)
from edurag.chunking import split_by_tokens
from edurag.encoding import not_utf8
from edurag.transcript_text import strip_annotations
from ingestion.captions import CaptionError, CaptionFormat, Cue, cues_text, normalize_newlines, read_cues, sniff_format

SUPPORTED_SUFFIXES = (".txt", ".vtt", ".srt", ".jsonl")
TEXT_FIELDS = ("transcript", "text", "dialogue")
TITLE_FIELDS = ("title", "lecture_title", "id", "fname")
COURSE_FIELDS = ("course", "course_title")
RECORD_ID_FIELDS = ("id",)
MAX_PATH_CHARS = 400
_CAPTION_SUFFIXES: dict[str, CaptionFormat] = {".vtt": "vtt", ".srt": "srt"}
_FORMAT_NAMES = {"vtt": "WebVTT", "srt": "SRT"}


class TranscriptError(ValueError):
    """A transcript file that cannot be read; the message names the file and the problem."""


def normalize_path(name: str) -> str:
    """A file name or relative path as a source path: NFC, `/` separators (a `\\` counts as one), no empty or `.`
    parts. Raises TranscriptError for `..`, absolute paths, drive letters, control characters, empty or over-long
    names."""
    path = unicodedata.normalize("NFC", name).strip().replace("\\", "/")
    if not path:
        raise TranscriptError("a file has no name")
    if any(unicodedata.category(ch) == "Cc" for ch in path):
        raise TranscriptError(f"{path!r}: control characters are not allowed in file names")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise TranscriptError(f"{path}: absolute paths are not allowed; send a path relative to the course folder")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise TranscriptError(f"{path}: '..' is not allowed in file names (path traversal)")
    if not parts:
        raise TranscriptError(f"{path!r}: no file name")
    if len("/".join(parts)) > MAX_PATH_CHARS:
        raise TranscriptError(f"{path[:60]}...: file names are limited to {MAX_PATH_CHARS} characters")
    return "/".join(parts)


def folder_course(path: str) -> str:
    """The course a source belongs to by where it sits: the first folder of its path (`biology/week1.txt` ->
    `biology`), "" for a file at the top level."""
    return path.split("/", 1)[0] if "/" in path else ""


@dataclass
class Transcript:
    """One transcript's text and where it came from: `path` is its source's normalized path, `record` its key within a
    `.jsonl` source ("" for single-transcript files)."""

    title: str
    text: str
    path: str
    course: str = ""
    record: str = ""

    @property
    def source_id(self) -> str:
        """The source (file) this transcript belongs to."""
        return transcript_source_id(self.path)

    @property
    def item_id(self) -> str:
        """This transcript's own id (file, or file#record)."""
        return transcript_item_id(self.path, self.record)


def decode(data: bytes, filename: str) -> str:
    """Strict UTF-8 (BOM allowed), newlines normalized; anything else is rejected rather than silently mangled."""
    try:
        return normalize_newlines(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise TranscriptError(not_utf8(filename, exc)) from exc


def _suffix(path: str) -> str:
    suffix = PurePosixPath(path).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise TranscriptError(f"{path}: unsupported file type {suffix or '(none)'}; use {', '.join(SUPPORTED_SUFFIXES)}")
    return suffix




def parse_transcripts(data: bytes, filename: str) -> list[Transcript]:
    """Parse one uploaded or local file (its name or relative path) into transcripts.

    `.vtt` and `.srt` are read as captions; a `.txt` holding WebVTT or SRT content is read as captions too; other
    `.txt` is plain text; `.jsonl` gives one transcript per line. Raises TranscriptError naming the file and problem.
    """
    path = normalize_path(filename)
    suffix = _suffix(path)
    text = decode(data, path)
    if not text.strip():
        raise TranscriptError(f"{path}: file is empty")
    title = PurePosixPath(path).stem
    if suffix == ".jsonl":
        return parse_jsonl(text, path)
    cues = caption_cues(data, path)
    body = cues_text(cues) if cues is not None else text.strip()
    return [Transcript(title=title, text=body, path=path, course=folder_course(path))]


def _first(record: dict[str, Any], fields: tuple[str, ...]) -> str:
    return next((str(record[f]) for f in fields if record.get(f) not in (None, "")), "")


def parse_jsonl_line(line: str, path: str, number: int) -> Transcript:
    """One .jsonl line as a transcript (text/transcript/dialogue or turns; title, course and id when present; without
    a course, the source's folder course).

    The record key is the record's `id` when it has one (stable when lines move), else its line number.
    """
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise TranscriptError(f"{path} line {number}: invalid JSON ({exc.msg})") from exc
    if not isinstance(record, dict):
        raise TranscriptError(f"{path} line {number}: expected a JSON object")
    wrong = next((f for f in TEXT_FIELDS if record.get(f) not in (None, "") and not isinstance(record[f], str)), None)
    if wrong:  # `{"text": 5}` read as the text "5" and failed later as "no text left to summarize"
        kind = {bool: "true/false", int: "a number", float: "a number", list: "a list"}.get(type(record[wrong]), "an object")
        raise TranscriptError(f"{path} line {number}: `{wrong}` must be a string, not {kind}")
    text = _first(record, TEXT_FIELDS)
    if not text and isinstance(record.get("turns"), list):
        text = "\n".join(f"{t.get('speaker', '')}: {t.get('sentence') or t.get('text', '')}".strip(": ")
                         for t in record["turns"] if isinstance(t, dict))
    if not text.strip():
        raise TranscriptError(f"{path} line {number}: no transcript text (fields {', '.join(TEXT_FIELDS)} or turns)")
    title = _first(record, TITLE_FIELDS) or f"{PurePosixPath(path).stem} #{number}"
    key = " ".join(_first(record, RECORD_ID_FIELDS).split()) or str(number)
    return Transcript(title=title, text=normalize_newlines(text).strip(), path=path,
                      course=_first(record, COURSE_FIELDS) or folder_course(path), record=key)


def parse_jsonl(text: str, path: str) -> list[Transcript]:
    """Every record of a .jsonl source; two records with one key (same `id`) are an error naming both lines."""
    out: list[Transcript] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        transcript = parse_jsonl_line(line, path, number)
        if transcript.record in seen:
            raise TranscriptError(f"{path} line {number}: id {transcript.record!r} repeats line {seen[transcript.record]}")
        seen[transcript.record] = number
        out.append(transcript)
    return out


def folder_prefix(folder: Path, root: Path | None = None) -> str:
    """The id prefix of the sources inside a local folder ("" when the folder is the root)."""
    relative = Path(os.path.abspath(folder)).relative_to(Path(os.path.abspath(root or Path.cwd()))).as_posix()
    return "" if relative == "." else normalize_path(relative) + "/"


def caption_cues(data: bytes, filename: str) -> list[Cue] | None:
    """The timed cues of a caption file (.vtt, .srt, or a .txt holding WebVTT/SRT), None for other transcripts.
    Raises TranscriptError like parse_transcripts."""
    path = normalize_path(filename)
    suffix = _suffix(path)
    text = decode(data, path)
    fmt = _CAPTION_SUFFIXES.get(suffix) or (sniff_format(text) if suffix == ".txt" else None)
    if fmt is None:
        return None
    try:
        return read_cues(text, fmt)
    except CaptionError as exc:
        raise TranscriptError(f"{path}: {_FORMAT_NAMES[fmt]} {exc}") from exc


def transcript_files(paths: list[Path]) -> list[Path]:
    """Files as given and, for folders, their transcript files (supported suffixes, recursively, sorted)."""
    files: list[Path] = []
    for path in paths:
        files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES) \
            if path.is_dir() else [path]
    return files


def parse_uploads(files: list[tuple[str, bytes]], limit: int) -> tuple[list[tuple[str, list[Transcript]]], list[str]]:
    """Parse every (file name, bytes) upload: the transcripts per file, and one message per file that is too large
    (over `limit` bytes, EDURAG_MAX_UPLOAD_BYTES), cannot be read, or has the source id of an earlier file."""
    parsed: list[tuple[str, list[Transcript]]] = []
    errors: list[str] = []
    seen: dict[str, str] = {}
    for name, data in files:
        if len(data) > limit:
            errors.append(f"{name}: larger than the {limit:,}-byte limit (EDURAG_MAX_UPLOAD_BYTES)")
            continue
        try:
            transcripts = parse_transcripts(data, name)
        except TranscriptError as exc:
            errors.append(str(exc))
            continue
        path = transcripts[0].path
        if path in seen:
            errors.append(f"{name}: same source id {path!r} as {seen[path]!r} in this upload")
            continue
        seen[path] = name
        parsed.append((name, transcripts))
    return parsed, errors


def read_paths(paths: list[Path], root: Path | None = None) -> list[Transcript]:
    """Read local files and folders (recursively, supported suffixes only); each file's identity is its path relative
    to `root` (default: the current directory). Every file is read before anything is returned: raises one
    TranscriptError listing every problem, one line each (a path outside root, a bad file, two files that normalize to
    one identity, e.g. NFC and NFD spellings of one name)."""
    base = Path(os.path.abspath(root or Path.cwd()))
    files = transcript_files(paths)
    if not files:
        raise TranscriptError("no transcript files found")
    out: list[Transcript] = []
    owners: dict[str, Path] = {}
    problems: list[str] = []
    for file in files:
        try:
            relative = Path(os.path.abspath(file)).relative_to(base).as_posix()
        except ValueError:
            problems.append(f"{file}: not under {base}; ids are paths relative to --root (pass the folder that holds "
                            "your courses)")
            continue
        try:
            transcripts = parse_transcripts(file.read_bytes(), relative)
        except TranscriptError as exc:
            problems.append(str(exc))
            continue
        path = transcripts[0].path
        if path in owners and owners[path] != file:
            problems.append(f"{file} and {owners[path]} have the same identity {path!r}")
            continue
        owners[path] = file
        out += transcripts
    if problems:
        raise TranscriptError("\n".join(problems))
    return out


def transcript_documents(transcripts: list[Transcript], count_tokens: Callable[[str], int], chunk_tokens: int,
                         overlap: int) -> list[Document]:
    """Token-aware chunks of each transcript (count_tokens: the embedder's), grouped by source in input order.

    Transcribers' notes ("[inaudible 00:56:09]") are not searchable text: left out (edurag.transcript_text).
    Metadata: source (source id), record, chunk_index (within the record), title, course, source_file (the path).
    """
    docs: list[Document] = []
    for t in transcripts:
        for index, chunk in enumerate(split_by_tokens(strip_annotations(t.text), chunk_tokens, overlap, count_tokens)):
            docs.append(Document(page_content=chunk, metadata={
                SOURCE_KEY: t.source_id, RECORD_KEY: t.record, POSITION_KEY: index, TITLE_KEY: t.title,
                COURSE_KEY: t.course, SOURCE_FILE_KEY: t.path,
            }))
    return docs
