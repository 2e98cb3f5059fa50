"""Scale: /align and /transcripts/search p50/p95 as the collections grow (1k -> 100k -> 1M chunks), embedded and
against a Chroma server, all sizes in one run; and ingest throughput with a kill -9 and a resume.

Synthetic chunks fill the store (random unit vectors; texts of 30 words drawn Zipf-wise from the bundled standards'
own vocabulary, so BM25 posting lists are as dense as a curriculum corpus makes them, a pessimistic case). Their
codes are not in the catalog, so /align never returns them, but every query searches them. Sizes are the chunk count
of each collection (the bundled standards count toward the standards collection).

    nice -n 10 python -m bench.scale --sizes 1000,100000 --modes embedded,server --requests 100
    nice -n 10 python -m bench.scale compare --dirs SMALL,BIG     # dirs filled earlier (a stopped fill), one run
    nice -n 10 python -m bench.scale ingest --chunks 100000
"""

from __future__ import annotations

import argparse
import glob
import json
import logging
import os
import signal
import subprocess
import sys
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.common import markdown_table, percentiles, timer
from bench.query import queries

logger = logging.getLogger("bench.scale")
BATCH = 2000
WORDS = 30
REPO = Path(__file__).resolve().parents[1]


def vocabulary() -> tuple[list[str], np.ndarray]:
    """Words of the bundled standards by frequency, with Zipf sampling probabilities."""
    from vectorstore.lexical import tokenize

    texts = [json.loads(line).get("text", "") for path in glob.glob(str(REPO / "edurag/data/standards/*.jsonl"))
             for line in open(path, encoding="utf-8")]
    words = [w for w, _ in Counter(t for ts in tokenize(texts) for t in ts).most_common()]
    weights = 1.0 / np.arange(1, len(words) + 1)
    return words, weights / weights.sum()


def fill(data_dir: Path, collection_name: str, target: int, dim: int, seed: int) -> int:
    """Add synthetic chunks (Chroma and the BM25 index, as ingestion writes them) until the collection holds `target`."""
    from edurag.settings import Settings
    from vectorstore.aliases import current_target
    from vectorstore.chroma import get_collection, open_client
    from vectorstore.lexical import lexical_store

    settings = Settings(data_dir=data_dir)
    client = open_client(settings)
    name = current_target(client, collection_name).name
    collection = get_collection(client, name)
    lexical = lexical_store(settings).get(name)
    have = collection.count()
    words, p = vocabulary()
    rng = np.random.default_rng(seed + have)
    started = time.perf_counter()
    for start in range(have, target, BATCH):
        size = min(BATCH, target - start)
        vectors = rng.standard_normal((size, dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        picks = rng.choice(len(words), size=(size, WORDS), p=p)
        texts = [" ".join(words[j] for j in row) for row in picks]
        ids = [f"synthetic-{collection_name}-{start + i}" for i in range(size)]
        metas = [{"code": f"SYN-{start + i}", "framework": "synthetic", "subject": "none", "grades": [str(1 + (start + i) % 12)],
                  "course": f"course-{(start + i) % 50}", "title": "synthetic", "source_file": f"syn/{(start + i) // 20}.txt",
                  "chunk_index": (start + i) % 20} for i in range(size)]
        collection.add(ids=ids, embeddings=vectors, documents=texts, metadatas=metas)
        lexical.upsert(ids, texts, metas)
        if (start - have) % (BATCH * 25) == 0:
            rate = (start - have + size) / (time.perf_counter() - started)
            logger.info("%s: %d / %d chunks (%.0f chunks/s)", name, start + size, target, rate)
    return collection.count()


def chroma_server(path: Path, port: int) -> subprocess.Popen:
    """`chroma run` on the data dir's Chroma files."""
    proc = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc)
    return proc


def wait_for(url: str, proc: subprocess.Popen, seconds: float = 600) -> None:
    """Poll until the URL answers 200 or the process exits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited during start-up")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(url)


def stop(proc: subprocess.Popen) -> None:
    """Terminate a child and wait for it."""
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def measure(env: dict[str, str], port: int, texts: list[str]) -> dict[str, list[float] | int]:
    """Time /align and /transcripts/search over HTTP against `edurag serve`; count 5xx."""
    proc = subprocess.Popen([sys.executable, "-m", "edurag.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out: dict[str, Any] = {"align": [], "search": [], "5xx": 0, "errors": 0}
    try:
        wait_for(f"http://127.0.0.1:{port}/health", proc)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            out["collections"] = client.get("/health").json()["collections"]
            for text in texts[:3]:  # warm-up
                client.post("/align", json={"text": text, "k": 5})
                client.post("/transcripts/search", json={"text": " ".join(text.split()[:12]), "k": 5})
            for text in texts:
                for route, body in (("align", {"text": text, "k": 5}),
                                    ("search", {"text": " ".join(text.split()[:12]), "k": 5})):
                    with timer(out[route]):
                        response = client.post("/align" if route == "align" else "/transcripts/search", json=body)
                    out["5xx"] += response.status_code >= 500
                    out["errors"] += response.status_code != 200
    finally:
        stop(proc)
    return out


def run_queries(data_dir: Path, sizes: list[int], modes: list[str], requests: int, backend: str, port: int) -> str:
    """Grow both collections through `sizes`, timing every mode at each size (one run, so ratios compare)."""
    from edurag.settings import STANDARDS_COLLECTION, TRANSCRIPTS_COLLECTION

    base = {**os.environ, "EDURAG_DATA_DIR": str(data_dir), "EDURAG_GENERATOR": "extractive", "EDURAG_API_KEYS": "",
            "EDURAG_EMBEDDING_BACKEND": backend, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-m", "edurag.cli", "ingest", "standards"], env=base, check=True,
                   stdout=subprocess.DEVNULL)
    texts = queries(requests)
    rows: list[list[object]] = []
    p95: dict[tuple[str, str], dict[int, float]] = {}
    fill_rows = []
    for size in sizes:
        for collection in (STANDARDS_COLLECTION, TRANSCRIPTS_COLLECTION):
            started = time.perf_counter()
            before = fill_count = fill(data_dir, collection, size, 384, seed=size)
            fill_rows.append([collection, f"{size:,}", fill_count, time.perf_counter() - started])
            logger.info("%s holds %d chunks", collection, before)
        disk = sum(f.stat().st_size for f in (data_dir / "lexical").rglob("*") if f.is_file())
        chroma_disk = sum(f.stat().st_size for f in (data_dir / "chroma").rglob("*") if f.is_file())
        for mode in modes:
            env = dict(base)
            server = None
            if mode == "server":
                server = chroma_server(data_dir / "chroma", port + 1)
                env["EDURAG_CHROMA_URL"] = f"http://127.0.0.1:{port + 1}"
            try:
                result = measure(env, port, texts)
            finally:
                if server:
                    stop(server)
            for route in ("align", "search"):
                pct = percentiles(result[route])
                p95.setdefault((mode, route), {})[size] = pct["p95"]
                first = p95[(mode, route)][sizes[0]]
                rows.append([f"/{'align' if route == 'align' else 'transcripts/search'}", mode, f"{size:,}", requests,
                             pct["p50"], pct["p95"], pct["p95"] / first, result["5xx"], result["errors"]])
            logger.info("size %d mode %s done: %s", size, mode, rows[-2:])
        rows.append(["disk", "", f"{size:,}", "", "", "", "", f"BM25 {disk / 1e6:.1f} MB", f"Chroma {chroma_disk / 1e6:.1f} MB"])
    table = markdown_table(["route", "chroma", "chunks per collection", "requests", "p50 ms", "p95 ms",
                            "p95 / p95 at smallest", "5xx", "non-200"], rows)
    fills = markdown_table(["collection", "filled to", "chunks", "fill seconds"], fill_rows)
    return f"{table}\n\nFilling (synthetic chunks written to Chroma and the BM25 index):\n\n{fills}"


def run_compare(dirs: list[Path], modes: list[str], requests: int, backend: str, port: int) -> str:
    """Time the same requests against data dirs already filled (smallest first), each embedded and on a Chroma
    server, in one run; sizes are what /health reports."""
    texts = queries(requests)
    rows: list[list[object]] = []
    first: dict[tuple[str, str], float] = {}
    for data_dir in dirs:
        base = {**os.environ, "EDURAG_DATA_DIR": str(data_dir), "EDURAG_GENERATOR": "extractive", "EDURAG_API_KEYS": "",
                "EDURAG_EMBEDDING_BACKEND": backend, "PYTHONPATH": str(REPO)}
        for mode in modes:
            env, server = dict(base), None
            if mode == "server":
                server = chroma_server(data_dir / "chroma", port + 1)
                env["EDURAG_CHROMA_URL"] = f"http://127.0.0.1:{port + 1}"
            try:
                result = measure(env, port, texts)
            finally:
                if server:
                    stop(server)
            sizes = result["collections"]
            for route, collection in (("align", "standards"), ("search", "transcripts")):
                pct = percentiles(result[route])
                base_p95 = first.setdefault((mode, route), pct["p95"])
                rows.append([f"/{'align' if route == 'align' else 'transcripts/search'}", mode, f"{sizes[collection]:,}",
                             requests, pct["p50"], pct["p95"], pct["p95"] / base_p95, result["5xx"], result["errors"]])
            logger.info("%s %s done: %s", data_dir, mode, rows[-2:])
    return markdown_table(["route", "chroma", "chunks in the collection searched", "requests", "p50 ms", "p95 ms",
                           "p95 / p95 at smallest", "5xx", "non-200"], rows)


def _ingest_child(data_dir: Path, chunks: int) -> None:
    """One ingest run (the real sync path: LangChain indexing API, record manager, Chroma, BM25) of `chunks` chunks
    from 200-chunk sources, with an embedder that returns precomputed vectors (embedding is not what is measured)."""
    from langchain_core.documents import Document

    from edurag.settings import Settings
    from ingestion.indexer import sync
    from vectorstore.chroma import open_client

    class PrecomputedEmbedder:
        """Deterministic unit vectors from each text's hash: the same text always gets the same vector."""

        name, dim, backend = "precomputed", 384, "none"

        def encode(self, texts: list[str]) -> np.ndarray:
            out = np.stack([np.random.default_rng(zlib.crc32(t.encode())).standard_normal(384) for t in texts]).astype(np.float32)
            return out / np.linalg.norm(out, axis=1, keepdims=True)

    words, p = vocabulary()
    rng = np.random.default_rng(7)
    picks = rng.choice(len(words), size=(chunks, WORDS), p=p)
    docs = [Document(page_content=" ".join(words[j] for j in row), metadata={"source": f"src-{i // 200}", "position": i % 200})
            for i, row in enumerate(picks)]
    settings = Settings(data_dir=data_dir)
    started = time.perf_counter()
    report = sync(docs, "bench_ingest", client=open_client(settings), embedder=PrecomputedEmbedder(), settings=settings,
                  cleanup="full", total=len(docs))
    print(json.dumps({"seconds": time.perf_counter() - started, **report.as_dict()}), flush=True)


def run_ingest(data_dir: Path, chunks: int, kill_after: float) -> str:
    """Ingest `chunks` chunks, kill -9 the process after `kill_after` s, resume, then a third run; count what is stored."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "EDURAG_DATA_DIR": str(data_dir)}
    cmd = [sys.executable, "-m", "bench.scale", "ingest-child", "--data-dir", str(data_dir), "--chunks", str(chunks)]
    rows = []

    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    time.sleep(kill_after)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    stored, dup, records, lexical = counts_in_child(data_dir)
    rows.append(["run 1, kill -9", f"{time.perf_counter() - started:.1f}", "", stored, dup, records, lexical])
    for label in ("run 2, resume", "run 3, unchanged"):
        done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=True)
        report = json.loads(done.stdout.strip().splitlines()[-1])
        stored, dup, records, lexical = counts_in_child(data_dir)
        rows.append([label, f"{report['seconds']:.1f}", f"added {report['added']}, skipped {report['skipped']}, "
                     f"deleted {report['deleted']} ({report['added'] / report['seconds']:.0f} added/s)",
                     stored, dup, records, lexical])
    return markdown_table(["run", "seconds", "report", "chunks in Chroma", "duplicate ids", "records", "BM25 docs"], rows) + \
        f"\n\nExpected after the resume: {chunks:,} chunks, 0 duplicates, {chunks:,} records, {chunks:,} BM25 docs."


def counts_in_child(data_dir: Path) -> tuple[int, int, int, int]:
    """Stored chunk ids, duplicates among them, records and BM25 documents, read by a fresh process."""
    code = ("import json,sys; from pathlib import Path; from bench.scale import _counts; "
            f"print(json.dumps(_counts(Path({str(data_dir)!r}))))")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)}, check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return tuple(json.loads(out.strip().splitlines()[-1]))


def _counts(data_dir: Path) -> tuple[int, int, int, int]:
    from edurag.settings import Settings
    from ingestion.indexer import record_manager
    from vectorstore.chroma import get_collection, iter_pages, open_client
    from vectorstore.lexical import LexicalIndex

    settings = Settings(data_dir=data_dir)
    collection = get_collection(open_client(settings), "bench_ingest")
    ids = [i for got in iter_pages(collection, []) for i in got["ids"]]
    records = len(record_manager(settings, "bench_ingest").list_keys())
    return len(ids), len(ids) - len(set(ids)), records, LexicalIndex(settings.lexical_dir / "bench_ingest").count()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", nargs="?", default="queries", choices=["queries", "compare", "ingest", "ingest-child"])
    parser.add_argument("--dirs", default="", help="compare: comma-separated data dirs already filled, smallest first")
    parser.add_argument("--sizes", default="1000,100000", help="chunks per collection, ascending (1000,100000,1000000)")
    parser.add_argument("--modes", default="embedded,server")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--backend", default="onnx-int8")
    parser.add_argument("--chunks", type=int, default=100_000, help="ingest: chunks to ingest")
    parser.add_argument("--kill-after", type=float, default=60.0, help="ingest: seconds before the kill -9")
    parser.add_argument("--data-dir", type=Path, required=True, help="scratch data dir (kept: fills are reused)")
    parser.add_argument("--port", type=int, default=8790)
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    if args.what == "queries":
        print(run_queries(args.data_dir, [int(s) for s in args.sizes.split(",")], args.modes.split(","), args.requests,
                          args.backend, args.port))
    elif args.what == "compare":
        print(run_compare([Path(d) for d in args.dirs.split(",")], args.modes.split(","), args.requests, args.backend,
                          args.port))
    elif args.what == "ingest":
        print(run_ingest(args.data_dir, args.chunks, args.kill_after))
    else:
        _ingest_child(args.data_dir, args.chunks)
