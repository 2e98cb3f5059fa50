"""Framework import at scale: a 100k-item Common Standards Project set (synthetic, cloned from the bundled state sets)
imported end to end, embedding included, with `edurag ingest framework` (the product's backend, onnx-int8 by default,
as `make run` serves) into a data dir that already holds the bundled CCSS/NGSS standards.

`import`: run 1 is killed with SIGKILL `--kill-after` s in, run 2 resumes (to the end, or SIGKILL after `--resume-for`
s), run 3 re-imports (nothing may change); after each run a fresh process counts what the data dir holds (chunks,
standards missing, duplicate chunks of one standard, record-manager keys, BM25 documents). Measured: parse + store
rate (set items/s and standards/s), embedding rate (standards embedded per second of the resumed run's indexing),
peak RSS of each run. `latency`: /align (the domain call the route makes) p50/p95 with the framework filter, without
a filter and with a small framework's filter, on the imported data dir. With --resume-for, chunks the resume did not
embed get the vector of an embedded chunk plus noise before the latency run (documents, metadata and ids are the real
ones; a query's cost does not depend on how a stored vector was computed).

    nice -n 10 python -m bench.frameworks import --items 100000 --kill-after 300 --work /tmp/fw100k   # ~1 h here
    python -m bench.frameworks latency --work /tmp/fw100k --queries 100
    python -m bench.frameworks all --items 100000 --kill-after 300 --work /tmp/fw100k --out bench/frameworks_results.md
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import markdown_table, percentiles, timer

logger = logging.getLogger("bench.frameworks")
FRAMEWORK = "synthetic-100k"
REPO = Path(__file__).resolve().parents[1]


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


def counts(data_dir: Path) -> dict[str, int]:
    """What the data dir holds for the synthetic framework, read page by page: its chunks, the stored standards without
    a chunk (missing), chunks beyond one per standard (duplicates), chunks of no stored standard (extra); and for the
    whole standards collection its chunks, record-manager keys and BM25 documents (all three must agree)."""
    from edurag.framework_store import FrameworkStore
    from edurag.chunk_ids import SOURCE_KEY
    from edurag.settings import STANDARDS_COLLECTION, Settings
    from ingestion.indexer import record_manager
    from ingestion.standards_docs import standard_source
    from vectorstore.aliases import current_target
    from vectorstore.chroma import get_collection, iter_pages, open_client
    from vectorstore.lexical import LexicalIndex

    settings = Settings(data_dir=data_dir)
    client = open_client(settings)
    target = current_target(client, STANDARDS_COLLECTION).name
    col = get_collection(client, target)
    sources = [m[SOURCE_KEY] for got in iter_pages(col, ["metadatas"]) for m in got["metadatas"] if m.get("framework") == FRAMEWORK]
    store = FrameworkStore(settings.framework_store)
    expected = {standard_source(s) for s in store.standards(FRAMEWORK)}
    return {"chunks": len(sources), "missing": len(expected - set(sources)), "duplicates": len(sources) - len(set(sources)),
            "extra": len(set(sources) - expected), "standards": len(expected), "collection": col.count(),
            "records": len(record_manager(settings, target).list_keys()),
            "bm25": LexicalIndex(settings.lexical_dir / target).count()}


def counts_in_child(data_dir: Path, env: dict[str, str]) -> dict[str, int]:
    """`counts` read by a fresh process, after the writer has exited (as a restarted service would see the data)."""
    code = f"import json; from pathlib import Path; from bench.frameworks import counts; print(json.dumps(counts(Path({str(data_dir)!r}))))"
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_import(path: Path, env: dict[str, str], log: Path, kill_after: float | None) -> dict:
    """One `edurag ingest framework` run (stderr, with its progress bar, appended to `log`); SIGKILL after `kill_after`
    seconds if given. Returns wall seconds, whether it was killed, peak RSS (MB, from wait4) and its report (None if
    killed)."""
    started = time.perf_counter()
    with log.open("a") as errors, tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen([sys.executable, "-m", "edurag.cli", "ingest", "framework", str(path), "--framework", FRAMEWORK],
                                env=env, stdout=out, stderr=errors, text=True)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if kill_after is not None and time.perf_counter() - started > kill_after:
                proc.send_signal(signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.5)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        reports = [json.loads(line) for line in out.read().splitlines() if line.startswith("{")]
    return {"seconds": time.perf_counter() - started, "killed": os.WIFSIGNALED(status), "peak_rss_mb": usage.ru_maxrss / 1024,
            "report": reports[0] if reports else None}


def run_imports(items: int, kill_after: float, resume_for: float | None, backend: str, work: Path) -> str:
    """Synthesize the set, embed the bundled CCSS/NGSS standards, then import with a kill -9, a resume and a re-import;
    returns the Markdown report."""
    from edurag.settings import BUNDLED_FRAMEWORKS_DIR

    data_dir = work / "data"
    source = work / "synthetic.json"
    made = synthesize(items, source, BUNDLED_FRAMEWORKS_DIR)
    env = {**os.environ, "EDURAG_DATA_DIR": str(data_dir), "EDURAG_EMBEDDING_BACKEND": backend,
           "EDURAG_GENERATOR": "extractive", "PYTHONPATH": str(REPO)}
    log = work / "ingest.log"
    with log.open("a") as errors:
        subprocess.run([sys.executable, "-m", "edurag.cli", "ingest", "standards"], env=env, stdout=subprocess.DEVNULL,
                       stderr=errors, check=True)
    runs = [("1: first import, SIGKILL", run_import(source, env, log, kill_after))]
    runs[-1] += (counts_in_child(data_dir, env),)
    runs.append(("2: resume", run_import(source, env, log, resume_for), counts_in_child(data_dir, env)))
    if not runs[-1][1]["killed"]:
        runs.append(("3: re-import", run_import(source, env, log, None), counts_in_child(data_dir, env)))
    logger.info("runs: %s", runs)
    rows, before = [], 0
    for name, run, held in runs:
        report = run["report"] or {}
        rows.append([name, round(run["seconds"]), "SIGKILL" if run["killed"] else "finished",
                     report.get("added", "-"), report.get("skipped", "-"), report.get("unchanged", "-"),
                     held["chunks"] - before, held["chunks"], held["missing"], held["duplicates"], held["extra"],
                     f"{held['collection']:,} / {held['records']:,} / {held['bm25']:,}", round(run["peak_rss_mb"])])
        before = held["chunks"]
    table = markdown_table(["run", "wall s", "ended", "added (reported)", "skipped (reported)", "unchanged (reported)",
                            "chunks written in the run", "chunks of the framework", "standards missing",
                            "duplicate chunks", "chunks of no standard", "collection / records / BM25 docs",
                            "peak RSS MB"], rows)
    resumed = runs[1][1]["report"] or {}
    embed = (f"{resumed['added']:,} standards in {resumed['index_seconds']:,.0f} s = "
             f"{resumed['added'] / max(resumed['index_seconds'], 1e-9):,.1f} standards/s (run 2's indexing: hashing, "
             "record-manager look-ups, embedding, Chroma and BM25 writes)" if resumed else "run 2 was killed: see the log")
    return (f"## Framework import at scale ({made:,} set items, backend {backend})\n\n{table}\n\n"
            f"- parse + store: {'; '.join(parse_rates(log))}\n"
            f"- embedding: {embed}\n"
            f"- at the start of each run: {'; '.join(resumed_from(log))}\n")


def resumed_from(log: Path) -> list[str]:
    """The `already indexed` log line of each run (what a resumed run found in place)."""
    return [line.split("ingestion.frameworks: ", 1)[-1] for line in log.read_text().splitlines() if "already indexed" in line]


def parse_rates(log: Path) -> list[str]:
    """Parse + store rates, from the `framework stored` log line of each run."""
    return [line.split("framework stored: ", 1)[-1] for line in log.read_text().splitlines() if "framework stored" in line]


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


def align_latency(data_dir: Path, backend: str, n: int) -> str:
    """/align (the domain call the route makes, k=5) p50/p95 over n alignment problem texts, requests interleaved across
    the settings: the synthetic framework's filter with the product's search and with the metadata `where` only
    (post_filter_min_share above 1), no filter, and a small framework's filter (ccss). Returns a Markdown table."""
    from dataclasses import replace

    from bench.query import queries
    from edurag.alignment.align import align
    from edurag.components import build_components
    from edurag.settings import Settings

    c = build_components(Settings(data_dir=data_dir, generator="extractive", embedding_backend=backend))
    where_only = replace(c, settings=c.settings.model_copy(update={"post_filter_min_share": 2.0}))
    settings = {f"framework={FRAMEWORK}": (c, FRAMEWORK), f"framework={FRAMEWORK}, `where` only": (where_only, FRAMEWORK),
                "no filter": (c, None), "framework=ccss": (c, "ccss")}
    texts = queries(n)
    for components, framework in settings.values():  # warm-up: ONNX session, HNSW and BM25 files in the page cache
        align(components, texts[0], 5, framework=framework)
    seconds: dict[str, list[float]] = {label: [] for label in settings}
    for text in texts:
        for label, (components, framework) in settings.items():
            with timer(seconds[label]):
                align(components, text, 5, framework=framework)
    rows = []
    for label, values in seconds.items():
        pct = percentiles(values)
        rows.append([label, n, pct["p50"], pct["p95"], pct["p95"] / percentiles(seconds["no filter"])["p95"]])
    return markdown_table(["/align (k=5)", "requests", "p50 ms", "p95 ms", "p95 / p95 without filter"], rows)


def latency_report(work: Path, backend: str, queries: int, fill: bool) -> str:
    """Fill what the import did not embed (only when asked), then time /align on the work dir's data."""
    data_dir = work / "data"
    embedded, filled = fill_collection(data_dir, backend) if fill else (counts(data_dir)["chunks"], 0)
    return (f"/align on {data_dir}: {embedded:,} chunks of {FRAMEWORK} embedded by the import, {filled:,} filled with "
            f"reused vectors\n\n{align_latency(data_dir, backend, queries)}\n")


REGISTER = """
import sys, time
from pathlib import Path
from bench.scale import register_framework, vocabulary
from edurag.settings import Settings
started = time.perf_counter()
register_framework(Settings(data_dir=Path(sys.argv[1])), int(sys.argv[2]), *vocabulary())
print(time.perf_counter() - started)
"""

# Runs in the tree measured (before or after the on-disk catalog): only calls both catalogs answer alike.
CATALOG_CALLS = """
import json, random, resource, sys, time
from pathlib import Path
from edurag.components import build_components
from edurag.settings import Settings
data_dir, n, repeats = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
started = time.perf_counter()
catalog = build_components(Settings(data_dir=data_dir, generator="extractive")).catalog
out = {"build_s": time.perf_counter() - started}
fw, rng = "bench-synthetic", random.Random(0)
picks = [rng.randrange(n) for _ in range(repeats)]
def timed(label, calls, check):
    seconds = []
    for call in calls:
        begun = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - begun)
        assert check(result), (label, result)
    out[label] = seconds
timed("resolve, exact code", [lambda i=i: catalog.resolve_all(f"SYN.{i}", fw) for i in picks],
      lambda r: len(r.codes) == 1)
timed("resolve, other written form (syn 123)", [lambda i=i: catalog.resolve_all(f"syn {i}", fw) for i in picks],
      lambda r: len(r.codes) == 1)
timed("resolve, unknown code (3 suggestions)", [lambda i=i: catalog.resolve_all(f"SYN.{n + i}", fw) for i in picks[:max(3, repeats // 10)]],
      lambda r: not r.codes and len(r.suggestions) == 3)
timed("codes named in a text (mentions)", [lambda i=i: catalog.mentions(f"Compare SYN.{i} with SYN.{i // 2}, grade 6.", fw) for i in picks],
      lambda r: len(r) >= 1)
timed("share, first call per filter", [lambda g=g: catalog.share(fw, "math", str(g)) for g in range(1, 13)], lambda r: 0 < r < 1)
timed("share, repeated filter", [lambda g=g: catalog.share(fw, "math", str(1 + g % 12)) for g in range(repeats)], lambda r: 0 < r < 1)
out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def _rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def api_start(tree: Path, data_dir: Path) -> tuple[float, float, float]:
    """`edurag serve` of a code tree on a data dir: seconds until /health answers 200, then RSS and peak RSS (MB)."""
    from bench.common import free_port
    from bench.scale import stop, wait_for

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(tree), "EDURAG_DATA_DIR": str(data_dir), "EDURAG_GENERATOR": "extractive",
           "EDURAG_API_KEYS": ""}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "edurag.cli", "serve", "--port", str(port)], env=env, cwd=tree,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/health", proc, seconds=3600)
        seconds = time.perf_counter() - started
        return (seconds, *_rss_mb(proc.pid))
    finally:
        stop(proc)


def catalog_scale(trees: dict[str, Path], sizes: list[int], work: Path, repeats: int) -> str:
    """Start-up time and RSS of the API with `sizes` synthetic standards registered (bench.scale.register_framework,
    no Chroma vectors: start-up loads the catalog, not the vectors), for each code tree (label -> checkout, the
    first one the baseline), then code resolution / share / suggestion latency in-process at the largest size. Every
    later tree also starts twice on a copy of the baseline's data dirs: the first start migrates them. Data dirs
    under work/<label>/<size> are kept and reused."""
    start_rows, call_rows = [], []
    baseline = next(iter(trees))
    for label, tree in trees.items():
        env = {**os.environ, "PYTHONPATH": str(tree)}
        for size in sizes:
            data_dir = work / label / str(size)
            register_s = ""
            if not data_dir.exists():
                data_dir.mkdir(parents=True)
                done = subprocess.run([sys.executable, "-c", REGISTER, str(data_dir), str(size)], env=env, cwd=tree,
                                      check=True, stdout=subprocess.PIPE, text=True)
                register_s = round(float(done.stdout.strip().splitlines()[-1]), 1)
            runs = [(data_dir, "start", register_s)]
            if label != baseline:
                migrated = work / f"{label}-migrated" / str(size)
                shutil.rmtree(migrated, ignore_errors=True)
                shutil.copytree(work / baseline / str(size), migrated)
                runs += [(migrated, f"first start on the {baseline} data dir (migration)", ""),
                         (migrated, "second start on it", "")]
            for where, run, registered in runs:
                seconds, rss, peak = api_start(tree, where)
                start_rows.append([label, f"{size:,}", registered, run, round(seconds, 1), round(rss), round(peak)])
                logger.info("%s", start_rows[-1])
        size = sizes[-1]
        done = subprocess.run([sys.executable, "-c", CATALOG_CALLS, str(work / label / str(size)), str(size), str(repeats)],
                              env=env, cwd=tree, check=True, stdout=subprocess.PIPE, text=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        for call, seconds in result.items():
            if isinstance(seconds, list):
                pct = percentiles(seconds)
                call_rows.append([label, f"{size:,}", call, len(seconds), pct["p50"], pct["p95"], max(seconds) * 1000])
        call_rows.append([label, f"{size:,}", f"build_components {result['build_s']:.1f} s (catalog, embedder, generator), peak RSS {result['maxrss_mb']:.0f} MB",
                          "", "", "", ""])
    starts = markdown_table(["code", "standards registered", "register s", "run", "start-up s (to /health 200)",
                             "RSS MB", "peak RSS MB"], start_rows)
    calls = markdown_table(["code", "standards", "call", "calls", "p50 ms", "p95 ms", "max ms"], call_rows)
    return f"{starts}\n\n{calls}\n"


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", default="all", choices=["all", "import", "latency", "catalog"])
    parser.add_argument("--items", type=int, default=100_000, help="set items to synthesize (headings included)")
    parser.add_argument("--kill-after", type=float, default=300.0, help="seconds before the first run is killed with SIGKILL")
    parser.add_argument("--resume-for", type=float, default=None, help="stop the resume after this many seconds (SIGKILL)")
    parser.add_argument("--queries", type=int, default=100, help="/align requests timed per setting")
    parser.add_argument("--fill", action="store_true", help="latency: give chunks the import did not embed reused vectors")
    parser.add_argument("--backend", default="onnx-int8")
    parser.add_argument("--work", type=Path, default=None, help="working folder (default: a temporary one)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--trees", default=f"after={REPO}",
                        help="catalog: label=checkout pairs, comma-separated (before=/tmp/main-checkout,after=.)")
    parser.add_argument("--sizes", default="1000,100000,1000000", help="catalog: synthetic standards registered")
    parser.add_argument("--repeats", type=int, default=200, help="catalog: calls timed per kind")
    args = parser.parse_args()
    if args.what == "catalog":
        trees = dict((label, Path(path).resolve()) for label, path in (pair.split("=", 1) for pair in args.trees.split(",")))
        print(catalog_scale(trees, [int(s) for s in args.sizes.split(",")], args.work or Path(tempfile.mkdtemp()), args.repeats))
        sys.exit()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-frameworks-"))
    work.mkdir(parents=True, exist_ok=True)
    parts = []
    if args.what in ("all", "import"):
        parts.append(run_imports(args.items, args.kill_after, args.resume_for, args.backend, work))
    if args.what in ("all", "latency"):
        parts.append(latency_report(work, args.backend, args.queries, args.fill or args.resume_for is not None))
    report = "\n".join(parts)
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
