"""Training data: dialogue/summary jsonl (DialogSum or a school's own field names), validated before any training."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence


class DataError(ValueError):
    """The training file cannot be used; the message says which lines and why."""


@dataclass(frozen=True)
class Pair:
    """One training example: a dialogue or transcript and its reference summary."""

    dialogue: str
    summary: str


@dataclass(frozen=True)
class TrainingData:
    """Validated pairs plus what the manifest records about their file."""

    path: Path
    sha256: str
    total_rows: int
    pairs: list[Pair]

    def describe(self) -> dict[str, object]:
        """File name, hash and row counts for edurag_manifest.json."""
        return {"file": self.path.name, "sha256": self.sha256, "rows_in_file": self.total_rows, "rows_used": len(self.pairs)}


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folders_sha256(folders: Sequence[Path]) -> str:
    """Hex sha256 of every file under the folders: each file's path relative to its folder's parent and its bytes'
    sha256, in path order (a framework folder's data hash for a manifest)."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(f"{path.relative_to(folder.parent).as_posix()}\0{file_sha256(path)}\n".encode("utf-8"))
    return digest.hexdigest()


def load_pairs(path: Path, dialogue_field: str = "dialogue", summary_field: str = "summary", limit: int | None = None,
               require_summary: bool = True) -> TrainingData:
    """Read and validate a jsonl file; every bad line is reported (first ten) before anything trains."""
    if not path.is_file():
        raise DataError(f"training file {path} does not exist")
    wanted = [dialogue_field] + ([summary_field] if require_summary else [])
    pairs: list[Pair] = []
    problems: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"line {number}: not valid JSON ({exc.msg})")
                continue
            if not isinstance(row, dict):
                problems.append(f"line {number}: expected a JSON object, got {type(row).__name__}")
                continue
            bad = [f for f in wanted if not isinstance(row.get(f), str) or not row[f].strip()]
            if bad:
                present = ", ".join(sorted(row)) or "none"
                problems.append(f"line {number}: missing or empty field(s) {', '.join(map(repr, bad))} (fields present: {present})")
                continue
            pairs.append(Pair(dialogue=row[dialogue_field], summary=str(row.get(summary_field) or "")))
    if problems:
        shown = "\n  ".join(problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise DataError(f"{path}: {len(problems)} unusable line(s); set --dialogue-field/--summary-field if your "
                        f"file names them differently:\n  {shown}{more}")
    if not pairs:
        raise DataError(f"{path} has no rows; expected jsonl lines with {', '.join(map(repr, wanted))}")
    total = len(pairs)
    return TrainingData(path=path, sha256=file_sha256(path), total_rows=total, pairs=pairs[:limit] if limit else pairs)
