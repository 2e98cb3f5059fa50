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


def test_siblings_report_their_cluster_and_shared_neighbours(components):
    body = ask(components, "How does A-REI.3 relate to A-REI.4?")  # the README's example
    roles = {s.code: s.relation for s in body.standards}
    assert body.intent == "relate" and body.citations[:2] == ["A-REI.B.3", "A-REI.B.4"]
    assert roles["A-REI.B"] == "shared cluster" and "same cluster, A-REI.B" in body.answer
    assert roles["A-REI.A.1"] == "shared prerequisite" and roles["A-CED.A.1"] == "shared next"
    assert "neither directly" not in body.answer and not body.unresolved


def test_a_directed_link_keeps_its_place_and_unrelated_standards_say_so(components):
    linked = ask(components, "How does 6.RP.A.3 relate to 7.RP.A.2?").answer
    assert "6.RP.A.3 progresses to 7.RP.A.2 in the coherence map." in linked
    assert "Both come under the domain heading “Ratios & Proportional Relationships” (Grade 6 and Grade 7)." in linked
    apart = ask(components, "How is K.CC.A.1 related to G-GPE.A.1?")
    assert apart.citations == ["K.CC.A.1", "G-GPE.A.1"] and "share no cluster, domain" in apart.answer


@pytest.mark.parametrize("question", ["What should students know before 7rp2?",
                                      "What should students know before ccss 7rp2?"])
def test_a_one_word_code_is_answered_like_its_dotted_form(components, question):
    """"7rp2" (and "ccss 7rp2") was no code to /ask: it listed K.CC.A.1-3 and 8.NS.A.1-2 as a topic search."""
    body, dotted = ask(components, question), ask(components, "What should students know before 7.RP.A.2?")
    assert body.intent == "prerequisites" and body.citations == dotted.citations == ["7.RP.A.2", "6.RP.A.2", "6.RP.A.3", "7.RP.A.1"]
    assert body.answer == dotted.answer and not body.unresolved


def test_a_citation_form_nothing_holds_is_not_found_in_full(components):
    """111.26(b)(4)(B) (the Texas Administrative Code's form) listed all 1,167 built-in standards; with no framework
    holding it, it is not found, echoed whole."""
    body = ask(components, "What is 111.26(b)(4)(B)?")
    assert body.unresolved == ["111.26(b)(4)(B)"] and body.answer == "111.26(b)(4)(B) was not found among the standards."
    assert body.intent != "list" and body.citations == []


def test_a_math_expression_with_brackets_is_no_code(components):
    """"like 2.5(4)" was reported as an unknown code ("2.5(4) was not found among the standards.") and the question
    lost the list intent; it is mathematics, answered like the same question without it."""
    body = ask(components, "What grade teaches multiplying decimals like 2.5(4)?")
    assert body.unresolved == [] and "not found" not in body.answer and body.intent == "list"


def test_an_ngss_code_with_a_bracketed_part_is_answered(components):
    """MS-PS1-4(a) was reported not found (a01f7f8 read it as MS-PS1-4)."""
    body = ask(components, "What is MS-PS1-4(a) about?")
    assert body.unresolved == [] and body.citations[:1] == ["MS-PS1-4"]
