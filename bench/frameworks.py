"""Framework import at scale: a 100k-item Common Standards Project set (synthetic, cloned from the bundled state sets)
imported with `edurag ingest framework`, killed with SIGKILL part-way, resumed; items/s, peak memory, and /align p95
with a framework filter on the resulting index.

    python -m bench.frameworks --items 100000 --kill-after 300 --out bench/frameworks_results.md
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


def align_latency(data_dir: Path, backend: str, n: int) -> dict[str, dict[str, float]]:
    """/align (domain call, as the route makes it) p50/p95 with and without the framework filter."""
    from edurag.components import build_components
    from edurag.settings import Settings
    from service.alignment import align

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


def main(items: int, kill_after: float, queries: int, backend: str, work: Path) -> str:
    """Synthesize, import with a kill -9 and a resume, then time /align; returns the Markdown report."""
    from edurag.settings import BUNDLED_FRAMEWORKS_DIR

    data_dir = work / "data"
    source = work / "synthetic-100k.json"
    made = synthesize(items, source, BUNDLED_FRAMEWORKS_DIR)
    env = {**os.environ, "EDURAG_DATA_DIR": str(data_dir), "EDURAG_EMBEDDING_BACKEND": backend}
    log = work / "ingest.log"
    first = run_import(source, env, log, kill_after)
    second = run_import(source, env, log, None)
    third = run_import(source, env, log, None)
    logger.info("runs: %s %s %s", first, second, third)
    r2, r3 = second["report"] or {}, third["report"] or {}
    embedded = r2.get("added", 0)
    index_seconds = r2.get("index_seconds") or second["seconds"]
    latency = align_latency(data_dir, backend, queries)
    rows = [
        ["1: killed (SIGKILL)", f"{first['seconds']:.0f}", "yes" if first["killed"] else "no (finished first)", "-", "-", f"{first['peak_rss_mb']:.0f}"],
        ["2: resume", f"{second['seconds']:.0f}", "no", r2.get("skipped"), embedded, f"{second['peak_rss_mb']:.0f}"],
        ["3: re-import", f"{third['seconds']:.0f}", "no", r3.get("skipped"), r3.get("added"), f"{third['peak_rss_mb']:.0f}"],
    ]
    table = markdown_table(["run", "wall s", "killed", "skipped (already embedded)", "embedded", "peak RSS MB"], rows)
    lat = markdown_table(["/align (k=5)", "p50 ms", "p95 ms", "p99 ms"],
                         [[k, v["p50"], v["p95"], v["p99"]] for k, v in latency.items()])
    parse_rate = made / max(r2.get("seconds", 0.0), 1e-9)
    return (f"## Framework import at scale ({made:,} items, backend {backend})\n\n{table}\n\n"
            f"- parse + store (streamed ijson, atomic rename): {r2.get('seconds')} s = {parse_rate:,.0f} items/s\n"
            f"- embedding + indexing on resume: {embedded:,} items in {index_seconds:.0f} s = {embedded / max(index_seconds, 1e-9):,.1f} items/s\n"
            f"- re-import: unchanged={r3.get('unchanged')}, added={r3.get('added')}, updated={r3.get('updated')}\n\n{lat}\n")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--kill-after", type=float, default=300.0, help="seconds before the first run is killed with SIGKILL")
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--backend", default="onnx-int8")
    parser.add_argument("--work", type=Path, default=None, help="working folder (default: a temporary one)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-frameworks-"))
    work.mkdir(parents=True, exist_ok=True)
    report = main(args.items, args.kill_after, args.queries, args.backend, work)
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
