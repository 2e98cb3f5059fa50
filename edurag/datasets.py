"""Data-file rules shared by the core, eval, finetune and bench: the one JSON Lines reader (read_jsonl), and the
alignment-data rules: the teacher-annotated alignment CSV (its columns and
labels, one item id per row) and the stable dev/heldout split every tuning step must respect.

Tagged lesson files (`im_lessons_tagged.jsonl`) are split by group, not by item: items of one lesson (neighbouring
ids of one source, near-duplicate texts) form a group (item_groups) and the group's smallest id is hashed
(split_of), so no lesson straddles dev and heldout (group_splits). `edurag finetune aligner` trains on dev only;
`edurag eval retrieval --split heldout` scores the rest."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

FULL = "Full-intent Alignment"
PARTIAL = "Partial Alignment"
ALIGNED = (FULL, PARTIAL)
HELDOUT_SHARE = 0.3
GROUP_ID_WINDOW = 3
GROUP_NEAR_DUPLICATE = 0.5

TEXT_COLUMN = "Problem/Activity Text"
STANDARD_COLUMN = "Standard"
LABEL_COLUMN = "Align?"
GRADE_COLUMN = "Grade"


@dataclass(frozen=True)
class AlignmentRow:
    """One row of the alignment CSV: a problem text, the standard it was generated for and the teachers' label."""

    index: int
    text: str
    standard: str
    label: str
    grade: str

    @property
    def item_id(self) -> str:
        """The row's item id (its split comes from this id)."""
        return alignment_item_id(self.index)


def alignment_item_id(row_index: int) -> str:
    """The item id of a row of the teacher-annotated CSV (0-based data row index)."""
    return f"allenai-{row_index}"


def split_of(item_id: str, heldout_share: float = HELDOUT_SHARE) -> str:
    """`dev` or `heldout`: a stable assignment from a hash of the id; tuning uses dev only, heldout is scored, never tuned on."""
    bucket = int(hashlib.sha1(item_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "heldout" if bucket < heldout_share else "dev"


def read_alignment_csv(path: Path) -> list[AlignmentRow]:
    """Every data row of the alignment CSV (allenai_generated_problems_teacher_annotations.csv), in file order; the text,
    standard and label columns are required, the grade column is optional."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [AlignmentRow(index=i, text=row[TEXT_COLUMN], standard=row[STANDARD_COLUMN], label=row[LABEL_COLUMN],
                             grade=row.get(GRADE_COLUMN, "")) for i, row in enumerate(csv.DictReader(handle))]


LECTURE_CHECK_BUCKETS = 3  # of 10: md5(lecture_title) % 10 >= 7 is the lectures' check split (15 of the 43 dev lectures)


def lecture_split(title: str) -> str:
    """`tune` or `check` for an Open Yale dev lecture, from md5 of its lecture_title: summaries are tuned and trained
    on tune only; check is scored, never tuned on (issue #16)."""
    return "check" if int(hashlib.md5(title.encode("utf-8")).hexdigest(), 16) % 10 >= 10 - LECTURE_CHECK_BUCKETS else "tune"


def iter_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """(1-based line number, parsed value) for every non-blank line of a UTF-8 JSON Lines file; json.JSONDecodeError on
    a bad line (finetune.data validates line by line instead, to report every bad line at once)."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, json.loads(line)


def read_jsonl(path: Path) -> list[Any]:
    """Every record of a JSON Lines file, in order (blank lines skipped)."""
    return [row for _, row in iter_jsonl(path)]


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
