"""Shared fixtures: tiny real models built once per session, isolated data dirs, a real Chroma server."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# An empty Hugging Face cache of the test run's own: a model id resolves only if a test puts it there, so results do not
# depend on what happens to be cached on the machine (e.g. flan-t5-base making EDURAG_GENERATOR=auto pick it).
_EMPTY_HF_CACHE = tempfile.TemporaryDirectory(prefix="edurag-tests-hf-cache-")
os.environ["HF_HUB_CACHE"] = _EMPTY_HF_CACHE.name
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# ONNX exports and the built /align query encoder are made once per test run, not once per test's data dir.
_ONNX_CACHE = tempfile.TemporaryDirectory(prefix="edurag-tests-onnx-")
os.environ.setdefault("EDURAG_ONNX_DIR", _ONNX_CACHE.name)

FIXTURES = Path(__file__).parent / "fixtures"
# The shared data folder sits beside the repository (CI clones it so); EDURAG_SHARED_DATA overrides.
SHARED_DATA = Path(os.environ.get("EDURAG_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(scope="session")
def tiny_t5_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer T5 with a tokenizer trained on fixture text."""
    from tests.utils.tiny_models import build_tiny_t5

    return build_tiny_t5(tmp_path_factory.mktemp("tiny-t5"))


@pytest.fixture(scope="session")
def tiny_causal_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer Llama-style causal LM with a tokenizer trained on fixture text."""
    from tests.utils.tiny_models import build_tiny_causal

    return build_tiny_causal(tmp_path_factory.mktemp("tiny-causal"))


@pytest.fixture(scope="session")
def embedder():
    """The packaged all-MiniLM-L6-v2, loaded once."""
    from edurag.embedder import load_embedder
    from edurag.settings import Settings

    return load_embedder(Settings())


@pytest.fixture(scope="session")
def standards_subset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trimmed copy of the bundled standards (grades 6-7 math, grade 5 ELA reading, middle-school NGSS)."""
    from tests.utils.data import write_standards_subset

    return write_standards_subset(tmp_path_factory.mktemp("standards-subset"))


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):
    """A real Chroma server (`chroma run`) on a free loopback port; yields its URL."""
    from tests.utils.servers import run_chroma_server

    with run_chroma_server(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url
