"""MNRL bi-encoder fine-tune: honest pair building, and a tuned artifact that loads, is used and moved its pairs."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from edurag.cli import app
from edurag.components import build_components
from edurag.embedder import Embedder, load_embedder
from edurag.settings import Settings
from edurag.standards import load_catalog
from edurag.datasets import alignment_item_id, split_of
from finetune.embedder import METHOD, TextPair, catalog_pairs, dev_item_pairs, select_pairs
from edurag.adapters import read_manifest
from finetune.manifest import MANIFEST_KEYS
from service.app import create_app

LIMIT = 64


def mean_pair_cosine(embedder: Embedder, pairs: list[TextPair]) -> float:
    """Mean cosine similarity between each anchor and its positive."""
    anchors = embedder.encode([p.anchor for p in pairs])
    positives = embedder.encode([p.positive for p in pairs])
    return float(np.mean(np.sum(anchors * positives, axis=1)))


def test_dev_items_use_only_the_dev_half(standards_subset_dir: Path, tmp_path: Path) -> None:
    """Only aligned rows of eval's dev split become pairs; held-out rows and unaligned rows never do."""
    catalog = load_catalog(standards_subset_dir)
    path = tmp_path / "items.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["Standard", "Align?", "Problem/Activity Text"])
        writer.writeheader()
        for index in range(8):
            align = "Not Aligned" if index == 4 else "Full-intent Alignment"
            writer.writerow({"Standard": "6.RP.A.3a", "Align?": align, "Problem/Activity Text": f"problem {index}"})
    pairs = dev_item_pairs(path, catalog)
    assert split_of(alignment_item_id(6)) == "heldout"
    assert [p.anchor for p in pairs] == ["problem 0", "problem 1", "problem 2", "problem 3", "problem 5", "problem 7"]
    assert {p.positive for p in pairs} == {catalog.get("6.RP.A.3").document(catalog)}


def test_catalog_pairs_point_at_indexed_standard_documents(standards_subset_dir: Path) -> None:
    """Every positive is the exact indexed text of a Standard; all four catalog sources contribute."""
    catalog = load_catalog(standards_subset_dir)
    documents = {s.document(catalog) for s in catalog.indexable()}
    pairs = catalog_pairs(catalog, standards_subset_dir)
    assert {p.source for p in pairs} == {"sub-standard", "details", "ngss-to-ccss", "ccss-to-ngss"}
    assert all(p.positive in documents and p.anchor for p in pairs)


@pytest.mark.slow  # trains the MiniLM bi-encoder (MNRL) on 64 pairs
def test_tuned_embedder_artifact_loads_is_used_and_moved_its_pairs(standards_subset_dir: Path, embedder: Embedder,
                                                                   tmp_path: Path) -> None:
    """`edurag finetune embedder` on 64 pairs writes weights + manifest; the tuned model serves and is closer on its pairs."""
    out = tmp_path / "minilm-tuned"
    result = CliRunner().invoke(app, ["finetune", "embedder", "--out", str(out), "--limit", str(LIMIT), "--batch-size", "16",
                                      "--learning-rate", "1e-4"], env={"EDURAG_STANDARDS_DIR": str(standards_subset_dir)})
    assert result.exit_code == 0, result.output
    manifest = read_manifest(out)
    assert manifest is not None and all(k in manifest for k in MANIFEST_KEYS)
    assert manifest["method"] == METHOD and manifest["data"]["pairs_used"] == LIMIT and manifest["steps"] == LIMIT // 16

    catalog = load_catalog(standards_subset_dir)
    trained = select_pairs(catalog_pairs(catalog, standards_subset_dir), LIMIT, manifest["hyperparameters"]["seed"])
    tuned = load_embedder(Settings(embedding_model=str(out)))
    assert tuned.name == str(out) and tuned.dim == embedder.dim
    before, after = mean_pair_cosine(embedder, trained), mean_pair_cosine(tuned, trained)
    assert after > before + 0.01, (before, after)

    settings = Settings(data_dir=tmp_path / "data", standards_dir=standards_subset_dir, embedding_model=str(out),
                        generator="extractive")
    components = build_components(settings)
    assert components.embedder.name == str(out)
    with TestClient(create_app(components=components)) as client:
        assert client.get("/health").json()["embedder"]["name"] == str(out)
