"""/align latency over HTTP (uvicorn) with synthetic chunks beside the standards, and where the time goes."""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from bench.common import markdown_table, percentiles, timer

logger = logging.getLogger("bench.query")
CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "alignment" / "allenai_generated_problems_teacher_annotations.csv"


def add_synthetic(settings: object, chunks: int, dim: int, batch: int = 5000) -> None:
    """Add random unit vectors to the live standards collection (their codes are not in the catalog, so never returned)."""
    from edurag.settings import STANDARDS_COLLECTION
    from vectorstore.aliases import current_target
    from vectorstore.chroma import get_collection, open_client

    client = open_client(settings)
    collection = get_collection(client, current_target(client, STANDARDS_COLLECTION).name)
    rng = np.random.default_rng(0)
    for start in range(0, chunks, batch):
        size = min(batch, chunks - start)
        vectors = rng.standard_normal((size, dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        collection.add(ids=[f"synthetic-{start + i}" for i in range(size)], embeddings=vectors.tolist(),
                       documents=["synthetic chunk"] * size,
                       metadatas=[{"code": f"SYN-{start + i}", "framework": "synthetic", "subject": "none"} for i in range(size)])
    logger.info("collection holds %d chunks", collection.count())


def queries(n: int) -> list[str]:
    """Problem texts from the alignment data, cycled to n queries."""
    from edurag.datasets import read_alignment_csv

    texts = [row.text for row in read_alignment_csv(CSV)]
    return [texts[i % len(texts)] for i in range(n)]


def serve(env: dict[str, str], port: int) -> subprocess.Popen:
    """Start `edurag serve` in a subprocess and wait until /health answers."""
    proc = subprocess.Popen([sys.executable, "-m", "edurag.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        time.sleep(0.5)
    proc.terminate()
    raise TimeoutError("the server did not answer /health")


def time_backend(backend: str, c: object, texts: list[str], k: int, env: dict[str, str], port: int) -> dict[str, list[float]]:
    """Time /align over HTTP on one embedder backend, interleaved with its parts measured in-process."""
    from edurag.alignment.search import aligner_model_for, fused_candidates, passage_encoder
    from edurag.components import limit_blas_threads
    from edurag.embedder import load_embedder
    from edurag.markup import plain_text
    from edurag.settings import STANDARDS_COLLECTION
    from vectorstore.aliases import current_target
    from vectorstore.chroma import get_collection

    settings = c.settings.model_copy(update={"embedding_backend": backend})
    limit_blas_threads(settings.blas_threads)  # the in-process parts run as the server does
    embedder = load_embedder(settings)  # exports to the shared ONNX cache before the server starts
    collection = get_collection(c.client, current_target(c.client, STANDARDS_COLLECTION).name)
    times: dict[str, list[float]] = {"total": [], "embed": [], "search": [], "ranker": [], "embed_cpu": [], "pieces": []}
    model = aligner_model_for(settings.aligner_model, embedder.name)
    embedder = passage_encoder(c, embedder)  # /align encodes passages with the aligner's query encoder when it has one
    proc = serve({**env, "EDURAG_EMBEDDING_BACKEND": backend}, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            client.post("/align", json={"text": texts[0], "k": k}).raise_for_status()
            for text in texts:  # interleaved, so load from other processes hits the parts and the whole alike
                with timer(times["total"]):
                    client.post("/align", json={"text": text, "k": k}).raise_for_status()
                cpu = time.process_time()
                with timer(times["embed"]):  # plain text, splitting and encoding, as /align does
                    text = plain_text(text)
                    split = embedder.passages(text, settings.passage_tokens, settings.passage_overlap)
                    vectors = embedder.encode_tokens(split.tokens)
                times["embed_cpu"].append(time.process_time() - cpu)  # all threads of this process
                times["pieces"].append(sum(len(ids) for ids in split.tokens["input_ids"]))
                with timer(times["search"]):  # Chroma's nearest + the BM25 index's best per passage, fused, as /align
                    _, metadatas, dense, lexical = fused_candidates(c, collection, split.texts, vectors, {})
                if model is not None:
                    with timer(times["ranker"]):  # adapter, text prior, features, score and confidence of the candidates
                        rank_candidates(model, vectors, text, metadatas, dense, lexical)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return times


def rank_candidates(model: object, vectors: np.ndarray, text: str, metadatas: list[dict], dense: np.ndarray,
                    lexical: np.ndarray) -> np.ndarray:
    """What the aligner model adds to /align: query adapter, the candidates' table, text priors, features, scores."""
    from edurag.alignment.ranking import StandardTable, standard_features, text_words

    model.adapt(vectors, text_words(text))
    table = StandardTable.of(metadatas)
    features = standard_features(dense, lexical, table, set(), set(), model.prior(vectors, table.subjects),
                                 model.word_prior(text, table.subjects))
    return model.confidence(model.score(features))


def compare_encoder_workers(settings: object, texts: list[str], reps: int = 3) -> str:
    """/align's passages + encoding per text with one batch at a time on ONNX Runtime's intra-op pool
    (EDURAG_ENCODER_WORKERS=1) against a text's batches at once on single-threaded runs (one per usable core, at
    least 2), interleaved on the same texts (order flipped per text), each text's best of `reps`: a ratio in one run."""
    from edurag.embedder import load_embedder
    from edurag.settings import usable_cores

    parallel = load_embedder(settings.model_copy(update={"encoder_workers": max(2, usable_cores())}))
    pooled = load_embedder(settings.model_copy(update={"encoder_workers": 1}))
    wall: dict[str, list[float]] = {"pooled": [], "parallel": []}
    cpu: dict[str, list[float]] = {"pooled": [], "parallel": []}
    for n, text in enumerate(texts):
        best = {name: (float("inf"), float("inf")) for name in wall}
        for rep in range(reps):
            for name in (("pooled", "parallel") if (n + rep) % 2 == 0 else ("parallel", "pooled")):
                embedder = pooled if name == "pooled" else parallel
                started, cpu_started = time.perf_counter(), time.process_time()
                embedder.encode_tokens(embedder.passages(text, settings.passage_tokens, settings.passage_overlap).tokens)
                best[name] = min(best[name], (time.perf_counter() - started, time.process_time() - cpu_started))
        for name, (seconds, cpu_seconds) in best.items():
            wall[name].append(seconds)
            cpu[name].append(cpu_seconds)
    rows = [[f"encoder_workers 1 (ONNX Runtime pool, {pooled.session.get_session_options().intra_op_num_threads or 'default'} threads)",
             *percentiles(wall["pooled"]).values(), 1000 * float(np.mean(cpu["pooled"]))],
            [f"encoder_workers {parallel.workers} (single-threaded runs side by side)", *percentiles(wall["parallel"]).values(),
             1000 * float(np.mean(cpu["parallel"]))]]
    ratio = {q: percentiles(wall["parallel"])[q] / percentiles(wall["pooled"])[q] for q in ("p50", "p95", "p99")}
    rows.append([f"workers {parallel.workers} / workers 1", *ratio.values(), float(np.mean(cpu["parallel"]) / np.mean(cpu["pooled"]))])
    return markdown_table(["passages + encoding per text (in-process, interleaved)", "p50 ms", "p95 ms", "p99 ms",
                           "CPU ms mean (ratio in the last row)"], rows)


def main(chunks: int, requests: int, k: int, data_dir: Path, chroma_url: str | None, port: int, backends: list[str],
         compare_workers: bool = False) -> str:
    """Ingest standards, add synthetic chunks, time /align over HTTP and its parts in-process, per embedder backend."""
    from edurag.components import build_components
    from edurag.settings import Settings
    from ingestion.service import ingest_standards

    env = {**os.environ, "EDURAG_DATA_DIR": str(data_dir), "EDURAG_GENERATOR": "extractive", "EDURAG_API_KEYS": ""}
    if chroma_url:
        env["EDURAG_CHROMA_URL"] = chroma_url
    settings = Settings(data_dir=data_dir, generator="extractive", chroma_url=chroma_url, embedding_backend="torch")
    c = build_components(settings)
    ingest_standards(c)
    add_synthetic(settings, chunks, c.embedder.dim)
    texts = queries(requests)

    mode = f"server {chroma_url}" if chroma_url else "embedded"
    rows, share_rows, speed_rows, means = [], [], [], {}
    for backend in backends:
        times = time_backend(backend, c, texts, k, env, port)
        p_total, p_embed, p_search = (percentiles(times[part]) for part in ("total", "embed", "search"))
        p_ranker = percentiles(times["ranker"]) if times["ranker"] else {"p50": 0.0, "p95": 0.0, "p99": 0.0}
        mean_total = float(np.mean(times["total"]))
        means[backend] = mean_total * 1000
        rows += [[f"/align over HTTP ({mode}), {backend}", f"{chunks + 1175:,}", requests, p_total["p50"], p_total["p95"], p_total["p99"]],
                 [f"  passages + embedding (in-process), {backend}", "", requests, p_embed["p50"], p_embed["p95"], p_embed["p99"]],
                 [f"  dense + BM25 candidates, all passages (in-process), {backend}", "", requests, p_search["p50"], p_search["p95"], p_search["p99"]],
                 [f"  aligner ranker: adapter, prior, features, score (in-process), {backend}", "", requests, p_ranker["p50"],
                  p_ranker["p95"], p_ranker["p99"]]]
        embed_share = float(np.mean(times["embed"])) / mean_total
        search_share = float(np.mean(times["search"])) / mean_total
        ranker_share = float(np.mean(times["ranker"])) / mean_total if times["ranker"] else 0.0
        share_rows.append([backend, embed_share, search_share, ranker_share, max(0.0, 1 - embed_share - search_share - ranker_share)])
        pieces = np.asarray(times["pieces"])
        speed_rows.append([backend, int(np.percentile(pieces, 50)), int(np.percentile(pieces, 95)),
                           100_000 * float(np.sum(times["embed"])) / pieces.sum(), 100_000 * float(np.sum(times["embed_cpu"])) / pieces.sum()])
    table = markdown_table(["measured", "chunks", "requests", "p50 ms", "p95 ms", "p99 ms"], rows)
    share_table = markdown_table(["backend", "embedding", "dense + BM25 search", "aligner ranker", "rest (HTTP, answer)"], share_rows)
    # The encoder's cost per word piece tells a slower machine from slower code: compare it across runs before the p95s.
    speed_table = markdown_table(["backend", "word pieces per text p50", "p95", "passages + embedding wall ms per 100 word pieces",
                                  "CPU ms (all threads) per 100 word pieces"], speed_rows)
    workers = "".join(f"\n\nParallel passage encoding, {backend}:\n\n"
                      f"{compare_encoder_workers(c.settings.model_copy(update={'embedding_backend': backend}), texts)}"
                      for backend in backends if compare_workers and backend != "torch")
    return (f"{table}\n\nShare of mean /align time:\n\n{share_table}\n\nEncoder speed on this machine:\n\n{speed_table}"
            f"{workers}\n\n{json.dumps({'mean_ms': means})}")


if __name__ == "__main__":
    from edurag.settings import setup_logging

    setup_logging()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=10_000, help="synthetic chunks added (100000, 1000000 for the big runs)")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--chroma-url", default=None, help="http://host:port of a Chroma server; default embedded")
    parser.add_argument("--data-dir", type=Path, default=None, help="scratch data dir (default: a temp dir)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--backends", default="torch", help="comma-separated embedder backends: torch, onnx, onnx-int8")
    parser.add_argument("--compare-workers", action="store_true",
                        help="also time encoding with EDURAG_ENCODER_WORKERS=1 against parallel passages, interleaved (ONNX backends)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="edurag-bench-") as scratch:
        print(main(args.chunks, args.requests, args.k, args.data_dir or Path(scratch), args.chroma_url, args.port,
                   [b.strip() for b in args.backends.split(",") if b.strip()], args.compare_workers))
