"""One summary of one text, as /summarize, bulk jobs, the CLI and eval all produce it.

Clean the text (edurag.transcript_text), split it into bounded sentences in its language, pick a word budget from its
length (summarization.length), find topic sections (summarization.topics) and key terms (summarization.keyterms), then
either extract (the embedded default) or generate per section with the Hugging Face model (map-reduce within its
window). Classroom transcripts also get talk figures (summarization.classroom).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Literal, Sequence

import numpy as np

from edurag.embedder import Embedder
from edurag.generators import ExtractiveGenerator, Generator, attributed, centrality, excerpts, mmr_select, render_unit
from edurag.sentences import count_words, detect_language, truncate_words
from edurag.summarization.mapreduce import summarize_text
from edurag.transcript_text import Turn, Unit, join_lines, parse_turns, sentence_units
from ingestion.captions import CaptionError, read_cues, sniff_format
from edurag.summarization.classroom import (TalkFigures, is_classroom, is_teacher, lesson_topics, talk_figures,
                                            topic_sentence)
from edurag.summarization.keyterms import KeyTermExtractor, as_written, content_words
from edurag.summarization.length import DEFAULT_CURVE, LECTURE_BUDGET_SHARE, MEETING_CURVE, budget_words, max_sentences
from edurag.summarization.meetings import backchannels, is_meeting
from edurag.summarization.salience import lexical_centrality
from edurag.summarization.sentence_scorer import scorer_for, sentence_features
from edurag.summarization.topics import MAX_SECTIONS, WORDS_PER_SECTION, section_starts

Format = Literal["paragraph", "bullets", "outline"]
FORMATS: tuple[str, ...] = ("paragraph", "bullets", "outline")
MAX_UNIT_WORDS = 50
KEY_TERMS = 8
HEADING_TERMS = 3
# The opening topic line of lectures (`opening_sentence`): how many key terms it names (3, 4 or 6 score alike on the
# lectures' tune split, bench/summary_length.md); it needs a budget of a paragraph, and a single voice counts as a
# lecture from LECTURE_MIN_WORDS words on (a short monologue gets no "This lecture covers"). Meetings get none: their
# key terms are too often talk ("idea, chat, certainly"), see bench/summary_length.md.
OPENING_TERMS = 4
OPENING_MIN_BUDGET = 60
LECTURE_MIN_WORDS = 1000
MIN_SECTION_BUDGET = 25  # words: fewer sections when the budget is small, so each gets a sentence or two
# Weight of the tf-idf centroid score (summarization.salience) beside the embedder's centrality in sentence relevance:
# chosen on the lectures' tune split only (bench/summary_length.md: ROUGE-1 0.354 -> 0.363, ROUGE-L 0.160 -> 0.168).
LEXICAL_WEIGHT = 1.0
# A key sentence of an English lecture names at least this many distinct content words (keyterms.content_words):
# fewer is classroom management or a deictic one-liner ("Who's got the mic?", "They're in the envelope.", "Ready for
# this one?"), never what the lecture was about. Dialogues keep their short turns (on DialogSum's first 200 test
# dialogues the floor cost 0.0095 ROUGE-1); other languages have no floor (their stop words come without fillers).
KEY_SENTENCE_CONTENT_WORDS = 3


class EmptyTextError(ValueError):
    """Nothing is left to summarize once timestamps, cue numbers and markup are removed."""


class CaptionTextError(ValueError):
    """The text is a WebVTT or SRT caption file that does not parse (the message names the line and the problem)."""


def read_turns(text: str) -> list[Turn]:
    """Speaker turns of any transcript: WebVTT/SRT through the one caption reader (ingestion.captions: voice spans are
    speakers, cue starts are line times), anything else through the plain-text cleaner. ValueError for a broken
    caption file: CaptionTextError."""
    fmt = sniff_format(text)
    if fmt is None:
        return parse_turns(text)
    try:
        cues = read_cues(text, fmt)
    except CaptionError as exc:
        raise CaptionTextError(f"{'WebVTT' if fmt == 'vtt' else 'SRT'} captions {exc}") from exc
    return join_lines([(cue.speaker, cue.text, cue.start) for cue in cues])


@dataclass
class SummaryOptions:
    """What the caller asked for: prompt strategy, adapter, length (brief / standard / detailed) or max_words, format."""

    strategy: str = "zero_shot"
    adapter: str | None = None
    length: str = "standard"
    max_words: int | None = None
    format: str = "paragraph"


@dataclass
class Section:
    """A topic section: its heading (key terms), start time in seconds when the source had cue times, key sentences."""

    heading: str
    start: float | None
    sentences: list[str]
    key_terms: list[str] = field(default_factory=list)

    @property
    def start_label(self) -> str | None:
        """The start time as [h:]mm:ss, or None."""
        return clock(self.start) if self.start is not None else None


@dataclass
class DocumentSummary:
    """The rendered summary with its parts: budget and words (count_words units), language, sections, key terms,
    classroom talk figures (None unless the text is a classroom transcript) and first-round chunks."""

    summary: str
    format: str
    length: str
    budget_words: int
    words: int
    input_words: int
    language: str
    key_terms: list[str]
    sections: list[Section]
    classroom: TalkFigures | None
    chunks: int

    def as_dict(self) -> dict:
        """JSON-ready dict (sections carry their start label)."""
        out = asdict(self)
        out["sections"] = [asdict(s) | {"start_label": s.start_label} for s in self.sections]
        return out


def clock(seconds: float) -> str:
    """Seconds as mm:ss, or h:mm:ss from an hour on."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def check_options(options: SummaryOptions) -> None:
    """ValueError naming the bad option (format, length or max_words)."""
    if options.format not in FORMATS:
        raise ValueError(f"unknown format {options.format!r}; choose one of {', '.join(FORMATS)}")
    budget_words(1, options.length)
    if options.max_words is not None and options.max_words < 1:
        raise ValueError("max_words must be at least 1")


@dataclass
class PreparedText:
    """A text ready to summarize: its clean turns, language, input words, word budget, whether it is a meeting or a
    classroom, how many sections it may get, the sentence units a summary is extracted from, and whether those units
    are rendered with their speaker (generators.attributed: several people speak)."""

    turns: list[Turn]
    language: str
    input_words: int
    budget: int
    meeting: bool
    classroom: bool
    lecture: bool
    section_limit: int
    units: list[Unit]
    attribute: bool


def prepare_text(text: str, options: SummaryOptions) -> PreparedText:
    """Clean a text and cut it into the bounded sentence units a summary is made of, with its word budget (the meeting
    curve for meetings, whose back-channel sentences are dropped; LECTURE_BUDGET_SHARE of it for lectures unless
    max_words is given). Raises EmptyTextError when nothing is left."""
    turns = read_turns(text)
    if not turns:
        raise EmptyTextError("no text left to summarize once timestamps, cue numbers and markup are removed")
    language = detect_language(" ".join(t.text for t in turns[:200]))
    input_words = sum(count_words(t.text) for t in turns)
    meeting = is_meeting(turns)
    budget = budget_words(input_words, options.length, options.max_words, MEETING_CURVE if meeting else DEFAULT_CURVE)
    section_limit = max(1, budget // MIN_SECTION_BUDGET)
    sections_expected = max(1, min(section_limit, MAX_SECTIONS, input_words // WORDS_PER_SECTION))
    units = sentence_units(turns, language, min(MAX_UNIT_WORDS, budget // sections_expected))
    if meeting:
        units = _without_backchannels(units, language)
    lecture = is_lecture(turns, input_words)
    if lecture and options.max_words is None:  # units above are cut for the curve's budget, as the scorer was trained
        budget = max(1, round(budget * LECTURE_BUDGET_SHARE))
    return PreparedText(turns=turns, language=language, input_words=input_words, budget=budget, meeting=meeting,
                        classroom=is_classroom(turns), lecture=lecture, section_limit=section_limit, units=units,
                        attribute=attributed(units))


@dataclass
class UnitTable:
    """What a summary is chosen from: the prepared text's units with their vectors, words (speaker labels included),
    whole text, key-term extractor and key terms, and topic section starts."""

    prepared: PreparedText
    vectors: np.ndarray
    words: np.ndarray
    whole: str
    terms: KeyTermExtractor
    key_terms: list[str]
    starts: list[int]

    def lexical(self) -> np.ndarray:
        """(n,) tf-idf centroid score of each unit (summarization.salience)."""
        return lexical_centrality([u.text for u in self.prepared.units], self.prepared.language)

    def features(self, lexical: np.ndarray) -> np.ndarray:
        """The learned sentence scorer's features of each unit (summarization.sentence_scorer), given `lexical()`."""
        return sentence_features([u.text for u in self.prepared.units], self.vectors, self.words, self.starts,
                                 lexical, self.key_terms)


def analyse(embedder: Embedder, prepared: PreparedText) -> UnitTable:
    """Embed a prepared text's units, find its key terms and topic sections (shared by the summarizer and the
    training of its sentence scorer)."""
    units = prepared.units
    vectors = embedder.encode([u.text for u in units])
    # speaker labels are part of the summary, so they count against its budget
    words = np.array([count_words(render_unit(u.speaker, u.text, prepared.attribute)) for u in units], dtype=np.int64)
    whole = "\n".join(u.text for u in units)
    terms = KeyTermExtractor(embedder, whole, prepared.language)
    key_terms = terms.terms([whole], vectors.mean(axis=0, keepdims=True), KEY_TERMS)[0]
    return UnitTable(prepared=prepared, vectors=vectors, words=words, whole=whole, terms=terms, key_terms=key_terms,
                     starts=section_starts(vectors, words, prepared.section_limit))


def summarize_document(generator: Generator, embedder: Embedder, text: str,
                       options: SummaryOptions | None = None) -> DocumentSummary:
    """Summarize one text of any length and kind (dialogue, lecture, meeting, captions, classroom) within its word
    budget.

    Raises EmptyTextError when cleaning leaves no text, ValueError for bad options, KeyError for an unknown adapter.
    """
    options = options or SummaryOptions()
    check_options(options)
    prepared = prepare_text(text, options)
    turns, language, units, budget = prepared.turns, prepared.language, prepared.units, prepared.budget
    input_words = prepared.input_words
    table = analyse(embedder, prepared)
    vectors, words, whole, terms, key_terms, starts = table.vectors, table.words, table.whole, table.terms, \
        table.key_terms, table.starts
    figures = talk_figures(turns, language) if prepared.classroom else None
    bounds = list(zip(starts, starts[1:] + [len(units)]))
    headings = terms.terms(["\n".join(u.text for u in units[a:b]) for a, b in bounds],
                           np.stack([vectors[a:b].mean(axis=0) for a, b in bounds]), HEADING_TERMS)
    titles = [", ".join(terms_).capitalize() if terms_ else f"Part {i + 1}" for i, terms_ in enumerate(headings)]
    lead = [figures.sentence()] if figures is not None else []
    topic = topic_sentence(lesson_topics(units, vectors, embedder, language)) if figures is not None else None
    lead = [topic] + lead if topic and budget >= OPENING_MIN_BUDGET else lead
    opening = opening_sentence(key_terms, whole, language) if prepared.lecture and budget >= OPENING_MIN_BUDGET else None
    lead = [opening] + lead if opening else lead
    # an outline's headings (key terms and start time) are read as part of it, so they count against its budget
    heading_words = sum(count_words(heading_line(title, units[a].start)) for title, (a, _) in zip(titles, bounds)) \
        if options.format == "outline" else 0
    body_budget = max(budget - sum(count_words(s) for s in lead) - heading_words, 1)
    if isinstance(generator, ExtractiveGenerator):
        scorer = scorer_for(embedder.name, vectors.shape[1]) if prepared.lecture else None
        lexical = table.lexical()
        relevance = scorer.relevance(table.features(lexical)) if scorer else None
        sections = _extract_sections(generator, table, bounds, body_budget, figures is not None, lexical, relevance)
        chunks = 1
    else:
        sections, chunks = _generate_sections(generator, prepared, bounds, body_budget, options)
    for section, title, terms_ in zip(sections, titles, headings):
        section.heading, section.key_terms = title, terms_
    sections = [s for s in sections if s.sentences]
    summary = render(sections, options.format, lead, budget)
    return DocumentSummary(summary=summary, format=options.format, length=options.length, budget_words=budget,
                           words=summary_words(summary), input_words=input_words, language=language,
                           key_terms=key_terms, sections=sections, classroom=figures, chunks=chunks)


def is_lecture(turns: Sequence[Turn], input_words: int) -> bool:
    """One voice (or no speaker labels) at lecture length: a lecture or talk."""
    return input_words >= LECTURE_MIN_WORDS and len({t.speaker for t in turns if t.speaker}) <= 1


def opening_sentence(terms: Sequence[str], text: str, language: str = "en") -> str | None:
    """"This lecture covers A, B and C." from the first OPENING_TERMS key terms the text writes as such, each as it is
    written (key terms are found lower-cased; see keyterms.as_written): the topic line a reader of a course overview
    expects first. None when no key term is written in the text."""
    written = [form for form in (as_written(term, text, language) for term in terms) if form][:OPENING_TERMS]
    if not written:
        return None
    listed = written[0] if len(written) == 1 else f"{', '.join(written[:-1])} and {written[-1]}"
    return f"This lecture covers {listed}."


def _without_backchannels(units: list[Unit], language: str) -> list[Unit]:
    """A meeting's sentences without its back-channels (summarization.meetings), unless nothing else is left."""
    kept = [u for u, flagged in zip(units, backchannels([u.text for u in units], language)) if not flagged]
    return kept or units


def _shares(bounds: Sequence[tuple[int, int]], words: np.ndarray, budget: int) -> list[int]:
    """The budget split over sections in proportion to their words (largest remainders)."""
    sizes = np.array([words[a:b].sum() for a, b in bounds], dtype=np.float64)
    exact = budget * sizes / max(sizes.sum(), 1)
    shares = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - shares))[: budget - int(shares.sum())]:
        shares[i] += 1
    return shares.tolist()


def _extract_sections(generator: ExtractiveGenerator, table: UnitTable, bounds: list[tuple[int, int]], budget: int,
                      classroom: bool, lexical: np.ndarray, relevance: np.ndarray | None) -> list[Section]:
    """Key sentences per section by MMR: `relevance` (a lecture's learned sentence scores) or else centrality to the
    whole text (embedding and tf-idf centroid `lexical`) with a lead prior; redundancy against everything chosen so
    far; in an English lecture only sentences of KEY_SENTENCE_CONTENT_WORDS+ content words while a section has them;
    each section gets a share of the budget by its length; a classroom's sections share theirs between teacher and
    student sentences."""
    units, vectors, words, attribute = table.prepared.units, table.vectors, table.words, table.prepared.attribute
    n = len(units)
    substantive = content_words([u.text for u in units], "en") >= KEY_SENTENCE_CONTENT_WORDS \
        if table.prepared.lecture and table.prepared.language == "en" else np.ones(n, dtype=bool)
    if relevance is None:
        relevance = (1 - generator.diversity) * centrality(vectors) + generator.lead_weight * (1.0 - np.arange(n) / max(n, 1)) \
            + LEXICAL_WEIGHT * lexical
    cap = max_sentences(budget)
    sections: list[Section] = []
    carry = 0  # budget a section could not use (no sentence fitted) passes to the next one
    for (a, b), share in zip(bounds, _shares(bounds, words, budget)):
        groups = _speaker_groups(units, a, b) if classroom else [(list(range(a, b)), 1.0)]
        picked: list[int] = []
        share += carry
        for indexes, weight in groups:
            part = int(share * weight) if len(groups) > 1 else share
            if not indexes or part < 1:
                continue
            chosen = mmr_select(vectors[indexes], words[indexes], part, max(1, round(cap * part / budget)),
                                generator.diversity, generator.lead_weight, generator.min_words, relevance[indexes],
                                substantive[indexes])
            picked += [indexes[i] for i in chosen]
        carry = share - int(words[picked].sum())
        sections.append(Section(heading="", start=units[a].start,
                                sentences=excerpts(units, sorted(picked), attribute)))
    return sections


TEACHER_SHARE = 0.6  # of a classroom summary's budget: what was taught; the rest says what students did


def _speaker_groups(units: list[Unit], a: int, b: int) -> list[tuple[list[int], float]]:
    """Teacher and student sentences of units[a:b] with their shares of the budget (all to one group if the other is
    silent in this part)."""
    teacher = [i for i in range(a, b) if is_teacher(units[i].speaker)]
    students = [i for i in range(a, b) if units[i].speaker and not is_teacher(units[i].speaker)]
    if not students or not teacher:
        return [(teacher or students, 1.0)]
    return [(teacher, TEACHER_SHARE), (students, 1 - TEACHER_SHARE)]


def _generate_sections(generator: Generator, prepared: PreparedText, bounds: list[tuple[int, int]], budget: int,
                       options: SummaryOptions) -> tuple[list[Section], int]:
    """The Hugging Face path: paragraph = one map-reduce summary of the whole text; bullets and outline = one summary
    per section (each map-reduced within the model's window), each within its share of the budget."""
    units = prepared.units
    texts = ["\n".join(render_unit(u.speaker, u.text, prepared.attribute) for u in units[a:b]) for a, b in bounds]
    if options.format == "paragraph" or len(bounds) == 1:
        result = summarize_text(generator, "\n".join(texts), options.strategy, options.adapter, budget)
        return [Section(heading="", start=units[0].start, sentences=[result.summary])] + \
            [Section(heading="", start=units[a].start, sentences=[]) for a, _ in bounds[1:]], result.chunks
    words = np.array([count_words(u.text) for u in units], dtype=np.int64)
    sections, chunks = [], 0
    for (a, _), text, share in zip(bounds, texts, _shares(bounds, words, budget)):
        result = summarize_text(generator, text, options.strategy, options.adapter, max(share, 1))
        chunks += result.chunks
        sections.append(Section(heading="", start=units[a].start, sentences=[result.summary] if result.summary else []))
    return sections, chunks


# The marks bullets and outlines add to a line ("## " heading, "- " bullet): layout, not words of the summary.
_MARKS = re.compile(r"^(?:## |- )", re.M)


def summary_words(summary: str) -> int:
    """Words of a rendered summary in the budget's unit (count_words): all a reader reads, i.e. the lead (opening and
    talk-figures sentences), the key sentences and an outline's headings with their start times, without the "## "
    and "- " marks of headings and bullets."""
    return count_words(_MARKS.sub("", summary))


def heading_line(heading: str, start: float | None) -> str:
    """An outline heading as it is read: "[mm:ss] key, terms" when the source had cue times, else the key terms."""
    return f"[{clock(start)}] {heading}" if start is not None else heading


def render(sections: list[Section], fmt: str, lead: list[str], budget: int) -> str:
    """The summary text: the lead sentences (opening, talk figures), then a paragraph, one bullet per key sentence, or
    headed sections with start times. Never over budget words as summary_words counts them (headings included):
    sentences are chosen within the budget, and whatever still does not fit (a talk-figures sentence under a tiny
    max_words) is cut at the budget with an ellipsis."""
    sentences = [s for section in sections for s in section.sentences]
    if fmt == "paragraph":
        return truncate_words(" ".join(lead + sentences), budget)
    if fmt == "bullets":
        lines = [f"- {s}" for s in lead + sentences]
    else:
        lines = [" ".join(lead), ""] if lead else []
        for section in sections:
            lines += [f"## {heading_line(section.heading, section.start)}", *(f"- {s}" for s in section.sentences), ""]
    kept: list[str] = []
    left = budget
    for line in lines:
        words = summary_words(line)
        if words > left:
            mark = _MARKS.match(line)
            cut = truncate_words(line[mark.end() if mark else 0:], left) if left > 0 else ""
            if cut:
                kept.append((mark.group(0) if mark else "") + cut)
            break
        kept.append(line)
        left -= words
    return "\n".join(kept).strip()
