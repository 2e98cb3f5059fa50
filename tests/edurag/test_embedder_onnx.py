"""The ONNX Runtime embedder backends: same vectors as torch (fp32) or close (int8), cached export, used by /align."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from edurag.components import build_components
from edurag.embedder import load_embedder
from edurag.settings import Settings
from ingestion.service import ingest_standards
from edurag.alignment.align import retrieve_standards

pytestmark = pytest.mark.slow  # exports the encoder to ONNX and quantizes it

TEXTS = ["Students use ratio tables to compare unit rates.", "Plants need light and water to grow. " * 60, "x"]


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory) -> Path:
    """One export cache for the module, as a deployment would keep it."""
    return tmp_path_factory.mktemp("onnx")


@pytest.mark.parametrize("backend, floor", [("onnx", 0.9999), ("onnx-int8", 0.97)])
def test_onnx_vectors_match_torch(backend: str, floor: float, onnx_dir: Path, embedder) -> None:
    onnx = load_embedder(Settings(embedding_backend=backend, onnx_dir=onnx_dir))
    assert onnx.session is not None and onnx.backend == backend
    reference, vectors = embedder.encode(TEXTS), onnx.encode(TEXTS)
    assert vectors.shape == reference.shape and vectors.dtype == np.float32 and onnx.encode([]).shape == (0, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.sum(vectors * reference, axis=1).min() >= floor
    alone = onnx.encode([TEXTS[1]])[0]  # batch companions and padding: none in fp32; int8 scales activations per batch
    assert float(alone @ vectors[1]) >= (0.99999 if backend == "onnx" else 0.995)


def test_export_is_cached_and_reused(onnx_dir: Path) -> None:
    load_embedder(Settings(embedding_backend="onnx", onnx_dir=onnx_dir))
    exported = sorted(onnx_dir.rglob("*.onnx"))
    stamps = [p.stat().st_mtime_ns for p in exported]
    load_embedder(Settings(embedding_backend="onnx", onnx_dir=onnx_dir))
    assert exported and sorted(onnx_dir.rglob("*.onnx")) == exported and [p.stat().st_mtime_ns for p in exported] == stamps


def test_alignment_runs_on_the_onnx_backend(tmp_path: Path, onnx_dir: Path, standards_subset_dir: Path) -> None:
    standards = tmp_path / "standards"
    shutil.copytree(standards_subset_dir, standards)
    settings = Settings(data_dir=tmp_path / "data", standards_dir=standards, generator="extractive",
                        embedding_backend="onnx-int8", onnx_dir=onnx_dir)
    c = build_components(settings)
    assert c.embedder.backend == "onnx-int8"
    ingest_standards(c)
    codes = [s.code for s in retrieve_standards(c, "Students find unit rates with ratio tables and compare recipes", 5)]
    assert any(code.startswith("6.RP.A") for code in codes), codes


def test_batches_keep_padding_small() -> None:
    from edurag.embedder import _padding_free_batches

    lengths = [200, 12, 198, 90, 14, 13, 200, 150]
    batches = _padding_free_batches(lengths, batch_size=3)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert all(len(b) <= 3 for b in batches)
    for batch in batches:
        real = sum(lengths[i] for i in batch)
        assert len(batch) * max(lengths[i] for i in batch) - real <= max(0.02 * real, 16)
    assert [1, 5, 4] in batches and [2, 0, 6] in batches  # 12-14 and 198-200 word pieces share a batch
