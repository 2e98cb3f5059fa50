"""vectorstore on an embedded Chroma: cosine collections, queries with filters, blue-green aliases, BM25 beside a collection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edurag.settings import Settings
from vectorstore.aliases import AliasCache, Target, current_collection, current_target, switch, version_name, versions
from vectorstore.chroma import SEARCH_EF, MetadataCache, describe_mode, get_collection, matches, nearest, open_client, query, where_all

TEXTS = {
    "ratio": "Students compare ratios with tables of equivalent ratios",
    "atoms": "Atoms combine into molecules and extended structures",
    "poems": "Readers compare the structure of two poems",
}


def unit(vector: list[float]) -> list[float]:
    array = np.asarray(vector, dtype=np.float32)
    return (array / np.linalg.norm(array)).tolist()


@pytest.fixture()
def collection(tmp_path: Path):
    client = open_client(Settings(data_dir=tmp_path))
    col = get_collection(client, "things")
    col.add(ids=list(TEXTS), documents=list(TEXTS.values()), embeddings=[unit([1, 0, 0]), unit([0, 1, 0]), unit([0.9, 0, 0.1])],
            metadatas=[{"subject": "math", "grades": ["6", "7"]}, {"subject": "science", "grades": ["6"]},
                       {"subject": "ela", "grades": ["5"]}])
    return client, col


def test_embedded_client_lives_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    open_client(settings)
    assert (tmp_path / "chroma").is_dir()
    assert describe_mode(settings) == {"mode": "embedded", "path": str((tmp_path / "chroma").resolve())}
    assert describe_mode(Settings(chroma_url="http://127.0.0.1:9")) == {"mode": "server", "url": "http://127.0.0.1:9"}


def test_query_ranks_by_cosine_and_honours_filters(collection) -> None:
    _, col = collection
    hits = query(col, unit([1, 0, 0]), 3)
    assert [h.id for h in hits] == ["ratio", "poems", "atoms"]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5) and hits[0].text == TEXTS["ratio"]
    assert hits[1].score == pytest.approx(0.9 / np.hypot(0.9, 0.1), abs=1e-4)
    assert [h.id for h in query(col, unit([1, 0, 0]), 3, where_all(subject="science"))] == ["atoms"]
    assert [h.id for h in query(col, unit([1, 0, 0]), 3, where_all(grades=["6"], subject="math"))] == ["ratio"]
    assert query(get_collection(collection[0], "empty"), unit([1, 0, 0]), 3) == []


def test_where_all_skips_missing_conditions() -> None:
    assert where_all(subject=None, framework=None) is None
    assert where_all(subject="math") == {"subject": "math"}
    assert where_all(subject="math", grades=["6"], framework=None) == {"$and": [{"subject": "math"}, {"grades": {"$contains": "6"}}]}


def test_alias_points_at_itself_until_switched_then_at_the_version(collection) -> None:
    client, _ = collection
    assert current_target(client, "things") == Target(name="things")
    get_collection(client, version_name("things", 1))
    get_collection(client, version_name("things", 3))
    assert versions(client, "things") == {1: "things__v1", 3: "things__v3"}
    switch(client, "things", Target(name="things__v3", previous="things", embedding_model="m"))
    assert current_target(client, "things") == Target(name="things__v3", previous="things", embedding_model="m")
    assert current_collection(client, "things") == "things__v3"


def test_alias_cache_sees_a_switch_made_elsewhere_within_its_ttl(tmp_path: Path):
    """Queries reuse the alias target for `ttl` seconds; another process's switch shows up after it, ours at once."""
    import chromadb

    client = chromadb.PersistentClient(path=str(tmp_path / "chroma"))
    other = chromadb.PersistentClient(path=str(tmp_path / "chroma"))
    cache = AliasCache(ttl=3600)  # no sleeping: a loaded machine must not turn "within the ttl" into "after it"
    assert cache.get(client, "standards")[1].name == "standards"
    switch(other, "standards", Target(name="standards__v1", previous="standards"))
    assert cache.get(client, "standards")[1].name == "standards", "cached within the ttl"
    cache.ttl = 0.0
    target, collection = cache.get(client, "standards")
    assert (target.name, target.previous, collection.name) == ("standards__v1", "standards", "standards__v1")
    cache.ttl = 3600
    switch(other, "standards", Target(name="standards", previous="standards__v1"))
    assert cache.get(client, "standards")[1].name == "standards__v1", "cached again"
    cache.invalidate()
    assert cache.get(client, "standards")[1].name == "standards"


def test_collections_search_with_at_least_search_ef(tmp_path: Path) -> None:
    """/align asks 100 neighbours per passage: collections search with ef_search SEARCH_EF (200), old ones are raised."""
    client = open_client(Settings(data_dir=tmp_path))
    client.get_or_create_collection("made-before", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
    client.get_or_create_collection("exact", configuration={"hnsw": {"space": "cosine", "ef_search": 3000}},
                                    embedding_function=None)
    assert client.get_collection("made-before").configuration_json["hnsw"]["ef_search"] == 100  # Chroma's default
    reopened = open_client(Settings(data_dir=tmp_path))
    assert [get_collection(reopened, name).configuration_json["hnsw"]["ef_search"] for name in ("made-before", "exact", "new")] \
        == [SEARCH_EF, 3000, SEARCH_EF]
    assert open_client(Settings(data_dir=tmp_path)).get_collection("made-before").configuration_json["hnsw"]["ef_search"] == SEARCH_EF


def test_metadata_cache_reads_each_chunk_once_and_leaves_out_deleted_chunks(collection, monkeypatch) -> None:
    from chromadb.api.models.Collection import Collection

    _, col = collection
    cache = MetadataCache(chunks=2)
    stored = col.get(ids=list(TEXTS), include=["metadatas"])
    expected = dict(zip(stored["ids"], stored["metadatas"]))
    assert cache.read(col, ["ratio", "atoms"]) == {i: expected[i] for i in ("ratio", "atoms")}
    reads: list[list[str]] = []
    get = Collection.get
    monkeypatch.setattr(Collection, "get", lambda self, ids, **kw: reads.append(list(ids)) or get(self, ids=ids, **kw))
    first = cache.read(col, ["atoms", "ratio"])
    first["atoms"]["subject"] = "changed by a caller"
    assert cache.read(col, ["atoms", "ratio"])["atoms"] == expected["atoms"] and reads == []  # cached, copies handed out
    assert cache.read(col, ["poems"]) == {"poems": expected["poems"]} and reads == [["poems"]]
    cache.read(col, ["atoms"])  # "atoms" made room for "poems" (least recently used): at most 2 chunks are held
    assert reads == [["poems"], ["atoms"]]
    col.delete(ids=["ratio"])  # made room for "atoms", then deleted: left out
    assert cache.read(col, ["ratio", "poems"]) == {"poems": expected["poems"]} and reads[-1] == ["ratio"]


def test_metadata_cache_takes_bm25_hits_metadata_without_reading_chroma(collection, tmp_path: Path, monkeypatch) -> None:
    """/align's lexical-only candidates bring their metadata from the BM25 index (at 100k chunks reading them from
    Chroma was the part of a query that grew most): same metadata as Chroma's, no `get` for them."""
    from chromadb.api.models.Collection import Collection

    from vectorstore.lexical import LexicalIndex

    _, col = collection
    stored = col.get(ids=list(TEXTS), include=["metadatas"])
    expected = dict(zip(stored["ids"], stored["metadatas"]))
    lexical = LexicalIndex(tmp_path / "bm25")
    lexical.upsert(stored["ids"], [TEXTS[i] for i in stored["ids"]], stored["metadatas"])
    hits = {hit.id: hit for hit in lexical.search("compare ratios and poems", 3)}
    assert set(hits) == {"ratio", "poems"}
    reads: list[list[str]] = []
    get = Collection.get
    monkeypatch.setattr(Collection, "get", lambda self, ids, **kw: reads.append(list(ids)) or get(self, ids=ids, **kw))
    assert MetadataCache().read(col, ["ratio", "atoms", "poems"], hits) == expected
    assert reads == [["atoms"]]  # only the chunk no hit carried


def test_metadata_cache_reads_dense_only_candidates_from_the_bm25_index(collection, tmp_path: Path, monkeypatch) -> None:
    """A chunk no BM25 hit carried (a dense-only /align candidate) is looked up in the collection's BM25 index by id
    (Chroma's `get` grew with the collection: 32 ms for 150 ids at 100k chunks, 4.5 ms from the index); only a chunk
    the index lacks is read from Chroma."""
    from chromadb.api.models.Collection import Collection

    from vectorstore.lexical import LexicalIndex

    _, col = collection
    stored = col.get(ids=list(TEXTS), include=["metadatas"])
    expected = dict(zip(stored["ids"], stored["metadatas"]))
    lexical = LexicalIndex(tmp_path / "bm25")
    lexical.upsert(stored["ids"], [TEXTS[i] for i in stored["ids"]], stored["metadatas"])
    lexical.delete(["poems"])
    assert set(lexical.stored(["ratio", "atoms", "poems", "unknown"])) == {"ratio", "atoms"}
    reads: list[list[str]] = []
    get = Collection.get
    monkeypatch.setattr(Collection, "get", lambda self, ids, **kw: reads.append(list(ids)) or get(self, ids=ids, **kw))
    cache = MetadataCache(index_of={col.name: lexical}.__getitem__)
    assert cache.read(col, ["ratio", "atoms", "poems"]) == expected
    assert reads == [["poems"]]  # only the chunk the index lacks


EXACT_HNSW = {"hnsw": {"space": "cosine", "ef_search": 3000, "ef_construction": 400}}  # exact at this size: the test
# compares two query strategies, not HNSW recall


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, keep: np.ndarray, ids: list[str], k: int) -> list[list[str]]:
    """Brute-force cosine top k among the kept chunks."""
    cos = queries @ vectors.T
    cos[:, ~keep] = -np.inf
    return [[ids[j] for j in np.argsort(-row, kind="stable")[:min(k, int(keep.sum()))]] for row in cos]


@pytest.fixture()
def frameworks(tmp_path: Path):
    """2,000 random unit vectors: 1,800 chunks of a large framework, 200 of a small one, 100 of which sit in a tight
    cluster (the neighbourhood of a query the large framework does not answer). Grades cycle 1..12."""
    rng = np.random.default_rng(18)
    vectors = rng.standard_normal((2000, 24)).astype(np.float32)
    cluster = rng.standard_normal(24).astype(np.float32)
    vectors[1900:] = cluster + 0.05 * rng.standard_normal((100, 24))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [f"c{i}" for i in range(2000)]
    metadatas = [{"framework": "large" if i < 1800 else "small", "grades": [str(1 + i % 12)]} for i in range(2000)]
    col = open_client(Settings(data_dir=tmp_path)).get_or_create_collection("standards", configuration=EXACT_HNSW,
                                                                           embedding_function=None)
    col.add(ids=ids, embeddings=vectors, metadatas=metadatas)
    return col, vectors, ids, metadatas, cluster / np.linalg.norm(cluster)


@pytest.mark.parametrize("cached", [False, True])
def test_post_filter_gives_the_top_k_of_the_where_query(frameworks, cached: bool, monkeypatch) -> None:
    from chromadb.api.models.Collection import Collection

    col, vectors, ids, metadatas, _ = frameworks
    queries = np.random.default_rng(7).standard_normal((6, 24)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    conditions = {"framework": "large", "grades": None}
    cache = MetadataCache() if cached else None
    got = nearest(col, queries, 20, conditions, share=0.9, cache=cache)
    if cached:  # the over-fetched neighbours' metadata came through the cache: a second search reads none from Chroma
        reads: list[object] = []
        get, query_ = Collection.get, Collection.query
        monkeypatch.setattr(Collection, "get", lambda self, ids, **kw: reads.append(ids) or get(self, ids=ids, **kw))
        monkeypatch.setattr(Collection, "query", lambda self, **kw: reads.extend(kw["include"]) or query_(self, **kw))
        assert nearest(col, queries, 20, conditions, share=0.9, cache=cache) == got and reads == ["distances"]
    assert got.where_queried == []  # every vector answered by the unfiltered over-fetch
    where = col.query(query_embeddings=queries, n_results=20, where={"framework": "large"}, include=["distances"])
    keep = np.array([m["framework"] == "large" for m in metadatas])
    assert got.ids == where["ids"] == exact_top_k(vectors, queries, keep, ids, 20)
    assert np.allclose(got.distances, where["distances"], atol=1e-5)
    assert all(m["framework"] == "large" for metas in got.metadatas for m in metas)
    unfiltered = col.query(query_embeddings=queries, n_results=20, include=[])["ids"]
    assert unfiltered != got.ids  # the filter mattered: some nearest chunks are the small framework's


def test_post_filter_falls_back_to_the_where_for_a_vector_the_filter_empties(frameworks) -> None:
    col, vectors, ids, metadatas, cluster = frameworks
    queries = np.stack([np.random.default_rng(3).standard_normal(24).astype(np.float32), cluster])
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    got = nearest(col, queries, 10, {"framework": "large"}, share=0.9)
    assert got.where_queried == [1]  # the cluster's 100 nearest chunks are all the small framework's: over-fetch of 17 keeps none
    keep = np.array([m["framework"] == "large" for m in metadatas])
    assert got.ids == exact_top_k(vectors, queries, keep, ids, 10)


def test_selective_filters_use_the_where_and_small_collections_are_read_whole(frameworks, tmp_path: Path) -> None:
    col, vectors, ids, metadatas, _ = frameworks
    queries = vectors[:3] + 0.1
    conditions = {"framework": "large", "grades": ["6"]}
    got = nearest(col, queries, 10, conditions, share=0.075)  # below min_share: the where for every vector
    assert got.where_queried == [0, 1, 2]
    keep = np.array([matches(m, conditions) for m in metadatas])
    assert keep.sum() == 150 and got.ids == exact_top_k(vectors, queries / np.linalg.norm(queries, axis=1, keepdims=True),
                                                        keep, ids, 10)
    small = get_collection(open_client(Settings(data_dir=tmp_path / "small")), "small")
    small.add(ids=ids[:30], embeddings=vectors[:30], metadatas=[{"framework": "ab"[i % 2]} for i in range(30)])
    got = nearest(small, vectors[:2], 20, {"framework": "a"}, share=0.5)  # asks 60 of 30: the whole collection came back
    assert got.where_queried == [] and [len(i) for i in got.ids] == [15, 15]
    assert got.ids == small.query(query_embeddings=vectors[:2], n_results=20, where={"framework": "a"}, include=[])["ids"]
    unfiltered = nearest(small, vectors[:1], 3, metadata=False)
    assert unfiltered.ids == small.query(query_embeddings=vectors[:1], n_results=3, include=[])["ids"]
    assert unfiltered.metadatas == [[{}, {}, {}]]


def test_matches_reads_conditions_as_where_all_does() -> None:
    meta = {"framework": "ccss", "grades": ["6", "7"], "subject": "math"}
    assert matches(meta, {"framework": "ccss", "grades": ["7"], "subject": None})
    assert not matches(meta, {"framework": "ccss", "grades": ["8"]})
    assert not matches(meta, {"subject": "ela"}) and not matches({"framework": "ccss"}, {"grades": ["6"]})
