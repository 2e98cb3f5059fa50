"""Meetings: told apart from dialogues, lectures and lessons; their back-channels never reach a summary; a shorter
budget curve than lectures; speakers kept as attribution.

The meeting fixture is the AMI kick-off meeting of QMSum's validation split (`../shared/data/meetings/qmsum_val.jsonl`,
row 34, as `eval.rouge` reads it; AMI corpus, CC BY 4.0; QMSum, MIT).
"""

from __future__ import annotations

import json

import pytest

from edurag.generators import ExtractiveGenerator
from edurag.sentences import count_words
from edurag.summarization.length import DEFAULT_CURVE, DIALOGUE_ANCHOR, MEETING_ANCHOR, MEETING_CURVE, budget_words
from edurag.summarization.meetings import backchannels, is_meeting
from edurag.summarization.service import SummaryOptions, summarize_document
from edurag.transcript_text import parse_turns
from tests.conftest import FIXTURES

MEETING = (FIXTURES / "ami_meeting_kickoff.txt").read_text()
ROLES = ("Project Manager", "Marketing", "Industrial Designer", "User Interface")


def test_a_meeting_is_told_apart_from_dialogues_lessons_and_lectures() -> None:
    dialogue = json.loads((FIXTURES / "dialogsum_dev40.jsonl").read_text().splitlines()[0])["dialogue"]
    lesson = (FIXTURES / "classroom_fractions.txt").read_text()
    lecture = "Prof: " + "Markets set prices through supply and demand. " * 30
    assert is_meeting(parse_turns(MEETING))
    assert not is_meeting(parse_turns(dialogue))
    assert not is_meeting(parse_turns(lesson))  # a teacher and three students: a lesson, not a meeting
    assert not is_meeting(parse_turns(lecture))
    once = "\n".join(["Ann: We need a budget for the trip.", "Ben: The bus costs four hundred.",
                      "Ann: Then tickets are twenty each.", "Ben: That covers the bus and lunch.", "Cy: Hello all."])
    assert not is_meeting(parse_turns(once))  # a third name that speaks once does not make a meeting


def test_backchannels_are_flagged_and_content_is_not() -> None:
    flags = backchannels(["Uh - huh .", "Yeah.", "Mm-hmm", "Okay, cool.", "Yeah , yeah , right .",
                          "The touch screen would raise the cost to seventeen euros.",
                          "We should drop voice recognition from the remote."], "en")
    assert flags == [True, True, True, True, True, False, False]
    assert backchannels(["Ja.", "Oui."], "fr") == [False, False]


def test_meeting_curve_is_shorter_than_the_lecture_curve_and_meets_the_dialogue_point() -> None:
    assert budget_words(DIALOGUE_ANCHOR[0], curve=MEETING_CURVE) == DIALOGUE_ANCHOR[1]
    assert budget_words(MEETING_ANCHOR[0], curve=MEETING_CURVE) == MEETING_ANCHOR[1]
    assert budget_words(MEETING_ANCHOR[0], curve=MEETING_CURVE) < budget_words(MEETING_ANCHOR[0], curve=DEFAULT_CURVE)
    assert budget_words(7844, "brief", curve=MEETING_CURVE) < MEETING_ANCHOR[1] < budget_words(7844, "detailed",
                                                                                              curve=MEETING_CURVE)


@pytest.mark.parametrize("fmt", ["paragraph", "bullets"])
def test_meeting_summary_has_no_backchannels_and_keeps_speakers(embedder, fmt) -> None:
    result = summarize_document(ExtractiveGenerator(embedder), embedder, MEETING, SummaryOptions(format=fmt))
    assert result.budget_words == budget_words(result.input_words, curve=MEETING_CURVE)
    assert result.budget_words < budget_words(result.input_words)
    assert not result.summary.startswith("This ")  # the opening topic line is for lectures only
    sentences = [s for section in result.sections for s in section.sentences]
    assert sentences and result.words <= result.budget_words
    assert sum(count_words(s) for s in sentences) <= result.budget_words  # speaker labels count: nothing is cut off
    for sentence in sentences:
        speaker, _, said = sentence.partition(": ")
        assert speaker in ROLES
        assert backchannels([said], "en") == [False]
