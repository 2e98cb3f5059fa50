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
