"""Scale: /align (without and with a `framework=` filter) and /transcripts/search p50/p95 as the collections grow
(1k -> 100k -> 1M chunks), embedded and against a Chroma server, every size timed in one run; and ingest throughput
with a kill -9 and a resume.

A data dir of size N holds N synthetic chunks in each collection on top of the bundled standards: in the standards
collection they are the standards of one imported framework (`bench-synthetic`, registered like any imported
framework, so the catalog loads it, `framework=bench-synthetic` filters to it and /align returns its codes); in the
transcripts collection they are chunks of 50 courses' lectures. Texts are 30 words drawn Zipf-wise from the bundled
standards' own vocabulary (BM25 posting lists as dense as a curriculum corpus makes them, a pessimistic case);
vectors are the product embedder's (`--vectors model`, default) or random unit vectors (`--vectors random`, faster
to fill, a harder case for HNSW). Fills are kept and resumable, so filling (slow, not timing-sensitive) and timing
(quiet machine) are separate steps:

    nice -n 10 python -m bench.scale fill --data-dir /work/scale/1k --size 1000
    nice -n 10 python -m bench.scale fill --data-dir /work/scale/100k --size 100000
    python -m bench.scale compare --dirs /work/scale/1k,/work/scale/100k --modes embedded,server --requests 100 --rounds 3
    python -m bench.scale compare --dirs ... --routes /align,/transcripts/search    # a subset of the routes
    python -m bench.scale --data-dir /work/scale --sizes 1000,100000     # fill what is missing, then compare
    nice -n 10 python -m bench.scale ingest --data-dir /work/scale/ingest --chunks 100000 --kill-after 120
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
from typing import Any, Iterator

import httpx
import numpy as np

from bench.common import free_port, markdown_table, percentiles, timer
from bench.query import queries
from edurag.framework_store import Framework, FrameworkStore
from edurag.settings import Settings, setup_logging
from edurag.standards import Standard

logger = logging.getLogger("bench.scale")
SYNTHETIC_FRAMEWORK = "bench-synthetic"
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


def synthetic_texts(collection_index: int, start: int, size: int, words: list[str], p: np.ndarray) -> list[str]:
    """Texts of synthetic chunks start..start+size of one collection: the same indices always get the same texts."""
    rng = np.random.default_rng([collection_index, start])
    return [" ".join(words[j] for j in row) for row in rng.choice(len(words), size=(size, WORDS), p=p)]


def synthetic_standard(i: int, text: str) -> Standard:
    """Standard i of the synthetic framework (grades cycle 1..12)."""
    return Standard(code=f"SYN.{i}", official_code="", framework=SYNTHETIC_FRAMEWORK, subject="math", level="Standard",
                    grades=[str(1 + i % 12)], text=text)


def register_framework(settings: Settings, n: int, words: list[str], p: np.ndarray) -> None:
    """Store the synthetic framework's n standards as an imported framework (the catalog reads them from the store, as
    it reads any imported framework), so `framework=` names it and /align returns its codes."""
    def standards() -> Iterator[Standard]:
        for start in range(0, n, BATCH):
            texts = synthetic_texts(0, start, min(BATCH, n - start), words, p)
            yield from (synthetic_standard(start + i, t) for i, t in enumerate(texts))

    record = Framework(id=SYNTHETIC_FRAMEWORK, title="Synthetic framework of bench.scale", jurisdiction="bench",
                       subject="math", format="csp", source="bench/scale.py")
    FrameworkStore(settings.framework_store).write(record, standards(), [])


def fill(data_dir: Path, size: int, vectors: str, backend: str) -> list[list[object]]:
    """Fill both collections of a data dir to `size` chunks each: the bundled standards (ingested with the product
    embedder) plus synthetic standards of one imported framework, and synthetic transcript chunks; each chunk written
    to Chroma and the BM25 index as ingestion writes them. Resumable (re-run after a stop: it continues at the last
    full batch). vectors="model" embeds each text with the configured embedder; "random" uses random unit vectors
    (a harder case for HNSW than real, clustered embeddings). Returns rows of the fill table."""
    from langchain_core.documents import Document

    from edurag.chunk_ids import (COURSE_KEY, POSITION_KEY, SOURCE_FILE_KEY, SOURCE_KEY, TITLE_KEY, chunk_id,
                                  transcript_source_id)
    from edurag.components import build_components
    from edurag.settings import STANDARDS_COLLECTION, TRANSCRIPTS_COLLECTION
    from ingestion.service import ingest_standards
    from ingestion.standards_docs import standard_metadata
    from vectorstore.aliases import current_target
    from vectorstore.chroma import get_collection
    from vectorstore.lexical import lexical_store

    settings = Settings(data_dir=data_dir, generator="extractive", embedding_backend=backend)
    c = build_components(settings)
    words, p = vocabulary()
    rows: list[list[object]] = []
    bundled = sum(len(c.catalog.indexable(f)) for f in c.catalog.frameworks() if f != SYNTHETIC_FRAMEWORK)
    if SYNTHETIC_FRAMEWORK not in c.catalog.frameworks():
        started = time.perf_counter()
        report = ingest_standards(c, progress=True)
        rows.append(["standards (bundled, embedded)", bundled, report.added, time.perf_counter() - started])
    if size > c.catalog.size(SYNTHETIC_FRAMEWORK):
        register_framework(settings, size, words, p)
    names = (STANDARDS_COLLECTION, TRANSCRIPTS_COLLECTION)
    collections = [get_collection(c.client, current_target(c.client, name).name) for name in names]
    lexicals = [lexical_store(settings).get(collection.name) for collection in collections]
    have = [collections[0].count() - bundled, collections[1].count()]
    firsts = [n - n % BATCH for n in have]
    started = time.perf_counter()
    # Both collections grow batch by batch together, so a fill stopped at any point leaves two equal collections
    # that can be timed at that size.
    for start in range(min(firsts), size, BATCH):
        for index, (name, collection, lexical) in enumerate(zip(names, collections, lexicals)):
            if start < firsts[index]:
                continue
            texts = synthetic_texts(index, start, min(BATCH, size - start), words, p)
            if name == STANDARDS_COLLECTION:
                metas = [standard_metadata(synthetic_standard(start + i, t)) for i, t in enumerate(texts)]
            else:
                sources = [f"course-{(start + i) % 50}/lecture-{(start + i) // 20}.txt" for i in range(len(texts))]
                metas = [{SOURCE_KEY: transcript_source_id(src), SOURCE_FILE_KEY: src, COURSE_KEY: src.split("/")[0],
                          TITLE_KEY: src, POSITION_KEY: (start + i) % 20} for i, src in enumerate(sources)]
            ids = [chunk_id(Document(page_content=t, metadata=m)) for t, m in zip(texts, metas)]
            if vectors == "model":
                embeddings = c.embedder.encode(texts)
            else:
                embeddings = np.random.default_rng([index, start, 1]).standard_normal((len(texts), c.embedder.dim))
                embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
            collection.upsert(ids=ids, embeddings=np.asarray(embeddings, dtype=np.float32), documents=texts, metadatas=metas)
            lexical.upsert(ids, texts, metas)
        if (start // BATCH) % 10 == 0:
            done = 2 * (start + BATCH) - sum(firsts)
            logger.info("%d / %d synthetic chunks in each collection (%.0f chunks/s)", start + BATCH, size,
                        done / (time.perf_counter() - started))
    seconds = time.perf_counter() - started
    for name, collection, first in zip(names, collections, firsts):
        rows.append([f"{name} (synthetic)", size, size - first, seconds])
        logger.info("%s holds %d chunks", collection.name, collection.count())
    return rows


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


def routes(texts: list[str], only: list[str] | None = None) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """What is timed: label -> (path, one body per query text); `only` keeps those labels."""
    every = {
        "/align": ("/align", [{"text": t, "k": 5} for t in texts]),
        f"/align framework={SYNTHETIC_FRAMEWORK}": ("/align", [{"text": t, "k": 5, "framework": SYNTHETIC_FRAMEWORK}
                                                             for t in texts]),
        "/align framework=ccss": ("/align", [{"text": t, "k": 5, "framework": "ccss"} for t in texts]),
        "/transcripts/search": ("/transcripts/search", [{"text": " ".join(t.split()[:12]), "k": 5} for t in texts]),
    }
    unknown = set(only or []) - set(every)
    if unknown:
        raise ValueError(f"unknown routes {sorted(unknown)}; known: {list(every)}")
    return {label: route for label, route in every.items() if not only or label in only}


def measure(env: dict[str, str], texts: list[str], only: list[str] | None = None) -> dict[str, Any]:
    """Time every route of `routes` over HTTP against `edurag serve` (requests interleaved, so load from other
    processes falls on all alike); count 5xx and other non-200 answers per route."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "edurag.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    timed = routes(texts, only)
    out: dict[str, Any] = {label: {"seconds": [], "5xx": 0, "non-200": 0} for label in timed}
    try:
        wait_for(f"http://127.0.0.1:{port}/health", proc)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
            out["collections"] = client.get("/health").json()["collections"]
            for i in range(min(3, len(texts))):  # warm-up
                for path, bodies in timed.values():
                    client.post(path, json=bodies[i])
            for i in range(len(texts)):
                for label, (path, bodies) in timed.items():
                    with timer(out[label]["seconds"]):
                        response = client.post(path, json=bodies[i])
                    out[label]["5xx"] += response.status_code >= 500
                    out[label]["non-200"] += response.status_code != 200
    finally:
        stop(proc)
    return out


def collection_of(label: str) -> str:
    """The collection a timed route searches."""
    return "transcripts" if "transcripts" in label else "standards"


def timed_rows(results: dict[Path, dict[str, list[dict[str, Any]]]], dirs: list[Path], mode: str, requests: int,
               only: list[str] | None = None) -> list[list[object]]:
    """Table rows of one mode: per data dir and route, p50/p95 of every round's requests pooled, and the p95 ratio to
    the smallest dir taken within each round (same mode and route) with its median over rounds."""
    rows = []
    for data_dir in dirs:
        rounds = results[data_dir][mode]
        for label in routes([], only):
            ratios = [percentiles(run[label]["seconds"])["p95"] / percentiles(base[label]["seconds"])["p95"]
                      for run, base in zip(rounds, results[dirs[0]][mode])]
            pct = percentiles([t for run in rounds for t in run[label]["seconds"]])
            rows.append([label, mode, f"{rounds[0]['collections'][collection_of(label)]:,}", requests * len(rounds),
                         pct["p50"], pct["p95"], float(np.median(ratios)), " / ".join(f"{r:.2f}" for r in ratios),
                         sum(run[label]["5xx"] for run in rounds), sum(run[label]["non-200"] for run in rounds)])
    return rows


def disk_rows(data_dir: Path) -> list[object]:
    """BM25 and Chroma bytes on disk."""
    lexical = sum(f.stat().st_size for f in (data_dir / "lexical").rglob("*") if f.is_file())
    chroma = sum(f.stat().st_size for f in (data_dir / "chroma").rglob("*") if f.is_file())
    return [f"disk of {data_dir.name}", "", "", "", "", "", "", "", f"BM25 {lexical / 1e6:.1f} MB", f"Chroma {chroma / 1e6:.1f} MB"]


def warm_page_cache(data_dir: Path) -> None:
    """Read the data dir's Chroma and BM25 files once, so every mode is timed on a warm page cache (a served index is
    warm in steady state; without this the first mode timed on a large dir paid the disk reads the next one did not)."""
    for path in [*(data_dir / "chroma").rglob("*"), *(data_dir / "lexical").rglob("*")]:
        if path.is_file():
            with path.open("rb") as handle:
                while handle.read(1 << 24):
                    pass


def time_dir(data_dir: Path, modes: list[str], texts: list[str], backend: str, only: list[str] | None = None,
             ) -> dict[str, dict[str, Any]]:
    """One `measure` result per mode for one filled data dir (embedded Chroma, or `chroma run` on the same files),
    page cache warm."""
    warm_page_cache(data_dir)
    env = {**os.environ, "EDURAG_DATA_DIR": str(data_dir), "EDURAG_GENERATOR": "extractive", "EDURAG_API_KEYS": "",
           "EDURAG_EMBEDDING_BACKEND": backend, "PYTHONPATH": str(REPO)}
    results: dict[str, dict[str, Any]] = {}
    for mode in modes:
        run_env, server = dict(env), None
        if mode == "server":
            server_port = free_port()
            server = chroma_server(data_dir / "chroma", server_port)
            run_env["EDURAG_CHROMA_URL"] = f"http://127.0.0.1:{server_port}"
        try:
            results[mode] = measure(run_env, texts, only)
        finally:
            if server:
                stop(server)
        logger.info("%s %s done", data_dir, mode)
    return results


HEADER = ["route", "chroma", "chunks in the collection searched", "requests", "p50 ms", "p95 ms",
          "p95 / p95 at smallest (median of rounds)", "p95 ratio per round", "5xx", "non-200"]


def run_queries(root: Path, sizes: list[int], modes: list[str], requests: int, backend: str, vectors: str,
                rounds: int = 3) -> str:
    """Fill one data dir per size under `root` (kept and resumed: a re-run only times), then time them all in one run."""
    fills: list[list[object]] = []
    dirs = []
    for size in sizes:
        data_dir = root / f"{size}"
        fills += [[data_dir.name, *row] for row in fill(data_dir, size, vectors, backend)]
        dirs.append(data_dir)
    fill_table = markdown_table(["data dir", "collection", "chunks", "added now", "seconds"], fills)
    return f"{run_compare(dirs, modes, requests, backend, rounds=rounds)}\n\nFilling:\n\n{fill_table}"


def run_compare(dirs: list[Path], modes: list[str], requests: int, backend: str, only: list[str] | None = None,
                rounds: int = 3) -> str:
    """Time the same requests against data dirs already filled (smallest first), `rounds` times in one run; sizes are
    what /health reports. `only`: the route labels to time (default all).

    Every other round times the dirs in reverse order, and each p95 ratio is taken within one round, so a change in
    the machine's load over the run falls on every size alike: two single-round runs of the same code differed by up
    to 0.54 in a p95 ratio (bench/scale_results.md, 2026-11-30)."""
    texts = queries(requests)
    results: dict[Path, dict[str, list[dict[str, Any]]]] = {data_dir: {mode: [] for mode in modes} for data_dir in dirs}
    for n in range(rounds):
        for data_dir in dirs if n % 2 == 0 else dirs[::-1]:
            for mode, result in time_dir(data_dir, modes, texts, backend, only).items():
                results[data_dir][mode].append(result)
    rows = [row for mode in modes for row in timed_rows(results, dirs, mode, len(texts), only)]
    return markdown_table(HEADER, rows + [disk_rows(data_dir) for data_dir in dirs])


def _ingest_child(data_dir: Path, chunks: int) -> None:
    """One ingest run (the real sync path: LangChain indexing API, record manager, Chroma, BM25) of `chunks` chunks
    from 200-chunk sources, with an embedder that returns precomputed vectors (embedding is not what is measured)."""
    from langchain_core.documents import Document

    from edurag.chunk_ids import POSITION_KEY, SOURCE_KEY
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
    docs = [Document(page_content=" ".join(words[j] for j in row), metadata={SOURCE_KEY: f"src-{i // 200}", POSITION_KEY: i % 200})
            for i, row in enumerate(picks)]
    settings = Settings(data_dir=data_dir)
    client = open_client(settings)
    print(json.dumps({"syncing": len(docs)}), flush=True)
    started = time.perf_counter()
    report = sync(docs, "bench_ingest", client=client, embedder=PrecomputedEmbedder(), settings=settings,
                  cleanup="full", total=len(docs))
    print(json.dumps({"seconds": time.perf_counter() - started, **report.as_dict()}), flush=True)


def run_ingest(data_dir: Path, chunks: int, kill_after: float) -> str:
    """Ingest `chunks` chunks, kill -9 the process `kill_after` s after its sync began, resume, then a third run; count
    what is stored after each."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "EDURAG_DATA_DIR": str(data_dir)}
    cmd = [sys.executable, "-m", "bench.scale", "ingest-child", "--data-dir", str(data_dir), "--chunks", str(chunks)]
    rows = []

    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    proc.stdout.readline()  # start-up done, the sync begins: the kill lands `kill_after` s into the writes
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
    from ingestion.indexer import record_manager
    from vectorstore.chroma import get_collection, iter_pages, open_client
    from vectorstore.lexical import LexicalIndex

    settings = Settings(data_dir=data_dir)
    collection = get_collection(open_client(settings), "bench_ingest")
    ids = [i for got in iter_pages(collection, []) for i in got["ids"]]
    records = len(record_manager(settings, "bench_ingest").list_keys())
    return len(ids), len(ids) - len(set(ids)), records, LexicalIndex(settings.lexical_dir / "bench_ingest").count()


if __name__ == "__main__":
    setup_logging()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", default="queries", choices=["queries", "fill", "compare", "ingest", "ingest-child"])
    parser.add_argument("--dirs", default="", help="compare: comma-separated data dirs already filled, smallest first")
    parser.add_argument("--sizes", default="1000,100000", help="queries: chunks per collection, ascending (1000,100000,1000000)")
    parser.add_argument("--size", type=int, default=100_000, help="fill: chunks per collection")
    parser.add_argument("--vectors", choices=["model", "random"], default="model",
                        help="fill: embed synthetic texts with the product embedder, or random unit vectors")
    parser.add_argument("--modes", default="embedded,server")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3, help="queries/compare: times every dir is timed, the order "
                        "reversed every other round; ratios are medians over rounds")
    parser.add_argument("--routes", default="", help="compare: comma-separated route labels to time (default all: "
                        + ", ".join(routes([])) + ")")
    parser.add_argument("--backend", default="onnx-int8")
    parser.add_argument("--chunks", type=int, default=100_000, help="ingest: chunks to ingest")
    parser.add_argument("--kill-after", type=float, default=60.0, help="ingest: seconds before the kill -9")
    parser.add_argument("--data-dir", type=Path, help="queries: root of one data dir per size; fill/ingest: the data dir "
                        "(kept: fills are reused)")
    args = parser.parse_args()
    if args.what == "compare":
        if not args.dirs:
            parser.error("compare needs --dirs")
        print(run_compare([Path(d) for d in args.dirs.split(",")], args.modes.split(","), args.requests, args.backend,
                          [r for r in args.routes.split(",") if r] or None, args.rounds))
        sys.exit()
    if args.data_dir is None:
        parser.error(f"{args.what} needs --data-dir")
    args.data_dir.mkdir(parents=True, exist_ok=True)
    if args.what == "queries":
        print(run_queries(args.data_dir, [int(s) for s in args.sizes.split(",")], args.modes.split(","), args.requests,
                          args.backend, args.vectors, args.rounds))
    elif args.what == "fill":
        print(markdown_table(["collection", "chunks", "added now", "seconds"], fill(args.data_dir, args.size, args.vectors, args.backend)))
    elif args.what == "ingest":
        print(run_ingest(args.data_dir, args.chunks, args.kill_after))
    else:
        _ingest_child(args.data_dir, args.chunks)
