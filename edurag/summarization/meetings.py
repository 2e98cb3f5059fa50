"""Meeting transcripts: several labelled speakers, none of them a teacher (project, research and committee meetings),
and the back-channel turns that fill them ("Yeah.", "Mm-hmm.", "Uh - huh .", "Okay, cool.").

Back-channels say nothing a summary could use, yet the embedder rates them as typical of a meeting (they are most of
its turns), so they would crowd out what was discussed. A sentence is a back-channel when it has fewer than
MIN_CONTENT_WORDS distinct content words (summarization.keyterms.content_words: no stop words, no speech fillers,
3+ letters).
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from edurag.summarization.classroom import is_classroom
from edurag.summarization.keyterms import content_words
from edurag.transcript_text import Turn

MIN_SPEAKERS = 3  # DialogSum-style two-person dialogues are not meetings
MIN_TURNS_PER_SPEAKER = 2  # a name that speaks once (a visitor's greeting) does not make a meeting
MIN_CONTENT_WORDS = 2


def is_meeting(turns: Sequence[Turn]) -> bool:
    """A meeting: at least MIN_SPEAKERS labelled speakers with MIN_TURNS_PER_SPEAKER turns each, and no teacher
    (a classroom transcript is summarized as a lesson, see summarization.classroom)."""
    turns_by_speaker = Counter(t.speaker for t in turns if t.speaker)
    regular = sum(1 for count in turns_by_speaker.values() if count >= MIN_TURNS_PER_SPEAKER)
    return regular >= MIN_SPEAKERS and not is_classroom(list(turns))


def backchannels(sentences: Sequence[str], language: str) -> list[bool]:
    """Per sentence, whether it is a back-channel (fewer than MIN_CONTENT_WORDS distinct content words). English only: other
    languages have no stop-word list here, so nothing is flagged."""
    if language != "en":
        return [False] * len(sentences)
    return (content_words(sentences, language) < MIN_CONTENT_WORDS).tolist()
