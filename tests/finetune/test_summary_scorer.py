"""`edurag finetune summary-scorer`: the rebuild command of the lectures' bundled sentence scorer, run on a tiny real
slice (three Open Yale Courses tune lectures, CC BY-NC-SA, transcripts cut to their first ~1,400 words)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from edurag.cli import app
from edurag.datasets import lecture_split
from edurag.summarization.sentence_scorer import (FEATURES, load_sentence_scorer, read_scorer_manifest, scorer_for,
                                                  sentence_features)
from finetune.data import file_sha256
from finetune.summary_scorer import bigram_precision
from tests.conftest import FIXTURES, SHARED_DATA

SLICE = FIXTURES / "yale_lectures_slice.jsonl"
LECTURES = SHARED_DATA / "lectures" / "yale_lectures_dev43.jsonl"


@pytest.mark.slow
def test_rebuild_command_trains_on_a_tiny_slice(embedder, tmp_path: Path) -> None:
    """The command fits a scorer whose predictions rank the slice's sentences as their true targets do, and writes
    the manifest a rebuild needs."""
    out = tmp_path / "scorer"
    result = CliRunner().invoke(app, ["finetune", "summary-scorer", "--data", str(SLICE), "--out", str(out), "--folds", "3"])
    assert result.exit_code == 0, result.output
    manifest = read_scorer_manifest(out)
    assert manifest["base"] == {"id": embedder.name, "backend": embedder.backend, "dim": embedder.dim}
    assert manifest["data"]["sha256"] == file_sha256(SLICE) and manifest["data"]["tune_lectures"] == 3
    assert manifest["hyperparameters"]["alpha"] == 1000.0 and "summary-scorer" in manifest["rebuild"]
    assert manifest["metrics"]["spearman_in_sample"] > 0.3
    assert manifest["metrics"]["spearman_cross_validated"] is not None
    scorer = load_sentence_scorer(out)
    assert scorer.weights.shape == (len(FEATURES) + 2 * embedder.dim,)
    assert scorer_for("another-embedder", embedder.dim) is None


def test_slice_is_tune_lectures_only() -> None:
    rows = [json.loads(line) for line in SLICE.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 3 and all(lecture_split(r["lecture_title"]) == "tune" for r in rows)
    assert all(1000 <= len(r["transcript"].split()) <= 1500 and r["lecture_description"] for r in rows)


@pytest.mark.skipif(not LECTURES.exists(), reason="needs ../shared/data/lectures")
def test_bundled_scorer_was_trained_on_the_tune_lectures_of_the_dev_file(embedder) -> None:
    manifest = read_scorer_manifest()
    titles = [json.loads(line)["lecture_title"] for line in LECTURES.read_text(encoding="utf-8").splitlines()]
    assert [lecture_split(t) for t in titles].count("tune") == manifest["data"]["tune_lectures"] == 28
    assert manifest["data"]["sha256"] == file_sha256(LECTURES)
    assert scorer_for(embedder.name, embedder.dim) is not None


def test_bigram_precision_counts_pairs_the_reference_repeats() -> None:
    reference = "In this lecture, Professor Rae explains the world demographic transition."
    scores = bigram_precision(["We look at the world demographic transition today.", "Okay, any questions?"], reference)
    assert scores[0] == pytest.approx(3 / 7) and scores[1] == 0.0


def test_features_have_one_row_per_sentence_and_the_vector_last(embedder) -> None:
    texts = ["Today we'll talk about the Federal Reserve.", "Um, you know, right?", "In 1913 Congress created it."]
    vectors = embedder.encode(texts)
    features = sentence_features(texts, vectors, np.array([7, 4, 5]), [0, 2], np.array([0.5, 0.0, 0.4]), ["federal reserve"])
    assert features.shape == (3, len(FEATURES) + 2 * vectors.shape[1])
    named = dict(zip(FEATURES, features[0]))
    assert named["cue_phrases"] == 3 and named["key_terms"] == 1 and named["position"] == 0
    assert dict(zip(FEATURES, features[1]))["question"] == 1
    assert np.allclose(features[:, len(FEATURES):len(FEATURES) + vectors.shape[1]], vectors)
