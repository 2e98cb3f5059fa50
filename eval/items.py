"""Retrieval eval items: teacher-annotated problems (alignment CSV) and NGSS PE -> connected CCSS codes, as jsonl."""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
from collections import defaultdict
from pathlib import Path
from typing import Iterable

import numpy as np

from edurag.codes import canonical
from edurag.standards import Catalog, expand_grades
from eval.retrieval import RetrievalItem

logger = logging.getLogger(__name__)

FULL = "Full-intent Alignment"
PARTIAL = "Partial Alignment"
HELDOUT_SHARE = 0.3
GROUP_ID_WINDOW = 3
GROUP_NEAR_DUPLICATE = 0.5


def domain_label(code: str, domain: str) -> str:
    """A short breakdown key: the code's domain letters plus the domain name before any note (`NF: Number & ...`)."""
    parts = code.split(".")
    letters = parts[1] if len(parts) > 1 and (parts[0] == "K" or parts[0].isdigit()) else parts[0]
    name = re.split(r":| - Grade| expectations", domain)[0].strip()
    return f"{letters}: {name}" if name else letters


def alignment_item_id(row_index: int) -> str:
    """The item id of a row of the teacher-annotated CSV (its split comes from this id)."""
    return f"allenai-{row_index}"


def split_of(item_id: str, heldout_share: float = HELDOUT_SHARE) -> str:
    """A stable dev/heldout assignment from a hash of the id, so later tuning can keep a part aside."""
    bucket = int(hashlib.sha1(item_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "heldout" if bucket < heldout_share else "dev"


def item_groups(rows: list[dict], id_window: int = GROUP_ID_WINDOW, near_duplicate: float = GROUP_NEAR_DUPLICATE) -> dict[str, str]:
    """The group of every item (its smallest member id), so that related items never straddle the dev/heldout split.

    Items from one lesson are near-duplicates or neighbours in the publisher's numbering: two items share a group
    when their ids have the same prefix and numbers at most `id_window` apart (`im_lesson_004556`, `im_lesson_004558`),
    or when their texts share more than `near_duplicate` of their word 5-shingles (Jaccard); groups are the connected
    components. The pairwise pass is quadratic, which is fine for the few thousand items of a dev file.
    """
    ids = [str(row.get("id", n)) for n, row in enumerate(rows)]
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    numbered: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for n, item_id in enumerate(ids):
        match = re.match(r"^(.*?)(\d+)$", item_id)
        if match:
            numbered[match.group(1)].append((int(match.group(2)), n))
    for members in numbered.values():
        members.sort()
        for (a_num, a), (b_num, b) in zip(members, members[1:]):
            if b_num - a_num <= id_window:
                parent[find(a)] = find(b)
    shared, union = _shingle_overlap([str(row.get("text", "")) for row in rows])
    for a, b in zip(*np.nonzero(np.triu(shared > near_duplicate * np.maximum(union, 1), k=1))):
        parent[find(int(a))] = find(int(b))
    members_of: dict[int, list[str]] = defaultdict(list)
    for n, item_id in enumerate(ids):
        members_of[find(n)].append(item_id)
    return {item_id: min(members) for members in members_of.values() for item_id in members}


def _shingle_overlap(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Shared and total distinct word 5-shingles of every pair of texts (scikit-learn's n-gram counter, one sparse product)."""
    from sklearn.feature_extraction.text import CountVectorizer

    try:
        bag = CountVectorizer(ngram_range=(5, 5), binary=True, token_pattern=r"(?u)\b\w+\b").fit_transform(texts)
    except ValueError:  # every text shorter than a shingle
        return np.zeros((len(texts), len(texts))), np.ones((len(texts), len(texts)))
    shared = (bag @ bag.T).toarray()
    sizes = np.asarray(bag.sum(axis=1)).ravel()
    return shared, sizes[:, None] + sizes[None, :] - shared


def group_splits(rows: list[dict], heldout_share: float = HELDOUT_SHARE) -> dict[str, str]:
    """dev/heldout per item id: a row's recorded `split`, else the stable hash split of its group (item_groups)."""
    groups = item_groups(rows)
    return {item_id: split_of(group, heldout_share) for item_id, group in groups.items()} | {
        str(row["id"]): row["split"] for row in rows if "id" in row and "split" in row}


def alignment_items(csv_path: Path, catalog: Catalog, include_partial: bool = False) -> list[RetrievalItem]:
    """One item per Full-intent row (plus Partial if asked): the problem text, never the prompt that names the code."""
    wanted = {FULL, PARTIAL} if include_partial else {FULL}
    items = []
    with csv_path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle)):
            if row["Align?"] not in wanted:
                continue
            standard = catalog.resolve(row["Standard"])
            if standard is None:
                logger.warning("row %d: standard %s is not in the catalog; skipped", number, row["Standard"])
                continue
            items.append(RetrievalItem(
                id=alignment_item_id(number), text=row["Problem/Activity Text"].strip(), standard_ids=(standard.code,),
                filters={"subject": "math"}, grade=row["Grade"], domain=domain_label(standard.code, standard.domain),
                source="allenai-full" if row["Align?"] == FULL else "allenai-partial",
            ))
    return items


def ngss_items(pe_path: Path, connections_path: Path, catalog: Catalog) -> list[RetrievalItem]:
    """One item per (NGSS PE, CCSS subject): the PE text and clarification, tagged with its connected CCSS codes."""
    pes = {row["id"]: row for row in _jsonl(pe_path)}
    tagged: dict[tuple[str, str], list[str]] = defaultdict(list)
    unresolved = 0
    for pair in _jsonl(connections_path):
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


def load_items(path: Path, split: str = "all", catalog: Catalog | None = None) -> list[RetrievalItem]:
    """Read jsonl items (`text`, `standard_ids`; optional id, filters, grade, domain, source, split).

    Items without a recorded split get their group's (group_splits); without a grade or domain, the first tagged
    standard's grade (or band, e.g. HS) and domain label stand in, for the per-grade and per-domain breakdowns.
    """
    rows = read_item_rows(path)
    splits = group_splits(rows)
    items = []
    for row in rows:
        item_id = str(row["id"])
        if split != "all" and splits[item_id] != split:
            continue
        codes = tuple(canonical(c) for c in row["standard_ids"])
        first = catalog.resolve(codes[0]) if catalog is not None and codes else None
        domain = row.get("domain", "") or (domain_label(first.code, first.domain) if first else "")
        grade = str(row.get("grade", "")) or (grade_label(first.grades) if first else "")
        items.append(RetrievalItem(id=item_id, text=row["text"], standard_ids=codes, filters=row.get("filters") or {},
                                   grade=grade, domain=domain, source=row.get("source", "")))
    return items


def read_item_rows(path: Path) -> list[dict]:
    """The rows of an items jsonl, each with an `id` (its line number when it has none)."""
    rows = _jsonl(path)
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


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
