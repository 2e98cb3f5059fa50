"""Framework import at scale: a 100k-item Common Standards Project set (synthetic, cloned from the bundled state sets)
imported with `edurag ingest framework`: run 1 is killed with SIGKILL after `--kill-after` s, run 2 resumes (and is
stopped after `--resume-for` s when that is set), run 3 re-imports. Measured: parse+store rate, embedding rate,
what the resume skipped, peak RSS of each run; then /align p50/p95 with and without the framework filter once the
collection holds every item. On a shared 2-core machine embedding 100k items takes hours, so with --resume-for the
chunks not embedded by then get the vector of an embedded chunk (plus noise): their documents, metadata and ids are
the real ones, and a query's cost does not depend on how a stored vector was computed.

    python -m bench.frameworks --items 100000 --kill-after 300 --resume-for 600 --out bench/frameworks_results.md
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import markdown_table, percentiles, timer

logger = logging.getLogger("bench.frameworks")
FRAMEWORK = "synthetic-100k"
QUERIES = [
    "Students find unit rates and compare ratios with tables",
    "Solve two-step linear equations and inequalities in one variable",
    "Add and subtract fractions with unlike denominators using models",
    "Use place value to round whole numbers to the nearest ten or hundred",
    "Calculate the area of triangles and other polygons by decomposing them",
    "Interpret a scatter plot and describe the association between two variables",
    "Count forward from a given number within 100",
    "Solve problems involving simple interest, tax and discounts",
]


def synthesize(items: int, out: Path, sources: Path) -> int:
    """Write one CSP set of `items` items cloned from the bundled sets (codes and ids made unique per copy)."""
    originals = []
    for path in sorted(sources.glob("*/*.json")):
        if path.name == "framework.json":
            continue
        originals += list(json.loads(path.read_text(encoding="utf-8"))["standards"].values())
    written = 0
    with out.open("w", encoding="utf-8") as handle:
        handle.write('{"id": "SYNTHETIC", "title": "Synthetic 100k", "normalizedSubject": "Math", "educationLevels": ["06"], '
                     '"license": {"title": "CC BY 4.0 US", "URL": "https://creativecommons.org/licenses/by/4.0/", '
                     '"rightsHolder": "derived from the bundled state sets"}, "standards": {')
        copy = 0
        while written < items:
            for item in originals:
                if written >= items:
                    break
                clone = dict(item, id=f"{item['id']}-{copy}", parentId=f"{item.get('parentId')}-{copy}",
                             ancestorIds=[f"{a}-{copy}" for a in item.get("ancestorIds") or []])
                if item.get("statementNotation"):
                    clone["statementNotation"] = f"S{copy}.{item['statementNotation']}"
                clone.pop("exactMatch", None)
                handle.write(("," if written else "") + json.dumps(clone["id"]) + ":" + json.dumps(clone))
                written += 1
            copy += 1
        handle.write("}}")
    return written


def chunks(data_dir: Path) -> int:
    """Chunks of the synthetic framework in the live standards collection."""
    from edurag.settings import STANDARDS_COLLECTION, Settings
    from vectorstore.aliases import current_target
    from vectorstore.chroma import get_collection, open_client

    client = open_client(Settings(data_dir=data_dir))
    col = get_collection(client, current_target(client, STANDARDS_COLLECTION).name)
    return len(col.get(where={"framework": FRAMEWORK}, include=[])["ids"])


def resumed_from(log: Path) -> list[str]:
    """The `already indexed` log line of each run (what a resumed run found in place)."""
    return [line.split("INFO ingestion.frameworks: ", 1)[-1] for line in log.read_text().splitlines() if "already indexed" in line]


def parse_rate(log: Path) -> str:
    """Parse + store rate, from the `framework stored` log lines of the runs."""
    lines = [line for line in log.read_text().splitlines() if "framework stored" in line]
    return lines[-1].split("framework stored: ", 1)[-1] if lines else "not logged"


def run_import(path: Path, env: dict[str, str], log: Path, kill_after: float | None) -> dict:
    """One `edurag ingest framework` run; SIGKILL after `kill_after` seconds if given. Wall time, peak RSS, report."""
    started = time.perf_counter()
    with log.open("a") as errors:
        proc = subprocess.Popen([sys.executable, "-m", "edurag.cli", "ingest", "framework", str(path), "--framework", FRAMEWORK],
                                env=env, stdout=subprocess.PIPE, stderr=errors, text=True)
        if kill_after is not None:
            try:
                proc.wait(timeout=kill_after)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
        out = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
    reports = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {"seconds": time.perf_counter() - started, "killed": os.WIFSIGNALED(status), "peak_rss_mb": usage.ru_maxrss / 1024,
            "report": reports[0] if reports else None}


def fill_collection(data_dir: Path, backend: str, seed: int = 0) -> tuple[int, int]:
    """Add every stored standard of the synthetic framework that has no chunk yet, reusing embedded chunks' vectors
    with noise (see the module docstring). Returns (chunks embedded for real, chunks filled)."""
    import numpy as np

    from edurag.chunk_ids import chunk_id
    from edurag.components import build_components
    from edurag.settings import STANDARDS_COLLECTION, Settings
    from ingestion.standards_docs import standard_document
    from vectorstore.aliases import current_target
    from vectorstore.chroma import get_collection

    c = build_components(Settings(data_dir=data_dir, generator="extractive", embedding_backend=backend))
    col = get_collection(c.client, current_target(c.client, STANDARDS_COLLECTION).name)
    real = col.get(where={"framework": FRAMEWORK}, include=["embeddings"])
    have, vectors = set(real["ids"]), np.asarray(real["embeddings"], dtype=np.float32)
    rng = np.random.default_rng(seed)
    batch: list = []
    filled = 0
    for standard in c.catalog.indexable(FRAMEWORK):
        doc = standard_document(standard, c.catalog)
        key = chunk_id(doc)
        if key in have:
            continue
        vector = vectors[rng.integers(len(vectors))] + rng.normal(0, 0.02, vectors.shape[1]).astype(np.float32)
        batch.append((key, doc, vector / np.linalg.norm(vector)))
        if len(batch) == 2000:
            filled += _add(col, batch)
            batch = []
    filled += _add(col, batch)
    return len(have), filled


def _add(col, batch: list) -> int:
    if batch:
        col.add(ids=[k for k, _, _ in batch], documents=[d.page_content for _, d, _ in batch],
                metadatas=[d.metadata for _, d, _ in batch], embeddings=[v.tolist() for _, _, v in batch])
    return len(batch)


def align_latency(data_dir: Path, backend: str, n: int) -> dict[str, dict[str, float]]:
    """/align (domain call, as the route makes it) p50/p95 with and without the framework filter."""
    from edurag.components import build_components
    from edurag.settings import Settings
    from edurag.alignment.align import align

    c = build_components(Settings(data_dir=data_dir, generator="extractive", embedding_backend=backend))
    align(c, QUERIES[0], 5, framework=FRAMEWORK)  # warm-up: lexical index over the collection, ONNX session
    out = {}
    for label, framework in (("framework filter", FRAMEWORK), ("no filter", None)):
        seconds: list[float] = []
        for i in range(n):
            with timer(seconds):
                align(c, QUERIES[i % len(QUERIES)], 5, framework=framework)
        out[label] = percentiles(seconds)
    return out


def main(items: int, kill_after: float, resume_for: float | None, queries: int, backend: str, work: Path) -> str:
    """Synthesize, import with a kill -9 and a resume, then time /align; returns the Markdown report."""
    from edurag.settings import BUNDLED_FRAMEWORKS_DIR

    data_dir = work / "data"
    source = work / "synthetic-100k.json"
    made = synthesize(items, source, BUNDLED_FRAMEWORKS_DIR)
    env = {**os.environ, "EDURAG_DATA_DIR": str(data_dir), "EDURAG_EMBEDDING_BACKEND": backend}
    log = work / "ingest.log"
    runs = [("1: first import, SIGKILL", run_import(source, env, log, kill_after), chunks(data_dir))]
    runs.append(("2: resume", run_import(source, env, log, resume_for), chunks(data_dir)))
    if not runs[-1][1]["killed"]:
        runs.append(("3: re-import", run_import(source, env, log, None), chunks(data_dir)))
    logger.info("runs: %s", runs)
    rows, before = [], 0
    for name, run, after in runs:
        report = run["report"] or {}
        rows.append([name, round(run["seconds"]), "SIGKILL" if run["killed"] else "finished", after - before,
                     report.get("skipped", "-"), report.get("unchanged", "-"), round(run["peak_rss_mb"])])
        before = after
    table = markdown_table(["run", "wall s", "ended", "chunks embedded in the run", "skipped (reported)",
                            "unchanged (reported)", "peak RSS MB"], rows)
    resumed = runs[1][1]
    rate = (runs[1][2] - runs[0][2]) / max(resumed["seconds"], 1e-9)
    if queries:
        embedded, filled = fill_collection(data_dir, backend)
        latency = align_latency(data_dir, backend, queries)
        lat = markdown_table(["/align (k=5)", "p50 ms", "p95 ms", "p99 ms"], [[k, v["p50"], v["p95"], v["p99"]] for k, v in latency.items()])
    else:
        embedded, filled, lat = chunks(data_dir), 0, "(latency not measured: --queries 0)"
    return (f"## Framework import at scale ({made:,} items, backend {backend})\n\n{table}\n\n"
            f"- parse + store: {parse_rate(log):s}\n"
            f"- embedding + indexing during the resume (whole run, incl. start-up and re-parse): {rate:,.1f} items/s\n"
            f"- at the start of each run: {'; '.join(resumed_from(log))}\n"
            f"- collection for the latency run: {embedded:,} chunks embedded by the runs, {filled:,} filled with reused vectors\n\n"
            f"{lat}\n")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--kill-after", type=float, default=300.0, help="seconds before the first run is killed with SIGKILL")
    parser.add_argument("--resume-for", type=float, default=None, help="stop the resume after this many seconds (SIGKILL)")
    parser.add_argument("--queries", type=int, default=40, help="/align queries timed per setting; 0 skips the latency run")
    parser.add_argument("--backend", default="onnx-int8")
    parser.add_argument("--work", type=Path, default=None, help="working folder (default: a temporary one)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-frameworks-"))
    work.mkdir(parents=True, exist_ok=True)
    report = main(args.items, args.kill_after, args.resume_for, args.queries, args.backend, work)
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
