"""The /align ranker: the bundled artifact loads offline from the repo, its manifest says how it was built, and
confidence is monotone in score."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from edurag.alignment.ranking import BUNDLED_MODEL_DIR, FEATURES, MODEL_FILE, load_aligner_model, read_model_manifest
from finetune.manifest import MANIFEST_KEYS

REPO = Path(__file__).resolve().parents[3]


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
