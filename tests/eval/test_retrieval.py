"""Retrieval metrics on a hand-made 5-item set against hand-computed values (fake ranked lists, real catalog)."""

from __future__ import annotations

import json

import pytest

from edurag.settings import BUNDLED_STANDARDS_DIR
from edurag.standards import load_catalog
from eval.items import load_items
from eval.retrieval import CodeNormalizer, RetrievalEvaluator, RetrievalItem, item_metrics, reliability_table

RANKED = {
    "ratios": ["6.RP.A.1", "6.RP.A.3", "6.RP.A.2"],                    # first relevant at rank 2
    "sub-standard tag": ["6.RP.A.3c", "6.RP.A.1"],                      # 3c and the 3a tag both roll up to 6.RP.A.3: rank 1
    "cluster tag": ["7.RP.A.1", "6.EE.A.1", "6.RP.A.2", "6.RP.A.3"],   # any standard of cluster 6.RP.A: rank 3
    "two tags": ["3.OA.A.1", "3.OA.A.2", "3.OA.A.3", "3.OA.A.4", "3.OA.B.5", "3.OA.B.6",
                 "4.NF.B.3a", "4.NF.B.3b", "3.OA.C.7"],                # 3a/3b collapse to 4.NF.B.3 at rank 7; 3.OA.D.8 missed
    "miss": ["1.OA.A.1", "1.OA.A.2"],
}
ITEMS = [
    RetrievalItem(id="ratios", text="ratios", standard_ids=("6.RP.A.3",), grade="6"),
    RetrievalItem(id="sub-standard tag", text="sub-standard tag", standard_ids=("6.RP.A.3a",), grade="6"),
    RetrievalItem(id="cluster tag", text="cluster tag", standard_ids=("6.RP.A",), grade="6"),
    RetrievalItem(id="two tags", text="two tags", standard_ids=("3.OA.D.8", "4.NF.B.3"), grade="3"),
    RetrievalItem(id="miss", text="miss", standard_ids=("K.CC.A.1",), grade="K"),
]


@pytest.fixture(scope="module")
def normalizer() -> CodeNormalizer:
    return CodeNormalizer(load_catalog(BUNDLED_STANDARDS_DIR))


def fake_retrieve(text: str, k: int, filters: dict) -> list[str]:
    return RANKED[text][:k]


def test_hand_computed_metrics(normalizer: CodeNormalizer) -> None:
    result = RetrievalEvaluator(ITEMS, normalizer, ks=(1, 5, 10))(fake_retrieve)
    m = result.metrics
    assert m["hit@1"] == pytest.approx(1 / 5)
    assert m["hit@5"] == pytest.approx(3 / 5)
    assert m["hit@10"] == pytest.approx(4 / 5)
    assert m["recall@5"] == pytest.approx(3 / 5)
    assert m["recall@10"] == pytest.approx((1 + 1 + 1 + 0.5 + 0) / 5)
    assert m["mrr"] == pytest.approx((1 / 2 + 1 + 1 / 3 + 1 / 7 + 0) / 5)
    assert m["items"] == 5
    assert result.breakdown["grade"]["6"]["hit@1"] == pytest.approx(1 / 3)
    assert result.breakdown["grade"]["3"]["recall@10"] == pytest.approx(0.5)
    assert result.per_item[3]["retrieved"][6] == "4.NF.B.3"


def test_roll_up_and_cluster_groups(normalizer: CodeNormalizer) -> None:
    assert normalizer.group("6.RP.A.3a") == {"6.RP.A.3"}
    assert normalizer.group("HSG-CO.B.8") == frozenset({"G-CO.B.8"})
    assert normalizer.group("6.RP.A") == frozenset({"6.RP.A.1", "6.RP.A.2", "6.RP.A.3"})


def test_item_metrics_counts_a_repeated_standard_once() -> None:
    metrics = item_metrics(["A", "A", "B"], [frozenset({"B"})], ks=[1, 2])
    assert metrics == {"hit@1": 0.0, "recall@1": 0.0, "hit@2": 1.0, "recall@2": 1.0, "mrr": 0.5}


def test_empty_item_list_is_refused(normalizer: CodeNormalizer) -> None:
    with pytest.raises(ValueError):
        RetrievalEvaluator([], normalizer)


def test_reliability_table_bins_confidences_against_tags() -> None:
    """Per bin: how many standards, their mean confidence and the share the items are tagged with."""
    table = reliability_table([0.05, 0.08, 0.6, 0.65, 0.95, 1.0], [False, True, True, False, True, True])
    assert table == [{"bin": "0.00-0.10", "standards": 2, "mean_confidence": 0.065, "tagged_share": 0.5},
                     {"bin": "0.50-0.70", "standards": 2, "mean_confidence": 0.625, "tagged_share": 0.5},
                     {"bin": "0.70-1.00", "standards": 2, "mean_confidence": 0.975, "tagged_share": 1.0}]
    assert reliability_table([], []) == []


def test_tagged_lessons_get_grade_domain_and_group_split(tmp_path, normalizer: CodeNormalizer) -> None:
    """A lesson file without grade, domain or split: the first tag gives grade and domain, the group gives the split."""
    path = tmp_path / "lessons.jsonl"
    rows = [{"id": "im_lesson_000010", "text": "Compare ratios with tape diagrams.", "standard_ids": ["6.RP.A.3a"]},
            {"id": "im_lesson_000011", "text": "Notice and wonder.", "standard_ids": ["A-REI.B.3", "6.EE.B.7"]}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    items = load_items(path, "all", normalizer.catalog)
    assert [(i.grade, i.domain) for i in items] == [("6", "RP: Ratios & Proportional Relationships"),
                                                    ("HS", "A-REI: Reasoning with Equations & Inequalities")]
    assert all(i.grade_from_tags for i in items)  # a breakdown label, never a grade hint (it comes from the answer)
    dev, heldout = load_items(path, "dev", normalizer.catalog), load_items(path, "heldout", normalizer.catalog)
    assert sorted([len(dev), len(heldout)]) == [0, 2]  # neighbours: one group, one side
