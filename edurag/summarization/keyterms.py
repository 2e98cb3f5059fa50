"""Key terms of a transcript or a section: KeyBERT over the embedder the summarizer already uses.

Candidates are the most frequent 1-2 word phrases (stop words and speech fillers removed) that are noun phrases in
English (`is_noun_phrase`: "demographic transition", "Malthus", not "interesting", "suppose" or "years ago"); KeyBERT
ranks them by cosine to the text's embedding with MMR for variety. The text's embedding is the mean of its sentence
vectors, because the encoder reads only its first 256 word pieces: KeyBERT's own document embedding would see the first
minute of a lecture.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Sequence

import numpy as np
from HanTa.HanoverTagger import HanoverTagger
from keybert.backend import BaseEmbedder
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
from stop_words import StopWordError, get_stop_words

from edurag.embedder import Embedder
from keybert import KeyBERT

# Speech fillers and classroom talk that are frequent in every transcript and say nothing about its topic: "fact" and
# "sense" as lecturers use them ("in fact", "the fact that", "makes sense"), and course logistics (mic, hand-outs,
# exams) that a lecture's or lesson's content never is.
SPEECH_FILLERS = frozenset(
    "okay ok yeah yes uh um uhm hmm mm like just really right going gonna wanna got get gets getting know think thing things "
    "lot kind sort actually basically say says said saying want let let's sure maybe way mean look looking good great "
    "today guys people time little bit does did doing make makes use used talk talking question questions point "
    "inaudible crosstalk laughter applause student students teacher class exactly totally alright cool agree instead "
    "stuff fact sense mic microphone handout handouts syllabus midterm midterms exam exams quiz homework".split()
)
# What the vectorizer's letters-only tokens keep of negated contractions ("doesn't" -> "doesn"): no words at all.
CONTRACTION_STEMS = frozenset(
    "aren couldn didn doesn hadn hasn haven isn mustn needn shouldn wasn weren wouldn".split())
# Hannover Tagger (HanTa) CLAWS5 tags of the words a key term is made of: nouns and proper nouns end it, adjectives may
# come before ("affirmative action"); UNC (unclassified) covers the foreign words and names it cannot place.
NOUN_TAGS = frozenset({"NN0", "NN1", "NN2", "NP0", "UNC"})
ADJECTIVE_TAGS = frozenset({"AJ0", "AJC", "AJS"})
GERUND_TAG = "VVG"  # an -ing form heads a term after a modifier ("global warming", "dynamic hedging"), not alone
# A word whose likeliest tag scores below this log-probability is not in HanTa's lexicon but guessed from its letters
# (lexicon words score -7 to -16, guesses -30 and below): names and technical terms ("Peggy", "holocene"), counted as
# nouns.
UNKNOWN_WORD_LOGPROB = -25.0
_UNSPACED_LANGUAGES = {"zh", "ja", "th", "lo", "km", "my"}
MAX_CANDIDATES = 200


class _KeyBERTBackend(BaseEmbedder):
    """Lets KeyBERT embed candidate phrases with edurag's Embedder (torch or ONNX backend alike)."""

    def __init__(self, embedder: Embedder) -> None:
        super().__init__()
        self.embedder = embedder

    def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
        """Unit-length vectors of the phrases."""
        return self.embedder.encode(list(documents))


@lru_cache(maxsize=64)
def stop_words(language: str) -> frozenset[str]:
    """Words that never start, end or make a key term, lower case: for English scikit-learn's list plus SPEECH_FILLERS
    and CONTRACTION_STEMS; for the 32 other languages of the `stop-words` package (ISO 639-1: es, fr, de, pt, it, nl,
    pl, ru, zh, ...) its list, split into words as the vectorizer splits text (French "d'un" gives "un"); none for any
    other language and for "und" (a text too short to tell its language)."""
    if language == "en":
        return frozenset(ENGLISH_STOP_WORDS | SPEECH_FILLERS | CONTRACTION_STEMS)
    try:
        listed = get_stop_words(language)
    except StopWordError:
        return frozenset()
    return frozenset(word for entry in listed for word in re.findall(r"[^\W\d_]+", entry.lower()))


def term_options(language: str, longest: int = 2) -> dict:
    """scikit-learn vectorizer options for a transcript's terms: word 1..`longest`-grams of 3+ letters without the
    language's stop words (`stop_words`), or character 2-4 grams for scripts written without spaces."""
    if language in _UNSPACED_LANGUAGES:
        return {"analyzer": "char", "ngram_range": (2, 4), "token_pattern": None}
    stop = sorted(stop_words(language)) or None
    return {"ngram_range": (1, longest), "stop_words": stop, "token_pattern": r"(?u)\b[^\W\d_]{3,}\b"}


def content_words(sentences: Sequence[str], language: str) -> np.ndarray:
    """(n,) int: distinct content words of each sentence by the key-term vocabulary rules (`term_options`, one word at a
    time: 3+ letters, no stop words, speech fillers or classroom talk): "Who's got the mic?" has 0, "They're in the
    envelope." 1, "Malthus thought wages would fall back to subsistence." 5."""
    analyze = CountVectorizer(**term_options(language, longest=1)).build_analyzer()
    return np.array([len(set(analyze(sentence))) for sentence in sentences], dtype=np.int64)


@lru_cache(maxsize=1)
def _english_tagger() -> HanoverTagger:
    return HanoverTagger("morphmodel_en.pgz")  # the English model ships inside the HanTa package


@lru_cache(maxsize=65536)
def _english_word_class(word: str) -> str:
    """"noun", "adjective", "gerund" or "other": the word's likeliest CLAWS5 tag out of context in HanTa's English
    lexicon; a word the lexicon does not hold (its tag only guessed, UNKNOWN_WORD_LOGPROB) counts as a noun."""
    tags = _english_tagger().tag_word(word)
    if not tags or tags[0][1] < UNKNOWN_WORD_LOGPROB or tags[0][0] in NOUN_TAGS:
        return "noun"
    if tags[0][0] == GERUND_TAG:
        return "gerund"
    return "adjective" if tags[0][0] in ADJECTIVE_TAGS else "other"


def is_noun_phrase(term: str, language: str) -> bool:
    """Whether a lower-cased key-term candidate names a thing. English: its last word is a noun (or a gerund after a
    modifier) and any word before it a noun or adjective (`_english_word_class`): "death rates", "affirmative action",
    "global warming", "malthus" are, "interesting", "suppose", "essentially", "thinking", "years ago", "read passage"
    are not, nor is a word said twice ("mortgage mortgage"). Other languages: always True (no tagger here)."""
    if language != "en":
        return True
    words = term.split()
    classes = [_english_word_class(word) for word in words]
    head = classes[-1] == "noun" or (classes[-1] == "gerund" and len(classes) > 1)
    return head and len(set(words)) == len(words) and all(c in ("noun", "adjective") for c in classes[:-1])


def _vectorizer(language: str, vocabulary: Sequence[str] | None = None) -> CountVectorizer:
    return CountVectorizer(vocabulary=vocabulary, **term_options(language))


def candidates(text: str, language: str) -> list[str]:
    """The text's MAX_CANDIDATES most frequent 1-2 word terms (`term_options`) that are noun phrases
    (`is_noun_phrase`), in the vectorizer's (alphabetical) order; [] when the text has only stop words or no letters."""
    vectorizer = _vectorizer(language)
    try:
        counts = vectorizer.fit_transform([text]).toarray().ravel()
    except ValueError:  # only stop words or no letters
        return []
    names = vectorizer.get_feature_names_out()
    frequent = [i for i in np.argsort(-counts, kind="stable") if is_noun_phrase(names[i], language)][:MAX_CANDIDATES]
    return [str(names[i]) for i in sorted(frequent)]


class KeyTermExtractor:
    """Key terms of a whole text and of its parts, embedding the candidate phrases once."""

    def __init__(self, embedder: Embedder, text: str, language: str) -> None:
        self.language = language
        self.model = KeyBERT(model=_KeyBERTBackend(embedder))  # type: ignore[arg-type]
        self.vocabulary = candidates(text, language)
        self.vectors = embedder.encode(self.vocabulary) if self.vocabulary else np.zeros((0, 1), dtype=np.float32)

    def terms(self, texts: Sequence[str], centroids: np.ndarray, top_n: int) -> list[list[str]]:
        """Up to top_n key terms per text; `centroids` are the texts' mean sentence vectors (one row per text)."""
        if not self.vocabulary or not texts:
            return [[] for _ in texts]
        vectorizer = _vectorizer(self.language, vocabulary=self.vocabulary)
        found = self.model.extract_keywords(list(texts), vectorizer=vectorizer, doc_embeddings=np.asarray(centroids),
                                            word_embeddings=self.vectors, use_mmr=True, diversity=0.5, top_n=top_n)
        if texts and found and isinstance(found[0], tuple):  # KeyBERT unwraps the list for a single text
            found = [found]  # type: ignore[list-item]
        return [_drop_nested([term for term, _ in per_text]) for per_text in found]


def _drop_nested(terms: list[str]) -> list[str]:
    """Keep "water cycle" and drop a later "water" or "cycle" that only repeats part of it."""
    kept: list[str] = []
    for term in terms:
        words = set(term.split())
        if not any(words <= set(k.split()) or set(k.split()) <= words for k in kept):
            kept.append(term)
    return kept


@lru_cache(maxsize=64)
def _stop_word_gap(language: str) -> str:
    """Between two words of a key term: white space with up to two of the language's stop words (the vectorizer
    drops them inside n-grams)."""
    words = ENGLISH_STOP_WORDS if language == "en" else stop_words(language)  # English: fillers are content here
    listed = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    return r"\s+(?:(?:{})\s+){{0,2}}".format(listed) if listed else r"\s+"


def as_written(term: str, text: str, language: str = "en") -> str | None:
    """A lower-cased key term as the text most often writes it inside a sentence (a sentence's capital first letter
    says nothing): "martin luther" -> "Martin Luther", "photosynthesis" stays lower case, and a two-word term whose
    stop words the vectorizer dropped gets them back ("house lords" -> "House of Lords"). None when the text never
    writes its words in a row or with only stop words between them (the vectorizer pairs words across other words)."""
    pattern = re.compile(r"\b" + _stop_word_gap(language).join(map(re.escape, term.split())) + r"\b", re.IGNORECASE)
    inside, anywhere = Counter(), Counter()
    for match in pattern.finditer(text):
        form = " ".join(match.group(0).split())
        anywhere[form] += 1
        before = text[:match.start()].rstrip()
        if before and before[-1] not in ".?!…。？！":
            inside[form] += 1
    found = inside or anywhere
    return found.most_common(1)[0][0] if found else None
