"""The alignment-data rules that eval, finetune and bench share: the teacher-annotated alignment CSV (its columns and
labels, one item id per row) and the stable dev/heldout split every tuning step must respect."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

FULL = "Full-intent Alignment"
PARTIAL = "Partial Alignment"
ALIGNED = (FULL, PARTIAL)
HELDOUT_SHARE = 0.3

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
