"""Job test helpers: a real redis-server, real Celery worker processes, polling a job until it ends."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from tests.utils.servers import free_port

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REDIS_MISSING = ("redis-server is not installed: the Celery tests (the only coverage of `edurag worker` and "
                 "`edurag summarize --server`) need it; install it with `apt-get install redis-server` (.ci/run does)")


def dialogues() -> list[dict[str, str]]:
    """The 40 DialogSum dev dialogues of the fixtures, as {"id", "text"}."""
    rows = [json.loads(line) for line in (FIXTURES / "dialogsum_dev40.jsonl").read_text().splitlines() if line.strip()]
    return [{"id": r["fname"], "text": r["dialogue"]} for r in rows]


def long_items(n: int, per_item: int = 8) -> list[dict[str, str]]:
    """n transcripts of several dialogues each (long enough for map-reduce, so a job takes a while)."""
    base = dialogues()
    return [{"id": f"long-{i}", "text": "\n".join(base[(i + j) % len(base)]["text"] for j in range(per_item))}
            for i in range(n)]


def wait_job(get: Callable[[str], Any], job_id: str, until: Callable[[dict], bool] | None = None,
             timeout: float = 180.0) -> dict:
    """Poll GET /jobs/{id} until `until(state)` (default: the job ended); returns the last state."""
    until = until or (lambda s: s["status"] in ("succeeded", "failed", "cancelled"))
    deadline = time.monotonic() + timeout
    while True:
        response = get(f"/jobs/{job_id}")
        assert response.status_code == 200, response.text
        state = response.json()
        if until(state):
            return state
        assert time.monotonic() < deadline, f"job {job_id} stuck: {state}"
        time.sleep(0.2)


@contextmanager
def run_redis(workdir: Path) -> Iterator[str]:
    """redis-server on a free loopback port (no persistence needed: unacked messages live in memory); yields its URL."""
    redis = shutil.which("redis-server")
    if redis is None:
        pytest.fail(REDIS_MISSING, pytrace=False)
    port = free_port()
    proc = subprocess.Popen([redis, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        import redis

        client = redis.Redis(port=port)
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


class Worker:
    """`edurag worker` as a subprocess in its own process group, so kill -9 takes its pool children too."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "edurag.cli", "worker", "--concurrency", "1"],
                                     env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def kill9(self) -> None:
        """SIGKILL the worker and its children, as a crash or OOM kill would."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=20)

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL whatever is left of the process group."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=20)
        self.log.close()


def lecture_files(count: int, sentences: int, version: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    """`count` multipart transcript uploads `course/lecture-NN.txt` of `sentences` sentences each, worded per version."""
    return [("files", (f"course/lecture-{n:02d}.txt",
                       " ".join(f"Version {version}, lecture {n}, part {i}: we compare ratios and rates in a table of "
                                f"values and explain each step." for i in range(sentences)).encode(), "text/plain"))
            for n in range(count)]


def cancel_running_ingest(http: Any, count: int = 24) -> dict:
    """Store one-chunk versions of `count` lectures, start an ingest job of longer versions, cancel it once its first
    batch is written (DELETE /jobs/{id}), and check the store is consistent: the files the job reports written hold
    exactly their new chunks, the others exactly their old chunk; sending the new files again completes the store
    without duplicates. `http` is an httpx-like client whose requests carry the admin key; returns the job's state."""
    old = http.post("/ingest/transcripts", files=lecture_files(count, 1, "one"))
    assert old.status_code == 200 and old.json()["total"] == count, old.text
    new = lecture_files(count, 12, "two")
    created = http.post("/ingest/transcripts?async=true", files=new)
    assert created.status_code == 202, created.text
    job_id = created.json()["id"]
    deadline = time.monotonic() + 240
    while (state := http.get(f"/jobs/{job_id}").json())["progress"]["done"] == 0:
        assert state["status"] in ("queued", "running") and time.monotonic() < deadline, state
        time.sleep(0.02)
    cancelled = http.delete(f"/jobs/{job_id}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text
    state = wait_job(http.get, job_id, until=lambda s: s["result"] is not None, timeout=240)
    assert state["status"] == "cancelled", state

    result = state["result"]
    names = [name for _, (name, _, _) in new]
    written = [f["file"] for f in result["files"]]
    assert 1 <= len(written) < count and written + result["not_ingested"] == names, result
    assert all(f["chunks"] > 1 for f in result["files"]), result
    stored = {s["id"]: s["chunks"] for s in http.get("/ingest/transcripts").json()}
    assert stored == {name: 1 for name in names} | {f["id"]: f["chunks"] for f in result["files"]}
    assert result["total"] == sum(stored.values())

    again = http.post("/ingest/transcripts", files=new)
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["skipped"] == sum(f["chunks"] for f in result["files"]) and body["deleted"] == count - len(written)
    stored = {s["id"]: s["chunks"] for s in http.get("/ingest/transcripts").json()}
    assert stored == {f["id"]: f["chunks"] for f in body["files"]} and body["total"] == sum(stored.values())
    return state
