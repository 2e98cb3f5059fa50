"""BM25 beside each Chroma collection, in a persistent tantivy index updated at ingest and delete.

Chroma OSS has no lexical search, and building BM25 from a whole-collection read does not scale (one `get()` of
more than 32,766 chunks fails with "too many SQL variables"; every query paid for a pass over every chunk). tantivy is a
search engine library (Lucene's design, in Rust): a query reads the posting lists of its words only, never a pass
over the chunks (tantivy-py scores every posting of them: its `search` wraps the top-k collector in a MultiCollector,
which gets no block-max WAND, hence COMMON_TERM_SHARE and LexicalIndex.submit). One index per collection lives in `$EDURAG_DATA_DIR/lexical/<name>/`,
so every API process and worker that shares the data dir reads the same index; writers take tantivy's lock file in
turn. Text is analysed in Python by `tokenize` (bm25s: lower-cased, English stop words removed, Snowball-stemmed),
the analysis the earlier in-memory BM25 used; tantivy's BM25 (k1 1.2, b 0.75) keeps Lucene's (k1 + 1) factor and
byte-quantized field lengths, so raw scores are ~2.3x bm25s' and max-normalized ones differ by a few hundredths. The
/align ranker's trainer (finetune.aligner) therefore scores with a LexicalIndex too.

Size, measured on a `bench/scale.py fill` data dir: 45 MB for 101,175 standards chunks (30 analysed words each, with
their stored metadata, which carries each standard's statement) and 15 MB for 100,000 transcript chunks, i.e. ~450 and
~150 MB on disk per million chunks, memory-mapped; a process needs the OS page cache for the postings its queries
touch, not the index in its heap.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Sequence

import bm25s
import Stemmer
import tantivy

from edurag.settings import Settings, usable_cores

logger = logging.getLogger(__name__)

_STEMMER = Stemmer.Stemmer("english")
WRITER_HEAP_BYTES = 50_000_000
WRITER_LOCK_WAIT_SECONDS = 60.0
TEXT, ID, META, FILTER = "text", "id", "meta", "filter"
# A query word found in more than this share of a collection's chunks is left out of its BM25 query, as Lucene's
# MoreLikeThis does with maxDocFreqPct: its idf is below ln 2 (~0.69, against 5-12 for the words that tell chunks
# apart), so it barely moves the ranking, but its posting list is the longest one to score. tantivy-py's `search`
# scores every posting of every query word (its MultiCollector gets no block-max WAND), so at 1M chunks of Zipf text
# such words were a third of a passage's time (19 -> 12.5 ms), the top 20 staying 95% the same (99% at 1,000).
COMMON_TERM_SHARE = 0.5


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop-word-filtered, Snowball-stemmed tokens."""
    return bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False)


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field(ID, stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field(TEXT, tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field(FILTER, tokenizer_name="raw", index_option="basic")
    builder.add_bytes_field(META, stored=True)
    return builder.build()


def filter_terms(metadata: dict[str, Any]) -> list[str]:
    """`key=value` terms a `where` filter can match: one per scalar value, one per element of a list value."""
    terms = []
    for key, value in metadata.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, (str, int, float, bool)):
                terms.append(f"{key}={item}")
    return terms


@dataclass
class LexicalHit:
    """One chunk a lexical query matched, with its BM25 score and stored metadata (decoded when first read: /align
    decodes only the hits its metadata cache lacks, and decoding every hit's JSON cost more than the search itself)."""

    id: str
    score: float
    stored: bytes = field(repr=False)

    @cached_property
    def metadata(self) -> dict[str, Any]:
        """The chunk's metadata as it was indexed."""
        return json.loads(self.stored)


def _hit(doc: tantivy.Document, score: float) -> LexicalHit:
    """A stored document of the index as a hit with this score."""
    return LexicalHit(id=doc[ID][0], score=score, stored=bytes(doc[META][0]))


class LexicalIndex:
    """The BM25 index of one collection (a tantivy index directory)."""

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.schema = _schema()
        self.index = tantivy.Index(self.schema, path=str(path), reuse=True)
        self._write_lock = threading.Lock()

    def _writer(self) -> tantivy.IndexWriter:
        """A writer, waiting while another process holds the index's lock file."""
        deadline = time.monotonic() + WRITER_LOCK_WAIT_SECONDS
        while True:
            try:
                return self.index.writer(WRITER_HEAP_BYTES, 1)
            except ValueError as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def upsert(self, ids: Sequence[str], texts: Sequence[str], metadatas: Sequence[dict[str, Any] | None]) -> None:
        """Index chunks, replacing any earlier version of the same ids, in one commit."""
        if not ids:
            return
        tokens = tokenize(list(texts))
        with self._write_lock:
            writer = self._writer()
            for chunk_id in ids:
                writer.delete_documents_by_term(ID, chunk_id)
            for chunk_id, words, metadata in zip(ids, tokens, metadatas):
                metadata = dict(metadata or {})
                writer.add_document(tantivy.Document(**{
                    ID: chunk_id, TEXT: " ".join(words), FILTER: filter_terms(metadata),
                    META: json.dumps(metadata, ensure_ascii=False).encode()}))
            writer.commit()
            writer.wait_merging_threads()
        self.index.reload()

    def delete(self, ids: Iterable[str]) -> None:
        """Remove chunks by id (unknown ids are ignored)."""
        ids = list(ids)
        if not ids:
            return
        with self._write_lock:
            writer = self._writer()
            for chunk_id in ids:
                writer.delete_documents_by_term(ID, chunk_id)
            writer.commit()
            writer.wait_merging_threads()
        self.index.reload()

    def clear(self) -> None:
        """Remove every chunk."""
        with self._write_lock:
            writer = self._writer()
            writer.delete_all_documents()
            writer.commit()
            writer.wait_merging_threads()
        self.index.reload()

    def count(self) -> int:
        """Chunks in the index, as of the last commit of any process (searches see other processes' commits within
        tantivy's file-watch delay, about half a second)."""
        self.index.reload()
        return self.index.searcher().num_docs

    def stored(self, ids: list[str]) -> dict[str, LexicalHit]:
        """The chunks of these ids the index holds, with their stored metadata (score 0); one term-set query."""
        if not ids:
            return {}
        searcher = self.index.searcher()
        found = searcher.search(tantivy.Query.term_set_query(self.schema, ID, list(ids)), len(ids), count=False)
        hits = {}
        for _, address in found.hits:
            hit = _hit(searcher.doc(address), 0.0)
            hits[hit.id] = hit
        return hits

    @cached_property
    def _searches(self) -> ThreadPoolExecutor:
        """The threads `submit` searches on (one per usable core), shared by every caller of this index."""
        return ThreadPoolExecutor(max_workers=usable_cores(), thread_name_prefix="edurag-bm25")

    def submit(self, texts: Sequence[str], k: int, where: dict[str, Any] | None = None) -> list[Future[list[LexicalHit]]]:
        """`search` of each text on this index's threads, one future per text, in order: a caller submits before it
        encodes its query and searches Chroma, so BM25, the part of /align that grows most with the collection (at 1M
        chunks of Zipf text ~20 ms a passage, 15x its time at 1,000), can run beside them and a long text's passages
        side by side, as far as tantivy-py releases the GIL while it scores (on a busy 2-core machine no gain could be
        measured apart; the session-10 scale run measured both BM25 changes together)."""
        return [self._searches.submit(self.search, text, k, where) for text in texts]

    def search(self, text: str, k: int, where: dict[str, Any] | None = None) -> list[LexicalHit]:
        """The k chunks with the highest BM25 score for the text, best first, among those matching `where`.

        `where` maps metadata keys to a required value (a list value: the chunk's list must contain its first element;
        a tuple: any of its values), like `vectorstore.chroma.where_all`; chunks sharing no analysed word with the text
        are never returned. Words in more than COMMON_TERM_SHARE of the chunks are left out of the query unless all its
        words are.
        """
        counts = Counter(tokenize([text])[0])
        if not counts:
            return []
        searcher = self.index.searcher()
        rare = {token: n for token, n in counts.items()
                if searcher.doc_freq(TEXT, token) <= COMMON_TERM_SHARE * searcher.num_docs}
        terms = [(tantivy.Occur.Should, tantivy.Query.boost_query(
            tantivy.Query.term_query(self.schema, TEXT, token, index_option="freq"), float(n)))
            for token, n in (rare or counts).items()]
        query = tantivy.Query.boolean_query(terms)
        filters = [[f"{key}={v}" for v in value] if isinstance(value, tuple)
                   else [f"{key}={value[0] if isinstance(value, list) else value}"]
                   for key, value in (where or {}).items() if value is not None]
        if filters:
            query = tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, query)]
                + [(tantivy.Occur.Must, tantivy.Query.const_score_query(tantivy.Query.boolean_query(
                    [(tantivy.Occur.Should, tantivy.Query.term_query(self.schema, FILTER, term, index_option="basic"))
                     for term in terms]), 0.0)) for terms in filters])
        hits = []
        for score, address in searcher.search(query, k, count=False).hits:
            hits.append(_hit(searcher.doc(address), float(score)))
        return hits


@dataclass
class LexicalStore:
    """The lexical indexes of a data dir, opened once per process and shared by its threads."""

    root: Path
    _indexes: dict[str, LexicalIndex] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, collection: str) -> LexicalIndex:
        """The collection's index, created empty when it does not exist yet."""
        with self._lock:
            if collection not in self._indexes:
                self._indexes[collection] = LexicalIndex(self.root / collection)
            return self._indexes[collection]

    def drop(self, collection: str) -> None:
        """Delete a collection's index (its collection was dropped)."""
        with self._lock:
            self._indexes.pop(collection, None)
        shutil.rmtree(self.root / collection, ignore_errors=True)
        logger.info("dropped lexical index %s", collection)


_stores: dict[Path, LexicalStore] = {}
_stores_lock = threading.Lock()


def lexical_store(settings: Settings) -> LexicalStore:
    """The process-wide LexicalStore of the settings' data dir (`$EDURAG_DATA_DIR/lexical`)."""
    root = settings.lexical_dir.resolve()
    with _stores_lock:
        if root not in _stores:
            _stores[root] = LexicalStore(root)
        return _stores[root]
