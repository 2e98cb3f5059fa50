"""Bytes that should be UTF-8 text: the one message for bytes that are not (uploads, framework files, request bodies)."""

from __future__ import annotations

SAVE_AS_UTF8 = "save the file as UTF-8 (in Notepad or Excel: Save As, Encoding UTF-8)"
SAVE_AS_UTF8_JSON = "save the file as UTF-8 JSON"


def not_utf8(what: str, error: UnicodeDecodeError, offset: int = 0, remedy: str = SAVE_AS_UTF8) -> str:
    """`what` (a file name, "request body"), the first byte that is not UTF-8 in hex and its offset in the whole input
    (`offset`: where the decoded piece started), and what to do: "lesson.txt: not valid UTF-8 (byte 0x93 at offset
    24); save the file as UTF-8 (...)". A Windows "ANSI" (cp1252) or Latin-1 file fails at its first accented letter or
    curly quote."""
    return f"{what}: not valid UTF-8 (byte 0x{error.object[error.start]:02x} at offset {offset + error.start:,}); {remedy}"
