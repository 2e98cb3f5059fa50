"""Jobs benchmark on real processes (redis-server, `chroma run`, `edurag serve`, `edurag worker`).

Measures bulk summarization of the dev lectures + classroom transcripts with 1 vs 2 workers, /align p95 idle vs
during a bulk job, and a standards re-index while 50 clients query /align. Usage: python -m bench.jobs [--out FILE]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator

import httpx

from bench.common import percentiles

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SOURCES = [SHARED / "lectures" / "yale_lectures_dev43.jsonl", SHARED / "classroom" / "talkmoves_dev60.jsonl"]
KEY = "bench-admin"
AUTH = {"Authorization": f"Bearer {KEY}"}
ALIGN = {"text": "Students compare unit rates using ratio tables and double number lines", "k": 5}
BIN = Path(sys.executable).parent

logger = logging.getLogger("bench.jobs")


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, timeout: float, what: str) -> None:
    """Poll check() until it returns truthy without raising."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{what} not ready after {timeout}s")


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """A subprocess in its own group, stopped with SIGTERM (SIGKILL if it lingers)."""
    with log.open("ab") as out:
        proc = subprocess.Popen(args, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)


def wait_job(http: httpx.Client, job_id: str, timeout: float = 3600) -> dict:
    """Poll a job until it ends."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = http.get(f"/jobs/{job_id}").json()
        if state["status"] in ("succeeded", "failed", "cancelled"):
            return state
        time.sleep(0.5)
    raise TimeoutError(job_id)


def submit_corpus(http: httpx.Client, per_source: int | None) -> str:
    """Upload the lectures and classroom transcripts (optionally the first few of each) as one summarize job."""
    files = [("files", (p.name, "".join(p.read_text().splitlines(keepends=True)[:per_source]).encode(), "application/jsonl"))
             for p in SOURCES]
    response = http.post("/jobs/summarize", files=files)
    response.raise_for_status()
    return response.json()["id"]


def p95(latencies: list[float]) -> float:
    """95th percentile in milliseconds (bench.common.percentiles, as every bench reports it)."""
    return percentiles(latencies)["p95"]


def align_latencies(url: str, n: int, until: threading.Event | None = None) -> list[float]:
    """At least n sequential /align calls, and on until the event is set; raises on any failure."""
    out: list[float] = []
    with httpx.Client(base_url=url, timeout=120) as http:
        while len(out) < n or (until is not None and not until.is_set()):
            start = time.perf_counter()
            http.post("/align", json=ALIGN).raise_for_status()
            out.append(time.perf_counter() - start)
    return out


def bulk_rate(http: httpx.Client, per_source: int | None) -> tuple[float, int, float]:
    """Run the corpus job; (docs/s between first pick-up and finish, docs, seconds)."""
    state = wait_job(http, submit_corpus(http, per_source))
    assert state["status"] == "succeeded", state
    seconds = state["finished_at"] - state["started_at"]
    return state["progress"]["succeeded"] / seconds, state["progress"]["succeeded"], seconds


def warm_up(http: httpx.Client, workers: int) -> None:
    """A tiny job per worker so model loading is not timed."""
    texts = [f"Teacher: Let us warm up number {i}. Student: We compare ratios. Teacher: Good work." for i in range(4 * workers)]
    wait_job(http, http.post("/jobs/summarize", json={"texts": texts}).json()["id"])


def main() -> None:
    """Start the stack, run the three measurements, print and optionally write a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, help="Write the result table (Markdown) here too.")
    parser.add_argument("--clients", type=int, default=50, help="Concurrent /align clients during the re-index.")
    parser.add_argument("--per-source", type=int, help="Only the first N lectures and N classroom transcripts.")
    parser.add_argument("--api-threads", type=int, default=2, help="Torch / ONNX Runtime threads of the API process.")
    parser.add_argument("--backend", default="torch", choices=["torch", "onnx", "onnx-int8"],
                        help="EDURAG_EMBEDDING_BACKEND of the API and the workers.")
    args = parser.parse_args()
    from edurag.settings import setup_logging

    setup_logging()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the started processes are stopped on kill
    root = Path(tempfile.mkdtemp(prefix="edurag-bench-jobs-"))
    redis_port, chroma_port, api_port = free_port(), free_port(), free_port()
    env = {"EDURAG_DATA_DIR": str(root / "data"), "EDURAG_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
           "EDURAG_CHROMA_URL": f"http://127.0.0.1:{chroma_port}", "EDURAG_GENERATOR": "extractive",
           "EDURAG_ADMIN_KEY": KEY, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "EDURAG_EMBEDDING_BACKEND": args.backend, "EDURAG_ONNX_DIR": str(root / "onnx")}
    url = f"http://127.0.0.1:{api_port}"
    rows: list[tuple[str, str]] = []
    with ExitStack() as stack:
        stack.enter_context(process([shutil.which("redis-server") or "redis-server", "--port", str(redis_port),
                                     "--save", "", "--dir", str(root)], env, root / "redis.log"))
        stack.enter_context(process([str(BIN / "chroma"), "run", "--path", str(root / "chroma"), "--port",
                                     str(chroma_port)], env, root / "chroma.log"))
        wait_until(lambda: httpx.get(f"{env['EDURAG_CHROMA_URL']}/api/v2/heartbeat").status_code == 200, 120, "chroma")
        subprocess.run([sys.executable, "-m", "edurag.cli", "ingest", "standards"], env={**os.environ, **env}, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        api_env = env | {"OMP_NUM_THREADS": str(args.api_threads), "EDURAG_TORCH_THREADS": str(args.api_threads)}
        stack.enter_context(process([sys.executable, "-m", "edurag.cli", "serve", "--port", str(api_port)], api_env,
                                    root / "api.log"))
        wait_until(lambda: httpx.get(f"{url}/health", timeout=30).status_code == 200, 300, "api")
        http = stack.enter_context(httpx.Client(base_url=url, headers=AUTH, timeout=120))
        worker_cmd = [sys.executable, "-m", "edurag.cli", "worker", "--concurrency", "1"]

        idle = align_latencies(url, 300)
        rows.append(("/align p95, idle", f"{p95(idle):.0f} ms (median {1000 * statistics.median(idle):.0f} ms, {len(idle)} calls)"))

        with process(worker_cmd, env, root / "worker-0.log"):
            warm_up(http, 1)
            rate1, docs, secs1 = bulk_rate(http, args.per_source)
            rows.append(("bulk summarize, 1 worker", f"{rate1:.3f} docs/s ({docs} docs in {secs1:.0f} s)"))
            logger.info("1 worker: %.3f docs/s", rate1)
            with process(worker_cmd, env, root / "worker-1.log"):
                warm_up(http, 2)
                rate2, _, _ = bulk_rate(http, args.per_source)  # without queries, like the 1-worker run
                rows.append(("bulk summarize, 2 workers", f"{rate2:.3f} docs/s ({rate2 / rate1:.2f}x)"))
                logger.info("2 workers: %.3f docs/s", rate2)

                job = submit_corpus(http, args.per_source)  # again, now with /align calls the whole time
                finished: dict = {}
                done = threading.Event()

                def watch() -> None:
                    with httpx.Client(base_url=url, headers=AUTH, timeout=120) as own:
                        finished.update(wait_job(own, job))
                    done.set()

                watcher = threading.Thread(target=watch)
                watcher.start()
                busy = align_latencies(url, 60, until=done)  # the whole time the job runs
                watcher.join()
                rate_busy = finished["progress"]["succeeded"] / (finished["finished_at"] - finished["started_at"])
                rows.append(("/align p95, during bulk job", f"{p95(busy):.0f} ms ({p95(busy) / p95(idle):.2f}x idle; "
                                                            f"median {1000 * statistics.median(busy):.0f} ms, {len(busy)} calls; "
                                                            f"the job ran at {rate_busy:.3f} docs/s meanwhile)"))

                stop = threading.Event()
                failed: list[str] = []
                served = [0]

                def client() -> None:
                    with httpx.Client(base_url=url, timeout=300) as own:
                        while not stop.is_set():
                            try:
                                response = own.post("/align", json=ALIGN)
                                if response.status_code != 200 or not response.json()["standards"]:
                                    failed.append(str(response.status_code))
                                served[0] += 1
                            except httpx.HTTPError as exc:
                                failed.append(repr(exc))

                threads = [threading.Thread(target=client) for _ in range(args.clients)]
                for thread in threads:
                    thread.start()
                try:
                    state = wait_job(http, http.post("/admin/reindex").json()["id"])
                    time.sleep(2)
                finally:
                    stop.set()
                    for thread in threads:
                        thread.join()
                rows.append((f"re-index under {args.clients} /align clients",
                             f"{state['status']} in {state['finished_at'] - state['started_at']:.0f} s, "
                             f"{state['result']['chunks'] if state['result'] else 0} chunks -> "
                             f"{state['result']['collection'] if state['result'] else '-'}; "
                             f"{served[0]} queries, {len(failed)} failed"))
    rows.insert(0, ("setup", f"embedder backend {args.backend}, API threads {args.api_threads}, "
                             f"{'first ' + str(args.per_source) + ' of each source' if args.per_source else 'all 103 docs'}"))
    table = "| measurement | result |\n|---|---|\n" + "".join(f"| {k} | {v} |\n" for k, v in rows)
    print(table)
    if args.out:
        args.out.write_text(table)
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
