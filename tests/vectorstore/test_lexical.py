"""The BM25 index's query: words common to most chunks stay out of it, and searches submitted on its threads
return what `search` returns."""

from pathlib import Path

from vectorstore.lexical import COMMON_TERM_SHARE, LexicalIndex


def _index(tmp_path: Path) -> LexicalIndex:
    index = LexicalIndex(tmp_path / "bm25")
    texts = [f"students compare {word}" for word in ("ratios", "fractions", "decimals", "angles", "volumes")]
    texts += ["students", "polygons and their angles"]
    index.upsert([f"c{i}" for i in range(len(texts))], texts, [{"n": i} for i in range(len(texts))])
    return index


def test_words_in_most_chunks_stay_out_of_the_query_unless_they_are_all_it_has(tmp_path: Path) -> None:
    index = _index(tmp_path)
    searcher = index.index.searcher()
    assert searcher.doc_freq("text", "student") > COMMON_TERM_SHARE * searcher.num_docs
    # "students" is in 6 of 7 chunks: the query is "angles", and the chunk that has only "students" is not a hit
    assert {hit.id for hit in index.search("students measure angles", 10)} == {"c3", "c6"}
    # a query of common words only still finds the chunks that have them
    assert len(index.search("students", 10)) == 6


def test_submitted_searches_return_what_search_returns_in_order(tmp_path: Path) -> None:
    index = _index(tmp_path)
    queries = ["compare ratios", "angles of polygons", "volumes", "nothing matches this"]
    for where in (None, {"n": 3}):
        submitted = [[(hit.id, hit.score) for hit in future.result()] for future in index.submit(queries, 3, where)]
        assert submitted == [[(hit.id, hit.score) for hit in index.search(query, 3, where)] for query in queries]
    assert [hits[0][0] if hits else None for hits in submitted] == [None, "c3", None, None]
