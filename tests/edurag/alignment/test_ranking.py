"""The /align ranker: the bundled artifact loads offline from the repo, its manifest says how it was built, and
confidence is monotone in score."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from edurag.alignment.ranking import (BUNDLED_MODEL_DIR, FEATURES, MODEL_FILE, keep_top, load_aligner_model,
                                      read_model_manifest)
from finetune.aligner import EncodedItem, fit_word_prior, fused_only
from finetune.manifest import MANIFEST_KEYS

REPO = Path(__file__).resolve().parents[3]


def test_bundled_ranker_loads_offline_from_the_repo(tmp_path: Path) -> None:
    """A fresh interpreter with every download path shut and an empty HF cache loads the committed artifact."""
    code = ("from edurag.alignment.ranking import load_aligner_model, read_model_manifest; import numpy as np; "
            "m = load_aligner_model(); v = np.eye(1, 384, dtype='float32'); "
            "print(m.adapt(v, 300).shape, read_model_manifest()['base']['id'])")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"),
           "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["(1,", "384)", "sentence-transformers/all-MiniLM-L6-v2"]
    assert (BUNDLED_MODEL_DIR / MODEL_FILE).stat().st_size < 3_000_000


def test_bundled_manifest_says_how_it_was_built() -> None:
    """Base model, data file + sha256, hyperparameters, metrics on both splits and the rebuild command."""
    manifest = read_model_manifest()
    assert all(key in manifest for key in MANIFEST_KEYS)
    assert manifest["features"] == list(FEATURES)
    data = manifest["data"]
    assert data["items_file"] == "im_lessons_tagged.jsonl" and len(data["sha256"]) == 64
    assert data["dev_items"] > data["heldout_items"] > 100
    heldout = manifest["metrics"]["heldout"]
    assert heldout["after"]["hit@5"] > heldout["before"]["hit@5"]
    assert manifest["rebuild"].startswith("EDURAG_EMBEDDING_BACKEND=onnx-int8 edurag finetune aligner --items")


def test_confidence_is_monotone_in_score() -> None:
    """Calibrated confidence never decreases as the ranker score rises, and stays a probability."""
    model = load_aligner_model()
    scores = np.linspace(-15, 15, 2001)
    confidence = model.confidence(scores)
    assert np.all(np.diff(confidence) >= 0) and confidence[0] >= 0 and confidence[-1] <= 1
    assert confidence[-1] > confidence[0]
    assert model.label(0.9) == "likely addressed" and model.label(0.05) == "related"


def test_adapter_gate_keeps_short_texts_near_the_plain_embedding(tmp_path: Path) -> None:
    """With a length gate, a text moves toward its adapted vector in proportion to its words, fully from adapter_words on;
    without a gate (0) every text gets the full adapter."""
    gated = replace(load_aligner_model(), adapter_words=120)
    vectors = np.random.default_rng(0).normal(size=(3, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    full = replace(gated, adapter_words=0).adapt(vectors, 5)
    moved = [float(np.linalg.norm(gated.adapt(vectors, words) - vectors)) for words in (0, 30, 60, 120, 400)]
    assert moved[0] == 0.0 and moved[1] < moved[2] < moved[3]
    assert np.allclose(gated.adapt(vectors, 120), full, atol=1e-6) and np.allclose(gated.adapt(vectors, 400), full, atol=1e-6)
    assert np.allclose(np.linalg.norm(gated.adapt(vectors, 30), axis=1), 1.0, atol=1e-5)
    assert [gated.adapter_share(w) for w in (0, 60, 120, 500)] == [0.0, 0.5, 1.0, 1.0]
    gated.save(tmp_path)
    assert load_aligner_model(tmp_path).adapter_words == 120


def test_keep_top_keeps_each_rows_best_k_as_a_top_k_search_returns_them() -> None:
    """Per passage, the k best scores survive (a tie at the k-th too) and the rest become 0, as for Chroma's and the
    lexical index's top-k candidates; a row with fewer than k non-zero scores keeps them all."""
    scores = np.array([[0.9, 0.1, 0.5, 0.7, 0.3], [0.2, 0.2, 0.0, 0.8, 0.0], [0.0, 0.0, 0.0, 0.4, 0.0]], dtype=np.float32)
    expected = np.array([[0.9, 0, 0, 0.7, 0], [0.2, 0.2, 0, 0.8, 0], [0, 0, 0, 0.4, 0]], dtype=np.float32)
    assert np.array_equal(keep_top(scores, 2), expected)
    assert np.array_equal(keep_top(scores, 5), scores)


def test_word_prior_reads_grade_words_and_survives_save_and_load(tmp_path: Path) -> None:
    """The word prior (TF-IDF words -> subject|grade) puts a ratio lesson in grade 6 and a counting one in K, and the
    saved artifact gives the same grid (float16 weights) through a vectorizer rebuilt from the stored vocabulary."""
    kindergarten = ["Students count the cubes in a ten frame.", "Count the dots in the ten frame and say how many.",
                    "How many counters? Count them one by one and match a number card."]
    grade6 = ["Use a ratio table to find the unit rate of the recipe.", "A double number line shows the ratio of cups.",
              "Find the unit rate: 12 dollars for 3 pounds, what ratio per pound?"]
    index = SimpleNamespace(metadatas=[{"subject": "math", "grades": ["K"]}, {"subject": "math", "grades": ["6"]}], statements=[])
    items = [EncodedItem(id=text, group=text, vectors=np.zeros((1, 2), np.float32), lexical=np.zeros((1, 2), np.float32),
                         gold=[frozenset({column})], words=len(text.split()), text=text)
             for column, texts in enumerate((kindergarten, grade6)) for text in texts]
    model = fused_only(word_prior=fit_word_prior(items, index))
    subjects = ("ela", "math")
    grid = model.word_prior("What is the unit rate in this ratio table?", subjects)
    assert grid.shape == (2, 14) and grid[0].max() == 0.0 and grid[1, 7] > 0.5 > grid[1, 1]  # columns PK, K, 1..12
    assert model.word_prior("Count the cubes in the ten frame.", subjects)[1, 1] > 0.5
    model.save(tmp_path)
    loaded = load_aligner_model(tmp_path)
    assert loaded.word_terms == model.word_terms and loaded.word_classes == model.word_classes
    assert np.allclose(loaded.word_prior("What is the unit rate in this ratio table?", subjects), grid, atol=1e-3)
    assert fused_only().word_prior("anything", subjects) is None


def test_a_grade_hint_replaces_the_grade_part_of_the_word_prior() -> None:
    """With a grade hint the word prior keeps only its subject part, on the hinted grades: a ratio lesson a teacher
    calls kindergarten gets no grade-6 pull from its words, and all of its math probability sits on K."""
    texts = {0: ["Count the cubes in a ten frame.", "Count the dots and say how many."],
             1: ["Use a ratio table to find the unit rate.", "A double number line shows the ratio of cups."]}
    index = SimpleNamespace(metadatas=[{"subject": "math", "grades": ["K"]}, {"subject": "math", "grades": ["6"]}], statements=[])
    items = [EncodedItem(id=text, group=text, vectors=np.zeros((1, 2), np.float32), lexical=np.zeros((1, 2), np.float32),
                         gold=[frozenset({column})], words=len(text.split()), text=text)
             for column, group in texts.items() for text in group]
    model = fused_only(word_prior=fit_word_prior(items, index))
    text, subjects = "What is the unit rate in this ratio table?", ("ela", "math")
    plain, hinted = model.word_prior(text, subjects), model.word_prior(text, subjects, {"K"})
    assert plain[1, 7] > plain[1, 1]
    assert hinted[1, 1] == pytest.approx(1.0, abs=1e-5) and np.delete(hinted, 1, axis=1).max() == 0.0 and hinted[0].max() == 0.0
