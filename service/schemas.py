"""Request and response models of the HTTP API."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, ValidationInfo, field_validator,
                      model_validator)
from pydantic.json_schema import SkipJsonSchema

from edurag.jobs.store import JobStatus, JobView
from edurag.prompts import Strategy

FrameworkId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$", examples=["ccss", "ngss"],
                                   description="Framework id (GET /frameworks): ccss, ngss, tx-teks-2012, ...; codes "
                                               "resolve within it.")]
Subject = Literal["math", "ela", "science"]


class StrictModel(BaseModel):
    """Requests reject unknown fields so typos are reported, not ignored."""

    model_config = ConfigDict(extra="forbid")


def _json_number(value: object, info: ValidationInfo) -> object:
    """JSON Schema's integer: 5 and 5.0 are integers, "5" and true are not (pydantic's lax mode would take them).
    Form fields are strings by nature: validated with `model_validate_strings`, "5" is the number 5."""
    if isinstance(value, bool) or (isinstance(value, str) and info.mode != "string"):
        raise ValueError("must be a JSON number")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_number)]


class AlignRequest(StrictModel):
    """A lesson, task, objective or question to align with standards."""

    text: str = Field(min_length=1, pattern=r"\S", description="Lesson text, objective or question (at most EDURAG_MAX_TEXT_BYTES).")
    k: JsonInt = Field(5, ge=1, description="How many standards to return (at most EDURAG_MAX_K, the schema's maximum).")
    grade: str | None = Field(None, pattern=r"^(K|[1-9]|1[0-2])$", description="Only standards of this grade (K, 1..12).")
    grade_hint: str | None = Field(None, pattern=r"^(K|[1-9]|1[0-2]|HS|MS|K-2|3-5)$",
                                   description="The lesson's grade or band (K, 1..12, HS, MS, K-2, 3-5): its standards are boosted, others still count.")
    subject: Subject | None = None
    framework: FrameworkId | None = None
    adapter: str | None = None
    explain: StrictBool = Field(False, description="Include per-standard score components (dense, lexical, grade boost, ranker features).")
    include_practices: StrictBool = Field(False, description="Also rank practices (CCSS Standards for Mathematical Practice) among "
                                          "`standards`; they are always listed apart in `practices`.")


class LicenceOut(BaseModel):
    """The licence a standard's text is shown under (state sets: CC BY 3.0 US / CC BY 4.0 US and the rights holder)."""

    title: str
    url: str = ""
    rights_holder: str = ""


class EquivalentOut(BaseModel):
    """The same standard in another framework (or under the same code twice in one)."""

    framework: str
    code: str


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
    confidence: float | None = Field(None, ge=0, le=1, description="Calibrated probability that a publisher would tag the "
                                     "lesson with this standard (isotonic on real lessons' tags); null for named codes, "
                                     "practices, or without the aligner model.")
    confidence_label: str | None = Field(None, description="`likely addressed` (confidence >= 0.5) or `related`.")
    explain: dict[str, float] | None = None
    licence: LicenceOut | None = Field(None, description="Licence of this standard's text (imported frameworks).")
    bloom: BloomOut | None = Field(None, description="Bloom's taxonomy levels of the statement.")
    equivalents: list[EquivalentOut] = Field(default_factory=list, description="Without `framework`: the same "
                                             "statement in other frameworks (California's 5.NBT.7 for CCSS 5.NBT.B.7), "
                                             "shown once, by its CCSS/NGSS code when it has one.")


class AlignResponse(BaseModel):
    """Ranked standards plus a grounded answer and its citations."""

    standards: list[StandardOut]
    practices: list[StandardOut] = Field(default_factory=list, description="Practices the text exercises (CCSS MP): "
                                         "named in the text or retrieved; apart from `standards` unless include_practices.")
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
    exact_match: list[str] = Field(default_factory=list, description="Exact-match links from the source data (URIs or codes).")
    licence: LicenceOut | None = Field(None, description="Licence of this standard's text (imported frameworks).")
    bloom: BloomOut | None = Field(None, description="Bloom's taxonomy levels of the statement.")
    crosswalk: list[CrosswalkMatchOut] = Field(default_factory=list, description=(
        "For a math or ELA standard of an imported framework: its closest Common Core standards, the 3 best that POST "
        "/crosswalk gives to `ccss`; empty for CCSS and NGSS standards (their links are `connections`)."))


SummaryLength = Literal["brief", "standard", "detailed"]
SummaryFormat = Literal["paragraph", "bullets", "outline"]


class SummaryOptionsIn(StrictModel):
    """How a summary should look; shared by /summarize and bulk jobs."""

    strategy: Strategy = "zero_shot"
    adapter: str | None = None
    length: SummaryLength = Field("standard", description="brief (half), standard or detailed (double) of a word budget "
                                  "that grows with the input: ~2-3 sentences for a short dialogue, a course-overview-sized "
                                  "paragraph (~240 words) for a 50-minute lecture.")
    max_words: Annotated[int, Field(ge=1, le=5000), BeforeValidator(_json_number)] | None = Field(
        None, description="Explicit word budget (overrides length); never exceeded.")
    format: SummaryFormat = Field("paragraph", description="paragraph, bullets (one key sentence each) or outline "
                                  "(topic sections with key-term headings and start times when the source had cue times).")


class SummarizeRequest(SummaryOptionsIn):
    """A dialogue, lecture or classroom transcript to summarize (plain text, timestamped lines, WebVTT or SRT)."""

    text: str = Field(min_length=1, pattern=r"\S", description="At most EDURAG_MAX_TEXT_BYTES.")


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
    language: str = Field(description="Detected language (ISO 639-1), or `und` (undetermined) for a text of fewer than "
                                      "20 letters, too short to tell.")
    key_terms: list[str]
    sections: list[SectionOut]
    classroom: ClassroomOut | None = None
    generator: dict
    chunks: int


class SearchRequest(StrictModel):
    """A query over ingested transcripts."""

    text: str = Field(min_length=1, pattern=r"\S")
    k: JsonInt = Field(5, ge=1, description="At most EDURAG_MAX_K (the schema's maximum).")
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
    courses: list[str] = Field(description="Every course of the source: the courses its .jsonl records name, else its "
                                           "first folder (`biology/week1.txt`: biology); /transcripts/search filters by them.")


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


NonBlank = Annotated[str, Field(pattern=r"\S")]


class ItemIn(StrictModel):
    """One text with the id its result carries."""

    id: str = Field(min_length=1, max_length=500)
    text: NonBlank


def reject_null(value: Any, kind: str) -> Any:
    """A field that may be left out but not sent as null (its schema says `kind`): raises ValueError on None."""
    if value is None:
        raise ValueError(f"must be {kind} (leave the field out instead of sending null)")
    return value


def exactly_one(model: BaseModel, first: str, second: str) -> None:
    """Raise ValueError unless exactly one of the two optional fields was sent."""
    if (getattr(model, first) is None) == (getattr(model, second) is None):
        raise ValueError(f"send exactly one of {first} or {second}")


class SummarizeJobRequest(SummaryOptionsIn):
    """Either plain texts (ids are their positions) or items with ids (exactly one of the two, not empty), and the
    summary options for all of them."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": [{"required": ["texts"]}, {"required": ["items"]}]})

    texts: Annotated[list[NonBlank], Field(min_length=1)] | SkipJsonSchema[None] = None
    items: Annotated[list[ItemIn], Field(min_length=1)] | SkipJsonSchema[None] = None

    @field_validator("texts", "items", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return reject_null(value, "a list")

    @model_validator(mode="after")
    def _one_source(self) -> SummarizeJobRequest:
        exactly_one(self, "texts", "items")
        if not (self.texts or self.items):
            raise ValueError("no texts to summarize")
        return self

    def pairs(self) -> list[tuple[str, str]]:
        """(id, text) of every text: ids are positions for plain texts."""
        if self.texts is not None:
            return [(str(i), t) for i, t in enumerate(self.texts)]
        return [(item.id, item.text) for item in self.items or []]


class JobCreated(BaseModel):
    """A submitted job."""

    id: str
    status: str
    total: int | None = Field(description="Items of a summary job; null for a re-index or transcript ingest, whose "
                                          "chunks are counted once it runs (GET /jobs/{id}).")
    rejected: int = 0


class Progress(BaseModel):
    """Items finished out of the total, with the share that failed; a re-index or transcript ingest counts chunks
    (written or skipped), `total` null until the job has counted them."""

    done: int
    total: int | None
    succeeded: int
    failed: int
    percent: float


class JobOut(BaseModel):
    """A job's status, progress, speed and per-item errors."""

    id: str
    kind: str
    status: Literal[tuple(s.value for s in JobStatus)]  # type: ignore[valid-type]  # JobStatus values, in order
    progress: Progress
    rate_per_second: float | None
    eta_seconds: float | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    params: dict[str, Any]
    errors: list[dict[str, str]]
    result: dict[str, Any] | None = None
    error: str | None = None

    @classmethod
    def of(cls, view: JobView) -> JobOut:
        """API shape of a stored job."""
        percent = round(100.0 * view.done / view.total, 1) if view.total else 0.0
        return cls(
            id=view.id, kind=view.kind, status=view.status,
            progress=Progress(done=view.done, total=view.total, succeeded=view.succeeded, failed=view.failed, percent=percent),
            rate_per_second=round(view.rate, 4) if view.rate else None,
            eta_seconds=round(view.eta_seconds, 1) if view.eta_seconds is not None else None,
            created_at=view.created_at, started_at=view.started_at, finished_at=view.finished_at, params=view.params,
            errors=view.errors, result=view.result, error=view.error,
        )


class Check(BaseModel):
    """One dependency probe of /health."""

    ok: bool
    error: str | None = None


class HealthOut(BaseModel):
    """`status` is degraded (still HTTP 200) when a store does not answer; `checks` says which."""

    status: Literal["ok", "degraded"]
    embedder: dict[str, Any]
    generator: dict[str, Any]
    collections: dict[str, int] | None = Field(description="Chunks per live collection; null when Chroma is unreachable.")
    chroma: dict[str, str]
    checks: dict[str, Check]


class ReindexRequest(StrictModel):
    """Optionally re-embed with another model (HF id or local path); the switch happens only after checks pass."""

    embedding_model: str | None = Field(None, min_length=1)


class IndexStateOut(BaseModel):
    """Where the standards alias points, the spare version, and each standards collection's size."""

    current: str
    previous: str | None
    embedding_model: str | None
    collections: dict[str, int]


class AdapterInfo(BaseModel):
    """One adapter folder in EDURAG_ADAPTERS_DIR."""

    name: str
    loaded: bool = Field(description="Already loaded into the served model.")
    manifest: dict[str, Any] | None = Field(description="edurag_manifest.json, or null for adapters trained elsewhere.")


class AdaptersResponse(BaseModel):
    """Adapters the generator can switch to per request."""

    generator: str
    adapters: list[AdapterInfo]


class ReloadResponse(BaseModel):
    """What a reload dropped and what is now available."""

    dropped: list[str]
    available: list[str]


class BloomOut(BaseModel):
    """Bloom's taxonomy levels of a statement, from its verbs (ambiguous verbs spread their weight)."""

    level: str | None = Field(description="Most likely level: Remember, Understand, Apply, Analyze, Evaluate or Create.")
    weights: dict[str, float] = Field(default_factory=dict, description="Weight per level (sums to 1).")
    verbs: list[str] = Field(default_factory=list, description="The verbs (or question word) that decided it.")
    ambiguous: bool = False


class FrameworkOut(BaseModel):
    """A framework of the registry."""

    id: str
    title: str
    jurisdiction: str
    subject: str
    format: str = Field(description="builtin, csp (Common Standards Project set JSON) or case (CASE CFPackage).")
    version: str = ""
    adopted: int | None = None
    grades: list[str] = Field(default_factory=list)
    licences: list[LicenceOut] = Field(default_factory=list)
    attribution: str = ""
    source: str = ""
    source_url: str = ""
    items: int = Field(0, description="Standards in the catalog.")
    content_hash: str = ""
    sets: list[dict[str, str]] = Field(default_factory=list, description="Source sets it was built from ({id, title}: "
                                       "CSP sets, a CASE CFDocument); an import lacking one of them is refused (409).")


class FrameworkDetailOut(FrameworkOut):
    """A framework with its associations; those whose other end is outside the framework are kept and reported."""

    associations: int
    unknown_associations: int = Field(description="Associations whose other end edurag cannot resolve: neither a node "
                                      "of the framework nor a built-in CCSS standard (a corestandards.org link).")
    unknown_examples: list[dict[str, str]]


class FrameworkDeletedOut(BaseModel):
    """An imported framework removed, and how many chunks went with it."""

    framework: str
    deleted_chunks: int


class ImportReportOut(BaseModel):
    """What importing one framework did."""

    framework: str
    items: int
    unchanged: bool = Field(description="True when the source had not changed since the last import.")
    added: int
    updated: int
    skipped: int
    deleted: int
    duplicate_codes: int
    associations: int
    unknown_associations: int = Field(description="Associations whose other end edurag cannot resolve: neither a node "
                                      "of the framework nor a built-in CCSS standard (kept).")
    unknown_examples: list[dict[str, str]]
    empty_statements: int = Field(description="Coded items skipped because their statement (CSP description, CASE "
                                  "fullStatement) is empty.")
    empty_examples: list[str] = Field(description="The first codes skipped for an empty statement.")
    sets: list[dict[str, str]] = Field(description="Source sets the framework is now built from ({id, title}).")
    seconds: float = Field(description="Parsing and storing.")
    index_seconds: float = Field(description="Embedding and indexing.")


class CrosswalkRequest(StrictModel):
    """A standard (by code) or a text of framework `from`, to match in framework `to` (exactly one of code and text)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True,
                              json_schema_extra={"oneOf": [{"required": ["code"]}, {"required": ["text"]}]})

    from_: FrameworkId = Field(alias="from", description="Source framework id.")
    to: FrameworkId
    code: Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")] | SkipJsonSchema[None] = Field(
        None, description="A code of the source framework (or send `text`).")
    text: Annotated[str, Field(min_length=1, pattern=r"\S")] | SkipJsonSchema[None] = Field(
        None, description="Or any objective or standard text (at most EDURAG_MAX_TEXT_BYTES).")
    k: JsonInt = Field(5, ge=1, description="At most EDURAG_MAX_K (the schema's maximum).")
    grades: list[str] | None = Field(None, description="Grades the text is taught in (boosts the same grades in `to`).")

    @field_validator("code", "text", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return reject_null(value, "a string")

    @model_validator(mode="after")
    def _one_source(self) -> CrosswalkRequest:
        exactly_one(self, "code", "text")
        return self


class CrosswalkMatchOut(BaseModel):
    """A standard of the target framework and how well it matches."""

    code: str
    framework: str
    text: str
    grades: list[str]
    score: float = Field(description="cosine + lexical + grade-overlap components (ranking score).")
    cosine: float = Field(description="Cosine similarity of the two statements (the label comes from it).")
    label: Literal["exact", "close", "partial", "none"]
    evidence: list[str] = Field(description="Key terms both statements share.")
    exact_link: bool = Field(description="An exactMatch / exactMatchOf link of the source data names this pair.")
    licence: LicenceOut | None = None


class CrosswalkOut(BaseModel):
    """Ranked matches for a crosswalk request."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    code: str | None
    text: str | None
    licence: LicenceOut | None = None
    matches: list[CrosswalkMatchOut]


class CoverageRowOut(BaseModel):
    """A standard of A with its best match in B."""

    code: str
    grades: list[str]
    text: str
    match_code: str
    match_grades: list[str]
    match_text: str
    score: float
    cosine: float
    label: str
    grade_shift: int | None = Field(description="B's grade minus A's (0 when the spans overlap).")
    evidence: list[str]


class CompareOut(BaseModel):
    """Coverage of framework A by framework B."""

    source: str
    target: str
    grade: str | None
    summary: dict[str, int]
    rows: list[CoverageRowOut]
    no_good_match: list[str]
    grade_shifts: list[str]


ASK_EXAMPLES = {
    "prerequisites": {"summary": "What to know before a standard",
                      "value": {"question": "What should students know before 7.RP.A.2?"}},
    "print form": {"summary": "A 2010 print-form code", "value": {"question": "How does A-REI.3 relate to A-REI.4?"}},
    "connections": {"summary": "NGSS to Common Core", "value": {"question": "Which math standards does MS-PS1-4 rely on?"}},
    "list": {"summary": "Standards of a grade about a topic",
             "value": {"question": "Which grade 4 standards are about fractions?"}},
    "grade-less code": {"summary": "A code without its grade, narrowed by grade",
                        "value": {"question": "What does RP.3 mean?", "grade": "7"}},
    "crosswalk": {"summary": "A state standard's closest Common Core standards (frameworks imported)",
                  "value": {"question": "How does TEKS 6.4(B) map to Common Core?"}},
}


class AskRequest(StrictModel):
    """A teacher's question about standards: prerequisites, what comes next, parts, meaning, NGSS<->CCSS connections,
    lists by grade and topic, comparisons, relations; a lesson text is aligned like /align."""

    question: str = Field(min_length=1, pattern=r"\S", description="The question; codes may be written in any form "
                          "(6.RP.A.3, 6.RP.3a, A-REI.3, HSA-REI.B.4, ms-ps1-1, CCSS.ELA-Literacy.RL.5.1).")
    grade: str | None = Field(None, pattern=r"^(K|[1-9]|1[0-2])$",
                              description="K, 1..12: narrows grade-less codes (RP.3) and lists.")
    subject: Subject | None = Field(None, description="Scopes lists and alignments.")
    framework: FrameworkId | None = Field(None, description="Resolve codes and list standards within this framework.")
    k: Annotated[int, Field(ge=1), BeforeValidator(_json_number)] | None = Field(None, description="At most this many retrieved standards (lists by topic, "
                          "alignments; at most EDURAG_MAX_K).")


class AskedStandardOut(BaseModel):
    """A standard the answer names and its role in it."""

    code: str
    text: str
    grades: list[str]
    relation: str | None = Field(None, description="asked, prerequisite, prerequisite (2 steps), next, part, parent, "
                                 "connection, listed, compared, on the path, anchor, aligned, crosswalk match, "
                                 "suggestion, mentioned.")
    framework: str | None = Field(None, description="The standard's framework, when the answer names standards of an "
                                  "imported framework (a crosswalk, a TEKS code); None for CCSS/NGSS-only answers.")


class AskResponse(BaseModel):
    """The answer, composed from graph facts; citations are exactly the codes it names."""

    answer: str
    intent: Literal["prerequisites", "next", "parts", "explain", "connections", "list", "compare", "relate", "align", "bloom",
                    "crosswalk"]
    citations: list[str] = Field(description="Every standard code the answer names, in order.")
    standards: list[AskedStandardOut]
    unresolved: list[str] = Field(default_factory=list,
                                  description="Codes the question names that match no standard (the answer suggests the nearest).")
