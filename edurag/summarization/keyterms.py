"""Key terms of a transcript or a section: KeyBERT over the embedder the summarizer already uses.

Candidates are the most frequent 1-2 word phrases (stop words and speech fillers removed); KeyBERT ranks them by cosine
to the text's embedding with MMR for variety. The text's embedding is the mean of its sentence vectors, because the
encoder reads only its first 256 word pieces: KeyBERT's own document embedding would see the first minute of a lecture.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Sequence

import numpy as np
from keybert.backend import BaseEmbedder
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
from stop_words import StopWordError, get_stop_words

from edurag.embedder import Embedder
from keybert import KeyBERT

# Speech fillers and classroom talk that are frequent in every transcript and say nothing about its topic.
SPEECH_FILLERS = frozenset(
    "okay ok yeah yes uh um uhm hmm mm like just really right going gonna wanna got get gets getting know think thing things "
    "lot kind sort actually basically say says said saying want let let's sure maybe way mean look looking good great "
    "today guys people time little bit does did doing make makes use used talk talking question questions point "
    "inaudible crosstalk laughter applause student students teacher class exactly totally alright cool agree instead "
    "stuff".split()
)
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
    """Words that never start, end or make a key term, lower case: for English scikit-learn's list plus SPEECH_FILLERS;
    for the 32 other languages of the `stop-words` package (ISO 639-1: es, fr, de, pt, it, nl, pl, ru, zh, ...) its
    list, split into words as the vectorizer splits text (French "d'un" gives "un"); none for any other language and
    for "und" (a text too short to tell its language)."""
    if language == "en":
        return frozenset(ENGLISH_STOP_WORDS | SPEECH_FILLERS)
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


def _vectorizer(language: str, vocabulary: Sequence[str] | None = None, max_features: int | None = None) -> CountVectorizer:
    return CountVectorizer(vocabulary=vocabulary, max_features=max_features, **term_options(language))


class KeyTermExtractor:
    """Key terms of a whole text and of its parts, embedding the candidate phrases once."""

    def __init__(self, embedder: Embedder, text: str, language: str) -> None:
        self.language = language
        self.model = KeyBERT(model=_KeyBERTBackend(embedder))  # type: ignore[arg-type]
        try:
            counts = _vectorizer(language, max_features=MAX_CANDIDATES).fit([text])
            self.vocabulary = list(counts.get_feature_names_out())
        except ValueError:  # only stop words or no letters
            self.vocabulary = []
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
