"""Lesson plans uploaded as files: plain text (.txt), Word (.docx, python-docx) and PDF (.pdf, pypdf) to plain text."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from edurag.encoding import not_utf8

logger = logging.getLogger(__name__)

LESSON_SUFFIXES = (".txt", ".docx", ".pdf")


class LessonFileError(ValueError):
    """An uploaded lesson that cannot be read; the message names the file and the problem."""


def _docx_text(data: bytes) -> str:
    """Paragraphs, then table cells row by row (lesson plans often keep objectives in tables)."""
    import docx

    document = docx.Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
    return "\n".join(lines)


def _pdf_text(data: bytes) -> str:
    """Text of every page; a scanned PDF has none and is reported as empty."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        raise LessonFileError("the PDF is encrypted")
    return "\n\n".join(page.extract_text() or "" for page in reader.pages)


def read_lesson(data: bytes, filename: str, limit: int) -> str:
    """Plain text of a .txt (strict UTF-8), .docx or .pdf lesson of at most `limit` bytes.

    Raises LessonFileError (file name and reason) for another type, an oversized, empty, non-UTF-8 or malformed file.
    """
    name = Path(filename).name or "upload"
    suffix = Path(name).suffix.lower()
    if suffix not in LESSON_SUFFIXES:
        raise LessonFileError(f"{name}: unsupported file type {suffix or '(none)'}; use {', '.join(LESSON_SUFFIXES)}")
    if len(data) > limit:
        raise LessonFileError(f"{name}: larger than the {limit:,}-byte limit (EDURAG_MAX_UPLOAD_BYTES)")
    if suffix == ".txt":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise LessonFileError(not_utf8(name, exc)) from exc
    else:
        try:
            text = _docx_text(data) if suffix == ".docx" else _pdf_text(data)
        except LessonFileError as exc:
            raise LessonFileError(f"{name}: {exc}") from exc
        except Exception as exc:  # the readers raise many types (zip, XML, PDF syntax) for a damaged file
            logger.info("unreadable lesson %s: %s", name, exc)
            raise LessonFileError(f"{name}: not a readable {suffix[1:].upper()} file") from exc
    text = text.replace("\x00", "").strip()
    if not text:
        raise LessonFileError(f"{name}: no text found in the file")
    return text
