"""Request and response models of the HTTP API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Framework = Literal["ccss", "ngss"]
Subject = Literal["math", "ela", "science"]


class StrictModel(BaseModel):
    """Requests reject unknown fields so typos are reported, not ignored."""

    model_config = ConfigDict(extra="forbid")


class AlignRequest(StrictModel):
    """A lesson, task, objective or question to align with standards."""

    text: str = Field(min_length=1, description="Lesson text, objective or question.")
    k: int = Field(5, ge=1, description="How many standards to return (at most EDURAG_MAX_K).")
    grade: str | None = Field(None, pattern=r"^(K|[1-9]|1[0-2])$", description="Only standards of this grade (K, 1..12).")
    grade_hint: str | None = Field(None, pattern=r"^(K|[1-9]|1[0-2]|HS|MS|K-2|3-5)$",
                                   description="The lesson's grade or band (K, 1..12, HS, MS, K-2, 3-5): its standards are boosted, others still count.")
    subject: Subject | None = None
    framework: Framework | None = None
    adapter: str | None = None
    explain: bool = Field(False, description="Include per-standard score components (dense, lexical, grade boost).")


class StandardOut(BaseModel):
    """A standard in an alignment result."""

    code: str
    official_code: str
    framework: str
    subject: str
    grades: list[str]
    text: str
    score: float
    domain: str = ""
    cluster: str = ""
    matched: str = Field("retrieval", description="retrieval, or code when the text names the standard.")
    passage: str = Field("", description="The part of the input that matched this standard best.")
    explain: dict[str, float] | None = None


class AlignResponse(BaseModel):
    """Ranked standards plus a grounded answer and its citations."""

    standards: list[StandardOut]
    answer: str
    citations: list[str]


class RelatedOut(BaseModel):
    """A code with its text, when the catalog knows it."""

    code: str
    text: str | None = None


class StandardDetail(BaseModel):
    """A standard with its hierarchy and relations."""

    code: str
    official_code: str
    framework: str
    subject: str
    level: str
    grades: list[str]
    text: str
    domain: str
    cluster: str
    details: str
    parent: RelatedOut | None
    children: list[RelatedOut]
    progress_to: list[RelatedOut]
    progress_from: list[RelatedOut]
    related: list[RelatedOut]
    connections: list[RelatedOut] = Field(description="NGSS performance expectations <-> CCSS standards.")


SummaryLength = Literal["brief", "standard", "detailed"]
SummaryFormat = Literal["paragraph", "bullets", "outline"]


class SummaryOptionsIn(StrictModel):
    """How a summary should look; shared by /summarize and bulk jobs."""

    strategy: Literal["zero_shot", "one_shot", "few_shot"] = "zero_shot"
    adapter: str | None = None
    length: SummaryLength = Field("standard", description="brief (half), standard or detailed (double) of a word budget "
                                  "that grows with the input: ~2-3 sentences for a short dialogue, a course-overview-sized "
                                  "paragraph (~240 words) for a 50-minute lecture.")
    max_words: int | None = Field(None, ge=1, le=5000, description="Explicit word budget (overrides length); never exceeded.")
    format: SummaryFormat = Field("paragraph", description="paragraph, bullets (one key sentence each) or outline "
                                  "(topic sections with key-term headings and start times when the source had cue times).")


class SummarizeRequest(SummaryOptionsIn):
    """A dialogue, lecture or classroom transcript to summarize (plain text, timestamped lines, WebVTT or SRT)."""

    text: str = Field(min_length=1)


class SectionOut(BaseModel):
    """A topic section of the summary."""

    heading: str = Field(description="The section's key terms.")
    start: float | None = Field(description="Start time in seconds (null when the source had no cue times).")
    start_label: str | None = Field(description="The start time as mm:ss or h:mm:ss.")
    sentences: list[str]
    key_terms: list[str]


class StudentContributionOut(BaseModel):
    """The longest student turn."""

    speaker: str
    words: int
    text: str
    start: float | None


class ClassroomOut(BaseModel):
    """Talk figures of a classroom transcript: teacher vs student words and turns, teacher questions (sentences ending
    in a question mark), the longest student contribution."""

    teacher_words: int
    student_words: int
    teacher_word_share: float
    teacher_turns: int
    student_turns: int
    teacher_turn_share: float
    teacher_questions: int
    longest_student_contribution: StudentContributionOut | None
    teachers: list[str]
    students: list[str]


class SummarizeResponse(BaseModel):
    """The summary with its budget and parts; `chunks` is how many first-round pieces a generator read."""

    summary: str
    format: SummaryFormat
    length: SummaryLength
    budget_words: int = Field(description="The word budget used (count of words; CJK characters count half a word each).")
    words: int = Field(description="Words in the summary's sentences (never more than budget_words).")
    input_words: int
    language: str = Field(description="Detected language (ISO 639-1).")
    key_terms: list[str]
    sections: list[SectionOut]
    classroom: ClassroomOut | None = None
    generator: dict
    chunks: int


class SearchRequest(StrictModel):
    """A query over ingested transcripts."""

    text: str = Field(min_length=1)
    k: int = Field(5, ge=1)
    course: str | None = None


class TranscriptHit(BaseModel):
    """A transcript chunk that matched a search."""

    id: str
    text: str
    score: float
    title: str
    course: str
    source_file: str
    chunk_index: int


class IngestFileReport(BaseModel):
    """Per-file result of a transcript upload."""

    id: str = Field(description="The source id: the file's normalized relative path (DELETE takes it).")
    file: str = Field(description="The file name as uploaded.")
    transcripts: int = Field(description="Transcripts (records) in the file.")
    chunks: int = Field(description="This source's chunks.")


class TranscriptSource(BaseModel):
    """A stored transcript source."""

    id: str
    chunks: int
    transcripts: int
    titles: list[str]
    course: str


class DeleteResponse(BaseModel):
    """What a deletion removed."""

    id: str
    deleted: int = Field(description="Chunks removed.")


class IngestResponse(BaseModel):
    """What an ingestion did."""

    files: list[IngestFileReport]
    added: int
    updated: int
    skipped: int
    deleted: int
    total: int


ASK_EXAMPLES = {
    "prerequisites": {"summary": "What to know before a standard",
                      "value": {"question": "What should students know before 7.RP.A.2?"}},
    "print form": {"summary": "A 2010 print-form code", "value": {"question": "How does A-REI.3 relate to A-REI.4?"}},
    "connections": {"summary": "NGSS to Common Core", "value": {"question": "Which math standards does MS-PS1-4 rely on?"}},
    "list": {"summary": "Standards of a grade about a topic",
             "value": {"question": "Which grade 4 standards are about fractions?"}},
    "grade-less code": {"summary": "A code without its grade, narrowed by grade",
                        "value": {"question": "What does RP.3 mean?", "grade": "7"}},
}


class AskRequest(StrictModel):
    """A teacher's question about standards: prerequisites, what comes next, parts, meaning, NGSS<->CCSS connections,
    lists by grade and topic, comparisons, relations; a lesson text is aligned like /align."""

    question: str = Field(min_length=1, description="The question; codes may be written in any form "
                          "(6.RP.A.3, 6.RP.3a, A-REI.3, HSA-REI.B.4, ms-ps1-1, CCSS.ELA-Literacy.RL.5.1).")
    grade: str | None = Field(None, pattern=r"^(K|[1-9]|1[0-2])$",
                              description="K, 1..12: narrows grade-less codes (RP.3) and lists.")
    subject: Subject | None = Field(None, description="Scopes lists and alignments.")
    framework: Framework | None = Field(None, description="Resolve codes and list standards within this framework.")
    k: int | None = Field(None, ge=1, description="At most this many retrieved standards (lists by topic, "
                          "alignments; at most EDURAG_MAX_K).")


class AskedStandardOut(BaseModel):
    """A standard the answer names and its role in it."""

    code: str
    text: str
    grades: list[str]
    relation: str | None = Field(None, description="asked, prerequisite, prerequisite (2 steps), next, part, parent, "
                                 "connection, listed, compared, on the path, anchor, aligned, suggestion, mentioned.")


class AskResponse(BaseModel):
    """The answer, composed from graph facts; citations are exactly the codes it names."""

    answer: str
    intent: Literal["prerequisites", "next", "parts", "explain", "connections", "list", "compare", "relate", "align"]
    citations: list[str] = Field(description="Every standard code the answer names, in order.")
    standards: list[AskedStandardOut]
    unresolved: list[str] = Field(default_factory=list,
                                  description="Codes the question names that match no standard (the answer suggests the nearest).")
