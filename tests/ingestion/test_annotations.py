"""Transcribers' notes ("[inaudible 00:56:09]", "(inaudible)", "[crosstalk]") are no one's words: summaries and search
text leave them out, stage directions stay. The lines are TalkMoves' own (newuser9 item 15)."""

from __future__ import annotations

from edurag.generators import ExtractiveGenerator
from edurag.summarization.service import SummaryOptions, summarize_document
from edurag.transcript_text import parse_turns
from ingestion.transcripts import parse_transcripts, transcript_documents

LESSON = ("T: (inaudible) four.\n"
          "SN: Six minus (inaudible).\n"
          "T: So what did you get [unintelligible 00:08:46] for the second one?\n"
          "S: [crosstalk]\n"
          "T: [background conversation] Okay, put the two red rods [writes] next to the orange rod [Inaudible 00:56:09].\n"
          "S: The orange rod is as long as five red rods [laughs].\n")


def test_summary_turns_drop_transcriber_notes_and_keep_stage_directions():
    turns = parse_turns(LESSON)
    assert [(t.speaker, t.text) for t in turns] == [
        ("T", "four."), ("SN", "Six minus."),
        ("T", "So what did you get for the second one? Okay, put the two red rods [writes] next to the orange rod."),
        ("S", "The orange rod is as long as five red rods.")]


def test_search_chunks_and_summaries_never_show_them(embedder):
    transcripts = parse_transcripts(LESSON.encode(), "class/rods.txt")
    text = " ".join(d.page_content for d in transcript_documents(transcripts, embedder.count_tokens, 200, 30))
    assert "red rods [writes] next" in text
    assert not any(note in text.lower() for note in ("inaudible", "unintelligible", "crosstalk", "00:", "laughs", "background"))
    generator = ExtractiveGenerator(embedder)
    summary = summarize_document(generator, embedder, LESSON * 3, SummaryOptions(format="bullets", max_words=60)).summary
    assert "rods" in summary and not any(note in summary.lower() for note in ("inaudible", "unintelligible", "[]", "()"))
