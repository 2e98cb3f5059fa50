"""Talk figures of a classroom transcript that instructional coaches use, counted only from what the text shows.

Who is the teacher comes from the speaker labels (T, T2, Teacher, Mr./Ms./Dr. Name, Instructor, Prof); every other
speaker (S, SS, Student, a first name) is a student. A turn is a run of consecutive lines by one speaker; a teacher
question is a teacher sentence ending in a question mark. Words are count_words units (so CJK counts too).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

from edurag.embedder import Embedder
from edurag.sentences import count_words, has_terminal, split_sentences
from edurag.summarization.keyterms import term_options
from edurag.transcript_text import TEACHER_LABELS, Turn, Unit, readable_speaker

MIN_TURNS = 4
# What was taught: words of the teacher's explanations. Shorter teacher sentences are mostly feedback and management
# ("Excellent.", "Yep, go ahead.", "Fine."), which the transcript-wide key terms of a class are full of; a topic word
# comes back in several explanations, and one word per stem (decimal, decimals) is enough.
TOPIC_TERMS = 3
TOPIC_MIN_WORDS = 6
TOPIC_MIN_SENTENCES = 3


@dataclass
class LongestContribution:
    """The longest student turn: who said it, how many words, where it starts (seconds, when known) and its text."""

    speaker: str
    words: int
    text: str
    start: float | None


@dataclass
class TalkFigures:
    """Teacher vs student talk: words, turns, their shares, teacher questions and the longest student contribution."""

    teacher_words: int
    student_words: int
    teacher_word_share: float
    teacher_turns: int
    student_turns: int
    teacher_turn_share: float
    teacher_questions: int
    longest_student_contribution: LongestContribution | None
    teachers: list[str]
    students: list[str]

    def as_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return asdict(self)

    def sentence(self) -> str:
        """The figures in one sentence for the summary text."""
        text = (f"Teacher talk: {self.teacher_word_share:.0%} of words and {self.teacher_turn_share:.0%} of turns; "
                f"{_count(self.teacher_questions, 'teacher question')}.")
        longest = self.longest_student_contribution
        if longest:
            text += f" Longest student contribution: {_count(longest.words, 'word')} ({readable_speaker(longest.speaker)})."
        return text


def _count(n: int, noun: str) -> str:
    """`n` and the noun, plural unless n is 1 ("1 teacher question", "0 teacher questions")."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def is_teacher(speaker: str) -> bool:
    """Whether a speaker label names the teacher."""
    return bool(TEACHER_LABELS.match(speaker.strip()))


def is_classroom(turns: list[Turn]) -> bool:
    """A classroom transcript: a teacher label and at least one other labelled speaker, over at least MIN_TURNS turns."""
    speakers = {t.speaker for t in turns if t.speaker}
    return len(turns) >= MIN_TURNS and any(map(is_teacher, speakers)) and any(not is_teacher(s) for s in speakers)


def talk_figures(turns: list[Turn], language: str = "en") -> TalkFigures:
    """Count teacher and student words, turns and teacher questions; unlabelled turns count for neither."""
    teacher_words = student_words = teacher_turns = student_turns = questions = 0
    longest: LongestContribution | None = None
    teachers: list[str] = []
    students: list[str] = []
    for turn in turns:
        if not turn.speaker:
            continue
        words = count_words(turn.text)
        if is_teacher(turn.speaker):
            teacher_words += words
            teacher_turns += 1
            questions += sum(1 for s in split_sentences(turn.text, language) if has_terminal(s) and s.rstrip("'\"”’)] ")[-1] in "?？")
            if turn.speaker not in teachers:
                teachers.append(turn.speaker)
            continue
        student_words += words
        student_turns += 1
        if turn.speaker not in students:
            students.append(turn.speaker)
        if longest is None or words > longest.words:
            longest = LongestContribution(speaker=turn.speaker, words=words, text=turn.text, start=turn.start)
    return TalkFigures(
        teacher_words=teacher_words, student_words=student_words,
        teacher_word_share=round(teacher_words / max(teacher_words + student_words, 1), 4),
        teacher_turns=teacher_turns, student_turns=student_turns,
        teacher_turn_share=round(teacher_turns / max(teacher_turns + student_turns, 1), 4),
        teacher_questions=questions, longest_student_contribution=longest, teachers=teachers, students=students,
    )


def lesson_topics(units: Sequence[Unit], vectors: np.ndarray, embedder: Embedder, language: str) -> list[str]:
    """Up to TOPIC_TERMS words naming what the teacher taught (TalkMoves Davies: decimal, cents, tenths): single words
    of 3+ letters, no stop words (keyterms.term_options), found in at least TOPIC_MIN_SENTENCES teacher sentences of
    TOPIC_MIN_WORDS+ words, ranked by cosine to the mean vector of those sentences (`vectors`: one row per unit);
    speakers' names and a second form of a kept word (same first five letters, most of the shorter word) left out."""
    picked = [i for i, u in enumerate(units) if is_teacher(u.speaker) and count_words(u.text) >= TOPIC_MIN_WORDS]
    if len(picked) < TOPIC_MIN_SENTENCES:
        return []
    try:
        counts = CountVectorizer(binary=True, **term_options(language, longest=1)).fit([units[i].text for i in picked])
    except ValueError:  # only stop words
        return []
    names = {part.lower() for u in units for part in u.speaker.replace(".", " ").split()}
    found = counts.transform([units[i].text for i in picked]).sum(axis=0).A1
    words = [w for w, n in zip(counts.get_feature_names_out(), found) if n >= TOPIC_MIN_SENTENCES and w not in names]
    if not words:
        return []
    centre = vectors[picked].mean(axis=0)
    ranked = [words[i] for i in np.argsort(-(embedder.encode(words) @ centre), kind="stable")]
    topics: list[str] = []
    for word in ranked:
        if not any(_same_word(word, kept) for kept in topics):
            topics.append(word)
        if len(topics) == TOPIC_TERMS:
            break
    return topics


def _same_word(a: str, b: str) -> bool:
    shared = len(os.path.commonprefix([a, b]))
    return shared >= 5 and shared >= 0.8 * min(len(a), len(b))


def topic_sentence(topics: Sequence[str]) -> str | None:
    """"This lesson covers A, B and C." (None without topics)."""
    if not topics:
        return None
    listed = topics[0] if len(topics) == 1 else f"{', '.join(topics[:-1])} and {topics[-1]}"
    return f"This lesson covers {listed}."
