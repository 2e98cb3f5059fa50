"""The ONNX Runtime embedder backends: same vectors as torch (fp32) or close (int8), cached export, used by /align."""

from __future__ import annotations

import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from edurag.components import build_components
from edurag.embedder import encoder_workers, load_embedder
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
    alone = onnx.encode([TEXTS[1]])[0]  # batch companions and padding change nothing (int8: one text per batch)
    assert float(alone @ vectors[1]) >= 0.99999


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


def test_passages_encode_in_parallel_as_they_do_one_at_a_time(onnx_dir: Path) -> None:
    """With 2 encoder workers a call's batches run at once on the single-threaded session: every text gets the vector
    it gets alone (fp32: no batch companions, no padding), also when several callers share the helper threads."""
    settings = Settings(embedding_backend="onnx", onnx_dir=onnx_dir)
    one = load_embedder(settings.model_copy(update={"encoder_workers": 1}))
    two = load_embedder(settings.model_copy(update={"encoder_workers": 2}))
    assert one.workers == 1 and one.parallel_session is None and two.workers == 2 and two.parallel_session is not None
    texts = [f"Passage {i}: students compare fractions on a number line. " * (3 + 5 * i) for i in range(6)]
    alone = np.stack([one.encode([text])[0] for text in texts])
    runs: list[int] = []
    session = two.parallel_session

    class Recording:  # the real session, counting the runs the parallel path makes on it
        def __getattr__(self, name: str) -> object:
            return getattr(session, name)

        def run(self, *args: object) -> object:
            runs.append(1)
            return session.run(*args)

    two.parallel_session = Recording()
    assert np.abs(two.encode(texts) - alone).max() < 1e-5 and len(runs) == len(texts)
    with ThreadPoolExecutor(4) as callers:
        results = list(callers.map(lambda i: two.encode([texts[i], texts[-1 - i]]), range(len(texts))))
    for i, vectors in enumerate(results):
        assert np.abs(vectors - alone[[i, len(texts) - 1 - i]]).max() < 1e-5
    assert np.abs(two.encode([texts[0]]) - alone[:1]).max() < 1e-5 and len(runs) == len(texts) + 2 * len(texts)


def test_encoder_workers_follow_the_cores_unless_set() -> None:
    assert encoder_workers(Settings(), cores=1) == 1 and encoder_workers(Settings(), cores=2) == 2
    assert encoder_workers(Settings(torch_threads=1), cores=4) == 1  # threads pinned beside Celery workers: no helpers
    assert encoder_workers(Settings(encoder_workers=3, torch_threads=1), cores=1) == 3


def test_one_core_gets_one_session_and_no_helpers(onnx_dir: Path) -> None:
    """A process allowed one core (taskset, a one-CPU container) encodes one batch at a time on one session."""
    code = ("import os, sys; os.sched_setaffinity(0, {0}); from edurag.embedder import load_embedder; "
            "from edurag.settings import Settings; e = load_embedder(Settings(embedding_backend='onnx', onnx_dir=sys.argv[1])); "
            "print(e.workers, e.parallel_session is None, e.encode(['one core']).shape)")
    out = subprocess.run([sys.executable, "-c", code, str(onnx_dir)], capture_output=True, text=True, check=True, timeout=300)
    assert out.stdout.split()[:2] == ["1", "True"], out.stdout


def test_quantizing_leaves_the_shared_export_folder_to_other_processes(tmp_path: Path) -> None:
    """An API and a worker started together on a fresh data dir both quantize the fp32 export. quantize_dynamic writes a
    shape-inferred copy beside its input (model-inferred.onnx), and the two processes deleted it under each other
    (FileNotFoundError). Another process's copy in flight is stood in for by a folder of that name."""
    load_embedder(Settings(embedding_backend="onnx", onnx_dir=tmp_path))  # the fp32 export
    (fp32,) = tmp_path.rglob("model.onnx")
    (fp32.parent / "model-inferred.onnx").mkdir()
    int8 = load_embedder(Settings(embedding_backend="onnx-int8", onnx_dir=tmp_path))
    assert int8.encode(["ratios"]).shape == (1, 384) and (fp32.parent / "model_int8.onnx").is_file()
    assert sorted(p.name for p in fp32.parent.iterdir()) == ["model-inferred.onnx", "model.onnx", "model_int8.onnx"]


def test_int8_vector_of_a_text_does_not_depend_on_its_batch(onnx_dir: Path) -> None:
    """Standards of similar length, encoded together and each alone, get the same int8 vectors: the index's vector
    of a standard must not depend on what ingestion batched it with (dynamic quantization scales a batch at once)."""
    int8 = load_embedder(Settings(embedding_backend="onnx-int8", onnx_dir=onnx_dir))
    texts = [f"Grade {g}: use place value understanding and properties of operations to add and subtract within {10 ** g}."
             for g in range(1, 9)]
    together = int8.encode(texts)
    alone = np.stack([int8.encode([text])[0] for text in texts])
    assert np.sum(together * alone, axis=1).min() >= 0.99999
