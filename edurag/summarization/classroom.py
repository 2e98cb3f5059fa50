"""Talk figures of a classroom transcript that instructional coaches use, counted only from what the text shows.

Who is the teacher comes from the speaker labels (T, T2, Teacher, Mr./Ms./Dr. Name, Instructor, Prof); every other
speaker (S, SS, Student, a first name) is a student. A turn is a run of consecutive lines by one speaker; a teacher
question is a teacher sentence ending in a question mark. Words are count_words units (so CJK counts too).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from edurag.sentences import count_words, has_terminal, split_sentences
from edurag.transcript_text import TEACHER_LABELS, Turn, readable_speaker

MIN_TURNS = 4


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
                f"{self.teacher_questions} teacher questions.")
        longest = self.longest_student_contribution
        if longest:
            text += f" Longest student contribution: {longest.words} words ({readable_speaker(longest.speaker)})."
        return text


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
