"""Test data builders: trimmed standards folders and transcript files."""

from __future__ import annotations

import json
from pathlib import Path

from edurag.settings import BUNDLED_STANDARDS_DIR

MATH_PREFIXES = ("6.", "7.")
ELA_CODES = ("CCSS.ELA-Literacy.RL.5.", "CCSS.ELA-Literacy.RI.5.")
NGSS_PREFIX = "MS-PS1"


def _filter(name: str, out: Path, keep) -> None:
    rows = [json.loads(line) for line in (BUNDLED_STANDARDS_DIR / name).read_text().splitlines() if line.strip()]
    (out / name).write_text("".join(json.dumps(r) + "\n" for r in rows if keep(r)))


def write_standards_subset(out: Path) -> Path:
    """Write a small but realistic standards folder (about 120 standards) for fast ingestion tests."""
    _filter("ccss_math_atc.jsonl", out, lambda r: r["id"].startswith(MATH_PREFIXES))
    _filter("ccss_asn.jsonl", out, lambda r: not r["code"] or r["code"].startswith(ELA_CODES)
            or r["code"].startswith(tuple(f"CCSS.Math.Content.{p}" for p in MATH_PREFIXES)))
    _filter("ngss_pe.jsonl", out, lambda r: r["id"].startswith(NGSS_PREFIX))
    _filter("ngss_ccss_connections.jsonl", out, lambda r: r["ngss_pe"].startswith(NGSS_PREFIX))
    return out
