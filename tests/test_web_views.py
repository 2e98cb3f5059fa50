"""The web app's view helpers without a browser: lesson files, passage highlighting, the progression graph."""

from __future__ import annotations

import io
import re

import pytest

from edurag.lesson_files import LessonFileError, read_lesson
from service.schemas import RelatedOut, StandardDetail
from service.web.graph import PER_GROUP, layout
from service.web.highlight import segments


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


def test_segments_mark_each_passage_once_and_keep_all_text():
    text = "Intro line.\n\nStudents find unit rates.\n\nThey   graph proportional\nrelationships.\n\nEnd."
    parts = segments(text, ["Students find unit rates.", "They graph proportional relationships.",
                            "Students find unit rates.", "not in the text"])
    assert "".join(p.text for p in parts) == text
    marked = {p.text: p.ranks for p in parts if p.ranks}
    assert marked == {"Students find unit rates.": [1, 3], "They   graph proportional\nrelationships.": [2]}
    assert [p.starts for p in parts if p.starts] == [[1, 3], [2]]


def test_segments_of_overlapping_passages():
    parts = segments("abc def ghi", ["abc def", "def ghi"])
    assert [(p.text, p.ranks) for p in parts] == [("abc ", [1]), ("def", [1, 2]), (" ghi", [2])]


def _detail(**relations: list[str]) -> StandardDetail:
    refs = {k: [RelatedOut(code=c, text=f"text of {c}") for c in v] for k, v in relations.items()}
    return StandardDetail(code="6.RP.A.3", official_code="CCSS.Math.Content.6.RP.A.3", framework="ccss", subject="math",
                          level="standard", grades=["6"], text="Use ratio reasoning.", domain="RP", cluster="A",
                          details="", parent=None, children=[], **{"progress_to": [], "progress_from": [], "related": [],
                                                                    "connections": [], **refs})


def test_graph_layout_places_relations_around_the_standard():
    graph = layout(_detail(progress_from=["5.NF.B.5"], progress_to=["7.RP.A.2", "7.RP.A.3"],
                           related=[f"6.RP.A.{i}" for i in range(1, 3)], connections=["MS-PS1-2"]))
    me = next(n for n in graph.nodes if n.kind == "self")
    assert {n.code for n in graph.nodes} == {"6.RP.A.3", "5.NF.B.5", "7.RP.A.2", "7.RP.A.3", "6.RP.A.1", "6.RP.A.2", "MS-PS1-2"}
    assert all(n.x < me.x for n in graph.nodes if n.kind == "from") and all(n.x > me.x for n in graph.nodes if n.kind == "to")
    assert all(n.y > me.y + me.h for n in graph.nodes if n.kind in ("related", "connection"))
    assert len(graph.edges) == 6 and graph.height >= max(n.y + n.h for n in graph.nodes)
    boxes = [(n.x, n.y) for n in graph.nodes]
    assert len(boxes) == len(set(boxes)), "no two boxes on the same spot"


def test_graph_caps_each_relation_and_is_empty_without_relations():
    assert layout(_detail()).nodes == []
    graph = layout(_detail(related=[f"R.{i}" for i in range(PER_GROUP + 3)]))
    assert graph.hidden == 3 and len([n for n in graph.nodes if n.kind == "related"]) == PER_GROUP
