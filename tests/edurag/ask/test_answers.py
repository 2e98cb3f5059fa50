"""Answers composed from the catalog's graph: unknown codes of any shape and how two standards relate."""

from __future__ import annotations

import pytest

from edurag.ask import ask


@pytest.mark.parametrize("question, code", [
    ("What does 9.XX.Z.99 say?", "9.XX.Z.99"),      # no grammar parses it
    ("What comes after 3.XY.1?", "3.XY.1"),
    ("What comes after RP.9?", "RP.9"),              # a grade-less form that matches nothing
])
def test_a_code_of_an_unknown_shape_is_not_found(components, question, code):
    body = ask(components, question)
    assert body.unresolved == [code] and body.answer.startswith(f"{code} was not found among the standards.")
    assert body.intent != "list" and {s.relation for s in body.standards} <= {"suggestion"}


def test_list_wording_names_the_grade_only_when_there_is_one(components):
    assert ask(components, "Which standards are about zebras?").answer.startswith("No standards match that topic")
    listed = ask(components, "Which grade 4 standards are about fractions?").answer
    assert "grade 4 standards found by domain and cluster names" in listed and "any grade" not in listed
