"""Lexical salience of a transcript's sentences: MEAD's centroid score (Radev et al. 2004, "Centroid-based
summarization of multiple documents") on top of the embedder's centrality.

MiniLM's centrality favours sentences that sound like the whole lecture ("So that's the idea here."); the tf-idf
centroid favours sentences carrying the words the lecture keeps coming back to (its names, terms, events), which is
what a human overview is made of. Sentences are the documents (tf-idf with sublinear tf, unigrams of the key-term
vocabulary rules: no stop words or speech fillers); the score is each sentence's cosine to the mean tf-idf vector.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from edurag.summarization.keyterms import term_options


def lexical_centrality(sentences: Sequence[str], language: str) -> np.ndarray:
    """(n,) cosine of each sentence's tf-idf vector to the sentences' mean tf-idf vector, in [0, 1]; zeros when no
    sentence has a content word (only stop words, fillers or digits)."""
    if not sentences:
        return np.zeros(0)
    try:
        matrix = TfidfVectorizer(sublinear_tf=True, **term_options(language, longest=1)).fit_transform(sentences)
    except ValueError:  # an empty vocabulary: nothing but stop words
        return np.zeros(len(sentences))
    centroid = np.asarray(matrix.mean(axis=0)).ravel()
    norm = np.linalg.norm(centroid)
    return np.asarray(matrix @ (centroid / norm)).ravel() if norm else np.zeros(len(sentences))
