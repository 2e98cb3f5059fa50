"""Shared fixtures: tiny real models built once per session, isolated data dirs, a real Chroma server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


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
