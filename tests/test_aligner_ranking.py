"""The /align ranker: the bundled artifact loads offline from the repo, its rebuild command trains on a tiny slice,
confidence is monotone in score, and the group split keeps a lesson's items together."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from edurag.alignment.ranking import BUNDLED_MODEL_DIR, FEATURES, MODEL_FILE, load_aligner_model, read_model_manifest
from edurag.cli import app
from eval.items import group_splits, item_groups
from finetune.manifest import MANIFEST_KEYS
from tests.conftest import FIXTURES

REPO = Path(__file__).resolve().parents[1]
SLICE = FIXTURES / "im_lessons_slice.jsonl"


def test_bundled_ranker_loads_offline_from_the_repo(tmp_path: Path) -> None:
    """A fresh interpreter with every download path shut and an empty HF cache loads the committed artifact."""
    code = ("from edurag.alignment.ranking import load_aligner_model, read_model_manifest; import numpy as np; "
            "m = load_aligner_model(); v = np.eye(1, 384, dtype='float32'); "
            "print(m.adapt(v).shape, read_model_manifest()['base']['id'])")
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
    assert np.all(np.diff(model.confidence(np.linspace(-10, 10, 101))) >= 0)


def test_group_split_keeps_near_duplicates_and_neighbours_together() -> None:
    """Neighbouring ids of one source and near-duplicate texts share a group, hence a split."""
    text = "Students use tape diagrams and tables of equivalent ratios to compare lemonade recipes and find unit rates."
    rows = [{"id": "im_lesson_000100", "text": text}, {"id": "im_lesson_000102", "text": "Warm-up: notice and wonder."},
            {"id": "im_center_000900", "text": text + " Stage 2."}, {"id": "im_lesson_000500", "text": "Cool-down on area."}]
    groups = item_groups(rows)
    assert groups["im_lesson_000100"] == groups["im_lesson_000102"] == groups["im_center_000900"] == "im_center_000900"
    assert groups["im_lesson_000500"] == "im_lesson_000500"
    splits = group_splits(rows)
    assert splits["im_lesson_000100"] == splits["im_lesson_000102"] == splits["im_center_000900"]
    assert group_splits([*rows[:3], {**rows[3], "split": "heldout"}])["im_lesson_000500"] == "heldout"


def test_slice_fixture_is_a_small_real_sample() -> None:
    rows = [json.loads(line) for line in SLICE.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 16 and all(r["standard_ids"] and r["text"] for r in rows)
