"""EDURAG_TORCH_THREADS sets the process's torch threads when components are built."""

from __future__ import annotations

from pathlib import Path

import torch

from edurag.components import build_components
from edurag.settings import Settings


def test_torch_threads_setting_is_applied(tmp_path: Path, embedder, standards_subset_dir: Path, monkeypatch) -> None:
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("EDURAG_TORCH_THREADS", "1")
        settings = Settings(data_dir=tmp_path, generator="extractive", standards_dir=standards_subset_dir)
        assert settings.torch_threads == 1
        torch.set_num_threads(2)
        build_components(settings, embedder=embedder)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
