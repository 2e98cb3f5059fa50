"""Lesson plans read from uploaded files: .txt (strict UTF-8), .docx (python-docx), .pdf (pypdf) and every refusal."""

from __future__ import annotations

import io
import re

import pytest

from edurag.alignment.lesson_files import LessonFileError, read_lesson


def test_read_lesson_txt_docx_and_errors():
    import docx

    assert read_lesson("\ufeffUnit rates\n".encode(), "a.TXT", 100) == "Unit rates"
    document = docx.Document()
    document.add_paragraph("Objective: compare unit rates.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Standard", "6.RP.A.3"
    buffer = io.BytesIO()
    document.save(buffer)
    text = read_lesson(buffer.getvalue(), "plan.docx", 10**6)
    assert "compare unit rates" in text and "Standard | 6.RP.A.3" in text

    cases = {("x.exe", b"MZ"): "unsupported file type .exe", ("x", b"hi"): "unsupported file type (none)",
             ("big.txt", b"a" * 11): "larger than the 10-byte limit", ("bad.txt", b"\xff"): "not valid UTF-8",
             ("blank.txt", b"  \n"): "no text found", ("bad.pdf", b"%PDF-1.4 junk"): "not a readable PDF",
             ("bad.docx", b"PK junk"): "not a readable DOCX"}
    for (name, data), message in cases.items():
        with pytest.raises(LessonFileError, match=re.escape(message)):
            read_lesson(data, name, 10 if name == "big.txt" else 100)


def test_an_ansi_lesson_gets_the_save_as_utf8_hint():
    """newuser12 finding 15: a Windows Notepad ("ANSI", cp1252) lesson read "not valid UTF-8 (byte 24)" with no hint;
    it names the byte and says what to do, in the words every upload uses (edurag.encoding.not_utf8)."""
    ansi = "Students compare ratios \u2013 \u201cunit rate\u201d problems for grade 6.".encode("cp1252")
    with pytest.raises(LessonFileError) as caught:
        read_lesson(ansi, "lesson_win1252.txt", 1000)
    assert str(caught.value) == ("lesson_win1252.txt: not valid UTF-8 (byte 0x96 at offset 24); save the file as "
                                 "UTF-8 (in Notepad or Excel: Save As, Encoding UTF-8)")
