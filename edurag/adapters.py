"""The adapter registry: named PEFT adapters (sub-folders of EDURAG_ADAPTERS_DIR) and the manifests fine-tuning writes
beside them. The generator, the API and `finetune` all find adapters and read manifests here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST_NAME = "edurag_manifest.json"
PEFT_CONFIG = "adapter_config.json"


def is_adapter(folder: Path) -> bool:
    """True for a PEFT adapter folder (it holds adapter_config.json)."""
    return (folder / PEFT_CONFIG).exists()


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The edurag_manifest.json of an artifact folder, or None when it has none (e.g. an adapter trained elsewhere)."""
    path = folder / MANIFEST_NAME
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


@dataclass(frozen=True)
class AdapterRegistry:
    """The adapters in one folder (None: no folder, no named adapters), looked up by name or by path."""

    folder: Path | None = None

    def names(self) -> list[str]:
        """Adapter names: the folder's sub-folders holding adapter_config.json, sorted."""
        if not self.folder or not self.folder.is_dir():
            return []
        return sorted(p.name for p in self.folder.iterdir() if is_adapter(p))

    def path(self, adapter: str) -> Path:
        """The folder of an adapter given by path or by name in the registry; KeyError naming the known ones."""
        candidate = Path(adapter).expanduser()
        if candidate.is_dir() and is_adapter(candidate):
            return candidate
        if self.folder and is_adapter(self.folder / adapter):
            return self.folder / adapter
        raise KeyError(f"unknown adapter {adapter!r}; known: {', '.join(self.names()) or 'none'}")

    def manifest(self, name: str) -> dict[str, Any] | None:
        """The named adapter's manifest, or None."""
        return read_manifest(self.folder / name) if self.folder else None
