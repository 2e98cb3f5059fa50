"""edurag_manifest.json: what a fine-tuning run was (base, method, data, hyperparameters, outcome, versions)."""

from __future__ import annotations

import json
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from edurag.adapters import MANIFEST_NAME, PEFT_CONFIG, read_manifest

MANIFEST_KEYS = ("base", "method", "hyperparameters", "data", "steps", "final_loss", "trainable_parameters",
                 "total_parameters", "trainable_share", "wall_time_seconds", "versions")
_LIBRARIES = ("torch", "transformers", "peft", "trl", "accelerate", "tokenizers")


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries a run depends on, plus Python."""
    found = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def base_revision(path: Path) -> str | None:
    """The hub commit of a base model resolved from the HF cache (…/snapshots/<commit>), else None."""
    return path.name if path.parent.name == "snapshots" else None


def describe_base(source: str, path: Path, config: Any) -> dict[str, Any]:
    """Base model identity: id/path, revision and the architecture facts adapters must match."""
    return {
        "id": source, "path": str(path.resolve()), "revision": base_revision(path),
        "model_type": config.model_type, "is_encoder_decoder": bool(config.is_encoder_decoder),
        "vocab_size": config.vocab_size, "hidden_size": getattr(config, "d_model", None) or config.hidden_size,
    }


def write_manifest(out: Path, manifest: dict[str, Any]) -> Path:
    """Write the manifest beside the weights; refuses an incomplete one."""
    missing = [k for k in MANIFEST_KEYS if k not in manifest]
    if missing:
        raise ValueError(f"manifest lacks {', '.join(missing)}")
    path = out / MANIFEST_NAME
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def check_adapter_matches(adapter_dir: Path, config: Any) -> None:
    """Fail before training when an adapter was trained on a different base architecture than `config`."""
    peft_config = adapter_dir / PEFT_CONFIG
    if not peft_config.exists():
        raise ValueError(f"{adapter_dir} is not a PEFT adapter folder (no {PEFT_CONFIG})")
    task = json.loads(peft_config.read_text(encoding="utf-8")).get("task_type")
    expected = "SEQ_2_SEQ_LM" if config.is_encoder_decoder else "CAUSAL_LM"
    if task and task != expected:
        raise ValueError(f"adapter {adapter_dir} is a {task} adapter but the base model is {expected}")
    manifest = read_manifest(adapter_dir)
    if manifest is None:
        return
    base = manifest["base"]
    hidden = getattr(config, "d_model", None) or config.hidden_size
    actual = {"model_type": config.model_type, "vocab_size": config.vocab_size, "hidden_size": hidden}
    wrong = {k: (base.get(k), v) for k, v in actual.items() if base.get(k) != v}
    if wrong:
        details = "; ".join(f"{k}: adapter {a!r} vs base {b!r}" for k, (a, b) in wrong.items())
        raise ValueError(f"adapter {adapter_dir} was trained on {base['id']!r}, which does not match this base ({details})")
