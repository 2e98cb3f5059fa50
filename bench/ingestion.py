"""Ingestion throughput: the `edurag ingest` path vs a naive one-chunk-at-a-time loop vs the raw encoder, same texts."""

from __future__ import annotations

import argparse
import logging
import tempfile
from dataclasses import replace
from pathlib import Path

from bench.common import markdown_table, timer

logger = logging.getLogger("bench.ingestion")


def main(limit: int, data_dir: Path) -> str:
    """Run the three measurements on the first `limit` standard documents and return the table."""
    from edurag.components import build_components
    from edurag.embedder import INT8_BACKEND
    from edurag.settings import STANDARDS_COLLECTION, Settings
    from ingestion.indexer import sync
    from ingestion.standards_docs import standard_documents
    from vectorstore.chroma import get_collection

    settings = Settings(data_dir=data_dir, generator="extractive")
    c = build_components(settings)
    docs = standard_documents(c.catalog)[:limit]
    texts = [d.page_content for d in docs]
    c.embedder.encode(texts[:8])  # warm-up: first call pays for lazy initialisation

    raw: list[float] = []
    with timer(raw):
        c.embedder.encode(texts)

    naive: list[float] = []
    collection = get_collection(c.client, "bench_naive")
    with timer(naive):
        for index, doc in enumerate(docs):
            vector = c.embedder.encode([doc.page_content])[0].tolist()
            collection.add(ids=[f"naive-{index}"], embeddings=[vector], documents=[doc.page_content],
                           metadatas=[doc.metadata])

    ingest: list[float] = []
    with timer(ingest):
        report = sync(docs, f"{STANDARDS_COLLECTION}_bench", client=c.client, embedder=c.embedder, settings=settings,
                      cleanup="full", total=len(docs))
    logger.info("ingest path report: %s", report.as_dict())
    with timer(raw):
        c.embedder.encode(texts)
    raw = [min(raw)]  # measured before and after the others; the faster run is the least disturbed by other load

    n = len(docs)
    rows = [
        ["raw encoder (batched encode only)", n, raw[0], n / raw[0], 1.0, naive[0] / raw[0]],
        ["naive loop (encode 1 + add 1)", n, naive[0], n / naive[0], raw[0] / naive[0], 1.0],
        ["edurag ingest path (sync)", n, ingest[0], n / ingest[0], raw[0] / ingest[0], naive[0] / ingest[0]],
    ]
    if c.embedder.backend == INT8_BACKEND:
        # the int8 session with texts batched together, as before one text per batch (Embedder): its vectors
        # depended on the batch; the backend label is all that selects the batching
        batched: list[float] = []
        with timer(batched):
            replace(c.embedder, backend="onnx").encode(texts)
        rows.append(["int8 session, texts batched together (before)", n, batched[0], n / batched[0], raw[0] / batched[0],
                     naive[0] / batched[0]])
    return markdown_table(["method", "chunks", "seconds", "chunks/s", "share of raw encoder speed", "speed-up vs naive"], rows)


if __name__ == "__main__":
    from edurag.settings import setup_logging

    setup_logging()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=400, help="standard documents to ingest (1,175 = all)")
    parser.add_argument("--data-dir", type=Path, default=None, help="scratch data dir (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="edurag-bench-") as scratch:
        print(main(args.limit, args.data_dir or Path(scratch)))
