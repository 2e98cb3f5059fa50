"""The /ask domain tests' components: the full catalog, nothing ingested (graph intents read the catalog only)."""

from __future__ import annotations

import pytest

from edurag.components import build_components
from edurag.settings import Settings


@pytest.fixture(scope="module")
def components(tmp_path_factory, embedder):
    """The full catalog; nothing ingested (graph intents read the catalog only)."""
    return build_components(Settings(data_dir=tmp_path_factory.mktemp("ask-unit"), generator="extractive"),
                            embedder=embedder)
