"""`edurag finetune aligner`: the rebuild command of the bundled ranker runs a few steps on a tiny real slice."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from edurag.alignment.ranking import load_aligner_model, read_model_manifest
from edurag.cli import app
from tests.conftest import FIXTURES

SLICE = FIXTURES / "im_lessons_slice.jsonl"


@pytest.mark.slow
def test_rebuild_command_trains_a_few_steps_on_a_tiny_slice(standards_subset_dir: Path, tmp_path: Path) -> None:
    """`edurag finetune aligner` on 16 lessons and a trimmed catalog writes a loadable ranker with its manifest."""
    out = tmp_path / "aligner"
    result = CliRunner().invoke(app, ["finetune", "aligner", "--items", str(SLICE), "--out", str(out), "--adapter-steps", "3"],
                                env={"EDURAG_STANDARDS_DIR": str(standards_subset_dir)})
    assert result.exit_code == 0, result.output
    manifest = read_model_manifest(out)
    assert manifest["steps"] == 3 and len(manifest["adapter_losses"]) == 3
    assert manifest["data"]["dev_items"] + manifest["data"]["heldout_items"] == 16
    model = load_aligner_model(out)
    assert model.adapter is not None and model.adapter.shape == (384, 384)
    assert model.adapter_words == manifest["hyperparameters"]["adapter_words"] > 0
    assert model.word_coef is not None and model.word_coef.shape == (len(model.word_classes), len(model.word_terms))
    assert model.word_prior("Students count the counters in a ten frame.", ("math",)).shape == (1, 14)
    statements = manifest["data"]["word_prior_statements"]
    assert "tx-teks-2012" in statements["frameworks"] and statements["statements"] > 5000
    assert len(statements["sha256"]) == 64
    assert {"math|K", "math|HS"} <= set(model.word_classes)  # grades the 16 lessons' tags may not reach
    assert np.all(np.diff(model.confidence(np.linspace(-10, 10, 101))) >= 0)
    dev_cv = manifest["metrics"]["dev_cv"]
    assert set(dev_cv) >= {"hit@1", "hit@5", "mrr"} and all(0 <= v <= 1 for v in dev_cv.values())


def test_slice_fixture_is_a_small_real_sample() -> None:
    rows = [json.loads(line) for line in SLICE.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 16 and all(r["standard_ids"] and r["text"] for r in rows)


def test_ranker_trains_on_every_candidate_align_scores_unless_told_a_depth() -> None:
    """The default recipe's rows are all of a lesson's candidates (what /align ranks), best fused score first."""
    from dataclasses import replace

    from finetune.aligner import EncodedItem, StandardsIndex, _rows
    from finetune.config import AlignerArgs

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((12, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    metadatas = [{"code": f"6.RP.A.{i}", "grades": ["6"], "subject": "math", "domain": "RP", "cluster": "A"} for i in range(12)]
    index = StandardsIndex(codes=[m["code"] for m in metadatas], metadatas=metadatas, vectors=vectors, lexical=None)
    item = EncodedItem(id="a", group="a", vectors=vectors[:2] + 0.1, lexical=np.zeros((2, 12), np.float32),
                       gold=[frozenset({0})], words=50)
    every, labels = _rows([item], index, None, replace(AlignerArgs(), candidates=5))[:2]
    assert AlignerArgs().train_depth == 0 and 5 <= len(every) <= 10 and labels.sum() <= 1
    assert np.all(np.diff(every[:, 0]) <= 0)  # best fused score first
    top = _rows([item], index, None, replace(AlignerArgs(), candidates=5, train_depth=3)).x
    assert np.array_equal(top, every[:3])


def test_dev_cross_validation_scores_each_fold_with_a_ranker_fitted_on_the_other_folds(standards_subset_dir: Path) -> None:
    """cross_validated_metrics fits on the `train` rows of the other folds and ranks the fold's `test` rows: with test
    features that agree with the labels every tagged standard comes first, with inverted ones last."""
    from edurag.standards import load_catalog
    from eval.retrieval import CodeNormalizer
    from finetune.aligner import EncodedItem, Rows, StandardsIndex, cross_validated_metrics
    from finetune.config import AlignerArgs

    codes = ["6.RP.A.1", "6.RP.A.2", "6.RP.A.3", "6.EE.A.1", "6.EE.A.2", "6.NS.A.1"]
    index = StandardsIndex(codes=codes, metadatas=[{"code": c} for c in codes], vectors=np.eye(6, dtype=np.float32), lexical=None)
    items = [EncodedItem(id=str(n), group=str(n), vectors=np.zeros((1, 6), np.float32), lexical=np.zeros((1, 6), np.float32),
                         gold=[frozenset({n % 6})], words=100) for n in range(8)]
    item, column = np.repeat(np.arange(8), 6), np.tile(np.arange(6), 8)
    y = column == item % 6
    rng = np.random.default_rng(0)
    x = np.stack([y + 0.1 * rng.standard_normal(len(y)), rng.standard_normal(len(y))], axis=1)
    fold, groups = item % 4, item.astype(str)
    train = Rows(x, y, groups, item, column, fold)
    normalizer = CodeNormalizer(load_catalog(standards_subset_dir))
    agree = cross_validated_metrics(train, train, items, index, normalizer, AlignerArgs(ranker_c=1.0))
    inverted = cross_validated_metrics(train, train._replace(x=x * [-1, 1]), items, index, normalizer, AlignerArgs(ranker_c=1.0))
    assert agree["hit@1"] == agree["mrr"] == 1.0
    assert inverted["hit@5"] == 0.0 and inverted["mrr"] == pytest.approx(1 / 6, abs=1e-4)
    assert cross_validated_metrics(train._replace(fold=np.zeros_like(fold)), train, items, index, normalizer, AlignerArgs()) == {}


def test_word_prior_statements_are_the_bundled_frameworks_standards_with_a_grade_class() -> None:
    """statement_classes keeps statements a prior class fits, long enough to carry words of a grade, and reads some
    high-school grades (Texas Algebra I, grade 9) as the HS band; framework_standards reads the bundled frameworks."""
    from edurag.frameworks.importer import framework_folders
    from edurag.settings import BUNDLED_FRAMEWORKS_DIR
    from finetune.aligner import framework_standards, statement_classes

    pairs = statement_classes([
        ("Simplify numerical expressions that do not involve exponents.", "math", ["9"]),
        ("Use ratio reasoning to convert measurement units.", "math", ["6"]),
        ("Geometry", "math", ["6"]),
        ("Make sense of problems and persevere in solving them.", "math", ["K", *map(str, range(1, 13))]),
    ])
    assert pairs == [("Simplify numerical expressions that do not involve exponents.", "math|HS"),
                     ("Use ratio reasoning to convert measurement units.", "math|6")]
    texas = [f for f in framework_folders(BUNDLED_FRAMEWORKS_DIR) if f.name == "tx-teks-2012"]
    statements = [(s.text, s.subject, s.grades) for s in framework_standards(texas)]
    assert len(statements) > 500
    labels = {label for _, label in statement_classes(statements)}
    assert {"math|K", "math|5", "math|8", "math|HS"} <= labels


def test_training_bm25_reads_the_statistics_of_the_index_align_searches(standards_subset_dir: Path, embedder, tmp_path: Path) -> None:
    """The trainer's BM25 index holds the bundled state frameworks beside the ranked standards, as the index `make run`
    builds does, and ranks only the ranked standards (their frameworks, as /align's default scope): the lexical
    feature is computed with /align's word statistics."""
    from edurag.frameworks.importer import framework_folders
    from edurag.settings import BUNDLED_FRAMEWORKS_DIR
    from edurag.standards import load_catalog
    from finetune.aligner import framework_standards, normalized_lexical, standards_index

    catalog = load_catalog(standards_subset_dir)
    texas = [f for f in framework_folders(BUNDLED_FRAMEWORKS_DIR) if f.name == "tx-teks-2012"]
    alone = standards_index(catalog, embedder, tmp_path / "alone")
    shared = standards_index(catalog, embedder, tmp_path / "shared", texas)
    assert shared.codes == alone.codes
    assert shared.lexical.count() == len(shared.codes) + len(framework_standards(texas))
    passages = ["Students use ratio reasoning and a table of equivalent ratios to find the unit rate of each recipe."]
    scores = normalized_lexical(shared, passages, 100)
    assert scores.shape == (1, len(shared.codes)) and scores.max() == 1.0
    raw = {hit.id: hit.score for hit in shared.lexical.search(passages[0], 100, {"framework": ("ccss", "ngss")})}
    assert set(raw) <= set(shared.codes)
    best = max(raw, key=raw.get)
    assert scores[0, shared.codes.index(best)] == 1.0
    alone_raw = {hit.id: hit.score for hit in alone.lexical.search(passages[0], 100)}
    assert raw[best] != pytest.approx(alone_raw[best])  # Texas's word statistics changed the score


def test_framework_data_hash_changes_with_any_file(tmp_path: Path) -> None:
    """folders_sha256 (the word prior's statements in the manifest) reads every file's name and bytes."""
    from finetune.data import folders_sha256

    folder = tmp_path / "tx"
    folder.mkdir()
    (folder / "01.json").write_text('{"a": 1}', encoding="utf-8")
    first = folders_sha256([folder])
    assert first == folders_sha256([folder])
    (folder / "01.json").write_text('{"a": 2}', encoding="utf-8")
    second = folders_sha256([folder])
    (folder / "01.json").rename(folder / "02.json")
    assert len({first, second, folders_sha256([folder])}) == 3
