"""A job's results as streamed files: JSON Lines (one object per item) or CSV with fixed columns (defusedcsv: a cell
opening with = + - @ gets a leading apostrophe, so a spreadsheet shows it as text instead of running it as a formula)."""

from __future__ import annotations

import io
import json
from typing import Any, Iterable, Iterator

from defusedcsv import csv

CSV_FIELDS = ("id", "title", "status", "summary", "key_terms", "budget_words", "words", "chunks", "error")


def jsonl_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """One JSON object per line, UTF-8 kept as is."""
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"


def csv_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A header line, then one CSV row per result (columns CSV_FIELDS, lists joined with "; "; other keys are left out)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "; ".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
