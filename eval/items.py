"""Retrieval eval items: teacher-annotated problems (alignment CSV) and NGSS PE -> connected CCSS codes, as jsonl."""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from pathlib import Path
from typing import Iterable

from edurag.codes import canonical
from edurag.datasets import FULL, PARTIAL, group_splits, read_alignment_csv, read_jsonl, split_of
from edurag.standards import Catalog, expand_grades
from eval.retrieval import RetrievalItem

logger = logging.getLogger(__name__)


def domain_label(code: str, domain: str) -> str:
    """A short breakdown key: the code's domain letters plus the domain name before any note (`NF: Number & ...`)."""
    parts = code.split(".")
    letters = parts[1] if len(parts) > 1 and (parts[0] == "K" or parts[0].isdigit()) else parts[0]
    name = re.split(r":| - Grade| expectations", domain)[0].strip()
    return f"{letters}: {name}" if name else letters


def alignment_items(csv_path: Path, catalog: Catalog, include_partial: bool = False) -> list[RetrievalItem]:
    """One item per Full-intent row (plus Partial if asked): the problem text, never the prompt that names the code."""
    wanted = {FULL, PARTIAL} if include_partial else {FULL}
    items = []
    for row in read_alignment_csv(csv_path):
        if row.label not in wanted:
            continue
        standard = catalog.resolve(row.standard)
        if standard is None:
            logger.warning("row %d: standard %s is not in the catalog; skipped", row.index, row.standard)
            continue
        items.append(RetrievalItem(
            id=row.item_id, text=row.text.strip(), standard_ids=(standard.code,),
            filters={"subject": "math"}, grade=row.grade, domain=domain_label(standard.code, standard.domain),
            source="allenai-full" if row.label == FULL else "allenai-partial",
        ))
    return items


def ngss_items(pe_path: Path, connections_path: Path, catalog: Catalog) -> list[RetrievalItem]:
    """One item per (NGSS PE, CCSS subject): the PE text and clarification, tagged with its connected CCSS codes."""
    pes = {row["id"]: row for row in read_jsonl(pe_path)}
    tagged: dict[tuple[str, str], list[str]] = defaultdict(list)
    unresolved = 0
    for pair in read_jsonl(connections_path):
        standard = catalog.resolve(pair["ccss_code"])
        if standard is None or pair["ngss_pe"] not in pes:
            unresolved += 1
            continue
        codes = tagged[(pair["ngss_pe"], standard.subject)]
        if standard.code not in codes:
            codes.append(standard.code)
    if unresolved:
        logger.warning("%d NGSS->CCSS pairs name a code or PE missing from the catalog; skipped", unresolved)
    items = []
    for (pe_id, subject), codes in sorted(tagged.items()):
        pe = pes[pe_id]
        text = " ".join(filter(None, [pe["description"].rstrip("*"), pe.get("clarification_statement")]))
        first = catalog.get(codes[0])
        items.append(RetrievalItem(
            id=f"ngss-{pe_id}-{subject}", text=text, standard_ids=tuple(codes),
            filters={"framework": "ccss", "subject": subject}, grade=str(pe["grade"]),
            domain=domain_label(codes[0], first.domain if first else ""), source=f"ngss-ccss-{subject}",
        ))
    return items


def write_items(items: Iterable[RetrievalItem], path: Path) -> int:
    """Write items as jsonl with their dev/heldout split; returns how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for item in items:
            row = {"id": item.id, "text": item.text, "standard_ids": list(item.standard_ids), "filters": item.filters,
                   "grade": item.grade, "domain": item.domain, "source": item.source, "split": split_of(item.id)}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def _code(catalog: Catalog | None, written: str) -> str:
    """The catalog code of a tagged code in any written form (A-REI.3, 6.RP.3a); canonicalized only without a catalog."""
    found = catalog.resolve(written) if catalog is not None else None
    return found.code if found else canonical(written)


def load_items(path: Path, split: str = "all", catalog: Catalog | None = None) -> list[RetrievalItem]:
    """Read jsonl items (`text`, `standard_ids`; optional id, filters, grade, domain, source, split).

    Items without a recorded split get their group's (group_splits); without a grade or domain, the first tagged
    standard's grade (or band, e.g. HS) and domain label stand in, for the per-grade and per-domain breakdowns only
    (`grade_from_tags`: such a grade comes from the answer and must never be passed to the retriever).
    """
    rows = read_item_rows(path)
    splits = group_splits(rows)
    items = []
    for row in rows:
        item_id = str(row["id"])
        if split != "all" and splits[item_id] != split:
            continue
        codes = tuple(_code(catalog, c) for c in row["standard_ids"])
        first = catalog.resolve(codes[0]) if catalog is not None and codes else None
        domain = row.get("domain", "") or (domain_label(first.code, first.domain) if first else "")
        grade = str(row.get("grade", "")) or (grade_label(first.grades) if first else "")
        items.append(RetrievalItem(id=item_id, text=row["text"], standard_ids=codes, filters=row.get("filters") or {},
                                   grade=grade, domain=domain, source=row.get("source", ""),
                                   grade_from_tags=not row.get("grade")))
    return items


def read_item_rows(path: Path) -> list[dict]:
    """The rows of an items jsonl, each with an `id` (its line number when it has none)."""
    rows = read_jsonl(path)
    for number, row in enumerate(rows):
        row.setdefault("id", str(number))
    return rows


def grade_label(grades: list[str]) -> str:
    """A breakdown key for a standard's grades: the grade itself, HS for high school, else the span (6-8)."""
    if len(grades) == 1:
        return grades[0]
    if grades == expand_grades("HS"):
        return "HS"
    return f"{grades[0]}-{grades[-1]}" if grades else ""
