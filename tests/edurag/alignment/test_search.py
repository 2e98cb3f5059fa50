"""Hybrid aligner components: lexical index in step with Chroma, passage aggregation, grade cues, ELA/NGSS sanity."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest

from edurag.chunking import split_by_tokens
from edurag.components import build_components
from edurag.settings import Settings
from ingestion.service import ingest_standards
from edurag.alignment.align import retrieve_standards
from edurag.alignment.search import grade_cues, hybrid_search, rank_standards
from vectorstore.chroma import get_collection
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def subset(tmp_path_factory, embedder, standards_subset_dir):
    """Components over the trimmed standards (grades 6-7 math, grade 5 ELA reading, MS-PS1), ingested once."""
    root = tmp_path_factory.mktemp("hybrid")
    standards = root / "standards"
    shutil.copytree(standards_subset_dir, standards)
    c = build_components(Settings(data_dir=root / "data", standards_dir=standards, generator="extractive"), embedder=embedder)
    ingest_standards(c)
    return c


@pytest.mark.parametrize("text, cues", [
    ("A sixth-grade lesson on ratios", {"6"}), ("Grade 7 probability", {"7"}), ("for 8th grade students", {"8"}),
    ("kindergarten counting", {"K"}), ("a high school algebra task", {"9", "10", "11", "12"}), ("ratios and rates", set()),
    ("Which K-2 standards are about place value?", {"K", "1", "2"}), ("grades 3-5 fractions", {"3", "4", "5"}),
    ("grades 6 to 8", {"6", "7", "8"}), ("9-12 science standards", {"9", "10", "11", "12"}),
    ("which HS standards", {"9", "10", "11", "12"}), ("MS standards on energy", {"6", "7", "8"}),
    ("K-2-ETS1-1, RH.6-8.1 and MS-PS1-2", set()), ("groups of 3-5 students", set()), ("list 3-4 standards", set()),
])
def test_grade_cues(text, cues):
    assert grade_cues(text) == cues


def test_long_text_is_split_into_whole_paragraphs_tokenized_once(embedder):
    paragraphs = [" ".join(f"Table {p}.{i} compares {i} cups of juice to {i + 1} cups of water." for i in range(4)) for p in range(12)]
    text = "\n\n".join(paragraphs)
    assert embedder.count_tokens(text) == len(embedder.tokenizer(text, add_special_tokens=False)["input_ids"]) > 500  # not truncated
    split = embedder.passages(text, 120, 0)
    ids = split.tokens["input_ids"]
    assert len(ids) > 3 and all(len(w) <= 122 for w in ids)  # 120 word pieces + [CLS] and [SEP]
    assert sorted(p for part in split.texts for p in part.split("\n\n")) == sorted(paragraphs)  # whole paragraphs, none lost
    vectors = embedder.encode_tokens(split.tokens)
    assert np.allclose((vectors * embedder.encode(split.texts)).sum(axis=1), 1.0, atol=1e-4)
    short = embedder.passages("short text", 120, 20)
    assert short.texts == ["short text"] and len(short.tokens["input_ids"]) == 1


@pytest.mark.parametrize("size, overlap", [(200, 0), (40, 10)])
def test_passages_are_the_pieces_the_exact_token_count_gives(embedder, size, overlap):
    """/align counts a piece's word pieces as the sum of its words' (one tokenizer call per text): the passages are the
    ones LangChain's splitter makes when it tokenizes every piece it measures, on IM lessons and on awkward text."""
    lessons = [json.loads(line)["text"] for line in (FIXTURES / "im_lessons_slice.jsonl").read_text().splitlines()]
    glued = "Sort the cards.\x0cMatch\x1ceach\x85graph to its\x0btable. " * 30  # str.split breaks here, BERT does not
    awkward = ["café\u00a0naïve déjà-vu 3.5×10⁻² 数学の問題 " * 40, "x" * 900 + " tail words\n\n" + "y" * 300, glued, ""]
    assert sum(embedder.count_tokens(w) for w in glued.split()) != embedder.count_tokens(glued)
    for text in lessons + awkward:
        expected = split_by_tokens(text, size, overlap, embedder.count_tokens) or [text]
        assert embedder.passages(text, size, overlap).texts == expected
    counter = embedder.piece_counter(lessons[0])
    pieces = [lessons[0][i:j] for i, j in ((0, 400), (37, 1200), (5, 9))] + ["words from another text entirely"]
    assert [counter(p) for p in pieces] == [embedder.count_tokens(p) for p in pieces]


def test_two_topic_lesson_ranks_both_standards_in_top_five(subset):
    ratios = ("Warm-up: students use tables of equivalent ratios and tape diagrams to compare two lemonade recipes. "
              "They find the unit rate of each recipe, plot the pairs on the coordinate plane and explain which is sweeter. ") * 3
    probability = ("Later, students design a simulation with coins and number cubes to estimate the probability of compound "
                   "events, list sample spaces with organized lists and tree diagrams, and compare the frequencies. ") * 3
    hits = hybrid_search(subset, ratios + "\n\n" + probability, 5)
    codes = [h.code for h in hits]
    assert any(c.startswith("6.RP.A.3") for c in codes) and "7.SP.C.8" in codes, codes
    by_code = {h.code: h for h in hits}
    assert "probability" in by_code["7.SP.C.8"].passage and "lemonade" not in by_code["7.SP.C.8"].passage


def test_grade_cue_favours_the_named_grade(subset):
    text = "Students solve problems about proportional relationships and unit rates"
    plain = hybrid_search(subset, text, 10)
    cued = hybrid_search(subset, text + " in grade 7", 10)
    assert all(h.features["grade_stated"] == 0 for h in plain)
    assert all((h.features["grade_stated"] > 0) == ("7" in h.metadata["grades"]) for h in cued)
    assert cued[0].metadata["grades"] == ["7"]


def test_grade_hint_favours_that_grade_without_filtering(subset):
    text = "Students solve problems about proportional relationships and unit rates"
    hinted = hybrid_search(subset, text, 10, grade_hint="7")
    assert all((h.features["grade_stated"] > 0) == ("7" in h.metadata["grades"]) for h in hinted)
    assert hinted[0].metadata["grades"] == ["7"]
    assert any("6" in h.metadata["grades"] for h in hinted)  # a hint, not a filter
    band = hybrid_search(subset, text, 10, grade_hint="MS")
    assert all(h.features["grade_stated"] > 0 for h in band if {"6", "7", "8"} & set(h.metadata["grades"]))


def test_without_the_ranker_grade_boosts_add_to_the_fused_score(subset):
    """EDURAG_ALIGNER_MODEL=off: the fused cosine + BM25 score plus the grade boosts, as before the ranker."""
    off = replace(subset, settings=subset.settings.model_copy(update={"aligner_model": "off"}))
    text = "Students solve problems about proportional relationships and unit rates"
    hinted = hybrid_search(off, text, 10, grade_hint="7")
    assert all((h.boost > 0) == ("7" in h.metadata["grades"]) for h in hinted)
    assert all(h.confidence is None and not h.features for h in hinted)
    assert hinted[0].score == pytest.approx(hinted[0].dense + 0.3 * hinted[0].lexical + hinted[0].boost, abs=1e-4)


def test_lexical_index_stays_in_step_with_chroma(subset, tmp_path):
    collection = get_collection(subset.client, "standards")
    index = subset.lexical_indexes.get("standards")
    assert index.count() == collection.count()
    path = subset.settings.standards_dir / "ngss_pe.jsonl"
    original = path.read_text()
    rows = [json.loads(line) for line in original.splitlines()]
    rows[0]["description"] = "Investigate zorbulite crystals and their quantum flavours."
    dropped = rows.pop()
    try:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        changed = build_components(subset.settings, embedder=subset.embedder)
        ingest_standards(changed)
        assert index.count() == collection.count() == len(changed.catalog.indexable())
        assert not [h for h in index.search(dropped["description"], 50) if h.metadata["code"] == dropped["id"]]
        assert index.search("zorbulite crystals", 1)[0].metadata["code"] == rows[0]["id"]
    finally:
        path.write_text(original)
        ingest_standards(build_components(subset.settings, embedder=subset.embedder))
    assert index.count() == collection.count()
    assert dropped["id"] in {h.metadata["code"] for h in index.search(dropped["description"], 5)}


def test_lexical_index_is_shared_through_the_data_dir_and_repaired_after_a_crash(subset):
    """Another process opening the same data dir sees the same BM25 index; a lexical write lost between the Chroma
    write and its own (a crash) is detected by the next sync and rebuilt from Chroma page by page."""
    from vectorstore.lexical import LexicalIndex

    other = LexicalIndex(subset.settings.lexical_dir / "standards")  # what a second process opens
    collection = get_collection(subset.client, "standards")
    assert other.count() == collection.count()
    some = collection.get(limit=7, include=[])["ids"]
    subset.lexical_indexes.get("standards").delete(some)  # Chroma kept them: the lexical side lost 7 chunks
    assert other.count() == collection.count() - 7
    assert ingest_standards(subset).added == 0  # nothing re-embedded ...
    assert other.count() == collection.count()  # ... and BM25 holds every chunk again


def test_dropped_collection_drops_its_lexical_index(subset):
    from ingestion.reindex import drop_collection
    from ingestion.indexer import sync
    from langchain_core.documents import Document

    docs = [Document(page_content="Photosynthesis turns light into chemical energy", metadata={"source": "a", "code": "X"})]
    sync(docs, "scratch__v1", client=subset.client, embedder=subset.embedder, settings=subset.settings, cleanup="full")
    assert subset.lexical_indexes.get("scratch__v1").search("photosynthesis", 3)[0].metadata["code"] == "X"
    drop_collection(subset.client, subset.settings, "scratch__v1")
    assert not (subset.settings.lexical_dir / "scratch__v1").exists()
    assert subset.lexical_indexes.get("scratch__v1").count() == 0


@pytest.mark.parametrize("text, expected", [
    ("Students quote accurately from a story when explaining what it says and drawing inferences", "RL.5.1"),
    ("Explain how an author uses reasons and evidence to support particular points in an informational text", "RI.5.8"),
    ("Develop models to describe the atomic composition of simple molecules", "MS-PS1-1"),
    ("Gather information to show that synthetic materials like plastics come from natural resources", "MS-PS1-3"),
])
def test_ela_and_ngss_sanity_set(subset, text, expected):
    codes = [s.code for s in retrieve_standards(subset, text, 3)]
    assert expected in codes, codes


def test_filters_apply_to_both_signals(subset):
    hits = hybrid_search(subset, "ratios and molecules", 20, subject="science")
    assert hits and all(h.metadata["subject"] == "science" for h in hits)
    assert hybrid_search(subset, "ratios", 5, grade="12") == []


def test_ranking_reads_only_the_candidates(subset, monkeypatch):
    """/align's query path reads no whole collection: Chroma's nearest and the BM25 index's best per passage are the
    only standards it reads (a Collection.get without ids fails here), and it ranks some a BM25 search alone found."""
    from chromadb.api.models.Collection import Collection

    get = Collection.get

    def by_ids_only(self, *args, **kwargs):
        assert args or kwargs.get("ids") is not None, f"whole-collection read of {self.name} on the /align query path"
        return get(self, *args, **kwargs)

    monkeypatch.setattr(Collection, "get", by_ids_only)
    ranking = rank_standards(subset, "Students use ratio reasoning and unit rates to compare recipes", 10)
    assert ranking.standards and all(not h.code.startswith("MP.") for h in ranking.standards)
    narrow = replace(subset, settings=subset.settings.model_copy(update={"dense_candidates": 5}))
    found = rank_standards(narrow, "Students use ratio reasoning and unit rates to compare recipes", 50).standards
    assert len(found) > 5 and any(h.features["dense"] == 0 and h.features["lexical"] > 0 for h in found)


def test_training_scores_bm25_as_align_does(subset, tmp_path):
    """The ranker's trainer (finetune.aligner) builds the same tantivy BM25 index over the same standard texts that
    ingestion gives /align, so a passage's max-normalized lexical scores are the ones /align fuses."""
    from edurag.alignment.search import fused_candidates
    from finetune.aligner import normalized_lexical, standards_index

    text = "Students use ratio reasoning and unit rates to compare recipes and molecules"
    index = standards_index(subset.catalog, subset.embedder, tmp_path / "lexical")
    trained = dict(zip(index.codes, normalized_lexical(index, [text], 100)[0]))
    collection = get_collection(subset.client, "standards")
    _, metadatas, _, served = fused_candidates(subset, collection, [text], subset.embedder.encode([text]), {})
    scored = {m["code"]: float(score) for m, score in zip(metadatas, served[0]) if score > 0}
    assert len(scored) > 10
    assert scored == pytest.approx({code: float(trained[code]) for code in scored}, abs=1e-5)
    assert sum(score > 0 for score in trained.values()) == len(scored)


def test_broad_filter_ranks_as_the_where_query_does(subset):
    """A filter that keeps most standards is applied to an unfiltered over-fetch (vectorstore.chroma.nearest): the
    ranking is the one the Chroma `where` gives, scores included; a selective filter uses the `where`."""
    where_only = replace(subset, settings=subset.settings.model_copy(update={"post_filter_min_share": 2.0}))
    text = ("Students compare two lemonade recipes with tables of equivalent ratios and find the unit rate of each.\n\n"
            "Then they model how particles of a gas move when it is heated.")
    assert subset.catalog.share("ccss") >= subset.settings.post_filter_min_share > subset.catalog.share("ngss")
    for framework, grade in (("ccss", None), ("ccss", "6"), ("ngss", None), (None, "7")):
        post = rank_standards(subset, text, 10, grade=grade, framework=framework).standards
        where = rank_standards(where_only, text, 10, grade=grade, framework=framework).standards
        assert post and [(h.code, round(h.score, 5), round(h.dense, 5)) for h in post] == \
            [(h.code, round(h.score, 5), round(h.dense, 5)) for h in where], (framework, grade)
        assert all(h.metadata["framework"] == framework for h in post if framework)
