"""Dataset rules: the group split keeps a lesson's items on one side."""

from __future__ import annotations

from edurag.datasets import group_splits, item_groups


def test_group_split_keeps_near_duplicates_and_neighbours_together() -> None:
    """Neighbouring ids of one source and near-duplicate texts share a group, hence a split."""
    text = "Students use tape diagrams and tables of equivalent ratios to compare lemonade recipes and find unit rates."
    rows = [{"id": "im_lesson_000100", "text": text}, {"id": "im_lesson_000102", "text": "Warm-up: notice and wonder."},
            {"id": "im_center_000900", "text": text + " Stage 2."}, {"id": "im_lesson_000500", "text": "Cool-down on area."}]
    groups = item_groups(rows)
    assert groups["im_lesson_000100"] == groups["im_lesson_000102"] == groups["im_center_000900"] == "im_center_000900"
    assert groups["im_lesson_000500"] == "im_lesson_000500"
    splits = group_splits(rows)
    assert splits["im_lesson_000100"] == splits["im_lesson_000102"] == splits["im_center_000900"]
    assert group_splits([*rows[:3], {**rows[3], "split": "heldout"}])["im_lesson_000500"] == "heldout"
