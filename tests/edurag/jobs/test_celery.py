"""Scale-out jobs on real processes: redis-server, `edurag worker` (Celery) subprocesses, a `chroma run` server, uvicorn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from edurag.components import build_components
from edurag.settings import Settings
from edurag.jobs.store import open_store
from edurag.jobs.worker import CeleryRunner
from service.app import create_app
from tests.utils.jobs import Worker, cancel_running_ingest, dialogues, long_items, run_redis, wait_job
from tests.utils.servers import run_chroma_server, serve_app

pytestmark = pytest.mark.slow  # redis, a Chroma server, Celery worker processes and a killed worker

KEY = "admin-secret"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, standards_subset_dir: Path) -> Iterator[dict]:
    """Redis and a Chroma server as subprocesses, plus the environment every API and worker process shares."""
    root = tmp_path_factory.mktemp("jobs-celery")
    with run_redis(root) as broker, run_chroma_server(root / "chroma") as chroma:
        env = {"EDURAG_DATA_DIR": str(root / "data"), "EDURAG_BROKER_URL": broker, "EDURAG_CHROMA_URL": chroma,
               "EDURAG_GENERATOR": "extractive", "EDURAG_STANDARDS_DIR": str(standards_subset_dir),
               "EDURAG_JOB_VISIBILITY_TIMEOUT": "5", "EDURAG_ADMIN_KEY": KEY}
        settings = Settings(data_dir=root / "data", broker_url=broker, chroma_url=chroma, generator="extractive",
                            standards_dir=standards_subset_dir, job_visibility_timeout=5, admin_key=KEY)
        yield {"env": env, "settings": settings, "root": root}


@pytest.fixture(scope="module")
def components(stack: dict, embedder):
    """The API's components (against the Chroma server)."""
    return build_components(stack["settings"], embedder=embedder)


def _api(components) -> object:
    return serve_app(create_app(components=components))


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers=AUTH, timeout=60)


def test_bulk_job_runs_on_two_celery_workers(stack: dict, components, tmp_path: Path):
    workers = [Worker(stack["env"], stack["root"] / f"worker-{n}.log") for n in range(2)]
    try:
        with _api(components) as url, _client(url) as http:
            health = http.get("/health").json()
            assert health["chroma"]["mode"] == "server"
            lines = [json.dumps({"id": d["id"], "dialogue": d["text"]}) for d in dialogues()[:10]] + ["{broken"]
            response = http.post("/jobs/summarize", files=[("files", ("batch.jsonl", "\n".join(lines).encode(), "x"))])
            assert response.status_code == 202, response.text
            created = response.json()
            state = wait_job(http.get, created["id"], timeout=240)
            assert state["status"] == "succeeded", state
            assert (state["progress"]["succeeded"], state["progress"]["failed"]) == (10, 1)
            assert "invalid JSON" in state["errors"][0]["error"]
            rows = [json.loads(x) for x in http.get(f"/jobs/{created['id']}/results").text.splitlines()]
            assert [r["id"] for r in rows if r["status"] == "succeeded"] == [f"transcript:batch.jsonl#{d['id']}"
                                                                                for d in dialogues()[:10]]

            files = []
            for d in dialogues()[10:13]:
                path = tmp_path / f"{d['id']}.txt"
                path.write_text(d["text"])
                files.append(str(path))
            cli = subprocess.run([sys.executable, "-m", "edurag.cli", "summarize", *files, "--server", url, "--api-key", KEY],
                                 capture_output=True, text=True, timeout=300, env={**os.environ, **stack["env"]})
            assert cli.returncode == 0, cli.stderr
            out = [json.loads(line) for line in cli.stdout.splitlines()]
            assert [r["id"] for r in out] == [f"transcript:{Path(f).name}" for f in files]
            assert all(r["summary"] for r in out)
            assert all(os.sched_getscheduler(w.proc.pid) == os.SCHED_IDLE for w in workers), "workers yield the CPU to the API"
    finally:
        for worker in workers:
            worker.stop()
    logs = [(stack["root"] / f"worker-{n}.log").read_text() for n in range(2)]
    assert all("edurag.summarize_item" in log and "succeeded" in log for log in logs), "both workers took items"


def test_kill9_worker_and_api_restart_resume_without_duplicates(stack: dict, components):
    items = long_items(12, per_item=4)
    worker = Worker(stack["env"], stack["root"] / "worker-killed.log")
    with _api(components) as url, _client(url) as http:
        created = http.post("/jobs/summarize", json={"items": items}).json()
        wait_job(http.get, created["id"], until=lambda s: s["progress"]["done"] >= 3, timeout=240)
        worker.kill9()
        done_before = {json.loads(x)["id"] for x in http.get(f"/jobs/{created['id']}/results").text.splitlines()}
        state = http.get(f"/jobs/{created['id']}").json()
    assert state["status"] == "running" and 3 <= len(done_before) < 12, "the kill must interrupt the job"

    restarted = Worker(stack["env"], stack["root"] / "worker-restarted.log")
    try:
        with _api(components) as url, _client(url) as http:  # a new API process view over the same store
            state = wait_job(http.get, created["id"], timeout=300)
            rows = [json.loads(x) for x in http.get(f"/jobs/{created['id']}/results").text.splitlines()]
    finally:
        restarted.stop()
    assert state["status"] == "succeeded" and state["progress"]["done"] == 12
    assert [r["id"] for r in rows] == [i["id"] for i in items], "every item exactly once, in order"
    attempts = open_store(stack["settings"]).attempts(created["id"])
    assert all(attempts[i] == 1 for i in done_before), "items finished before the kill were not redone"
    assert sum(attempts.values()) <= 12 + 1, "only the item in flight at the kill ran twice"


def test_cancelling_a_running_ingest_job_on_a_celery_worker_stops_it_between_files(stack: dict, components):
    """The worker reads the cancel from the shared job store: the ingest stops before its next file, the Chroma
    server holds each file whole, the job reads cancelled with what was done (2-chunk batches so it stops early)."""
    worker = Worker(stack["env"] | {"EDURAG_INDEX_BATCH_SIZE": "2"}, stack["root"] / "worker-cancel.log")
    try:
        with _api(components) as url, _client(url) as http:
            cancel_running_ingest(http)
    finally:
        worker.stop()
    assert "edurag.ingest_transcripts" in (stack["root"] / "worker-cancel.log").read_text()
    assert list((stack["root"] / "data" / "spool" / "transcripts").iterdir()) == []


def test_api_hands_jobs_to_celery(components):
    app = create_app(components=components)
    with TestClient(app):
        assert isinstance(app.state.jobs.runner, CeleryRunner)


def test_transcript_ingest_job_runs_on_a_celery_worker_with_a_chroma_server(stack: dict, components):
    """With a Chroma server every process may write it, so an ingest job goes to the workers like any other; the
    worker reads the spooled files from the shared data dir and the API's search finds the chunks."""
    app = create_app(components=components)
    with TestClient(app):
        assert isinstance(app.state.jobs.writer, CeleryRunner)
    worker = Worker(stack["env"], stack["root"] / "worker-ingest.log")
    try:
        with _api(components) as url, _client(url) as http:
            files = [("files", ("geo/rivers.txt", b"Rivers carve valleys and carry sediment to the delta.", "text/plain"))]
            created = http.post("/ingest/transcripts", files=files, headers={"Prefer": "respond-async"})
            assert created.status_code == 202 and created.json()["total"] is None, created.text
            state = wait_job(http.get, created.json()["id"], timeout=240)
            assert state["status"] == "succeeded" and state["result"]["files"][0]["id"] == "geo/rivers.txt", state
            assert state["progress"] == {"done": 1, "total": 1, "succeeded": 1, "failed": 0, "percent": 100.0}
            hits = http.post("/transcripts/search", json={"text": "rivers carve valleys", "k": 1}).json()
            assert hits[0]["source_file"] == "geo/rivers.txt"
    finally:
        worker.stop()
    assert "edurag.ingest_transcripts" in (stack["root"] / "worker-ingest.log").read_text()


def test_reindex_job_on_a_celery_worker_counts_its_chunks(stack: dict, components):
    """A re-index run by a worker: the 202 has no total yet (the worker counts the chunks), the finished job reads
    done = total = succeeded = the chunks it built (newuser12 finding 14: done 6851/6851, succeeded 0)."""
    worker = Worker(stack["env"], stack["root"] / "worker-reindex.log")
    try:
        with _api(components) as url, _client(url) as http:
            created = http.post("/admin/reindex")
            assert created.status_code == 202 and created.json()["total"] is None, created.text
            state = wait_job(http.get, created.json()["id"], timeout=300)
            assert state["status"] == "succeeded", state
            chunks = state["result"]["chunks"]
            assert chunks > 50 and state["progress"] == {"done": chunks, "total": chunks, "succeeded": chunks,
                                                          "failed": 0, "percent": 100.0}, state["progress"]
    finally:
        worker.stop()
    assert "edurag.reindex" in (stack["root"] / "worker-reindex.log").read_text()
