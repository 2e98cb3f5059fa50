"""Blue-green standards re-index against a real Chroma server: swap under concurrent queries, spare version, rollback."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from edurag.components import build_components
from edurag.models import default_embedding_model
from edurag.settings import STANDARDS_COLLECTION, Settings
from ingestion.indexer import record_manager
from ingestion.service import ingest_standards
from ingestion.standards_docs import standard_documents
from edurag.alignment.align import retrieve_standards
from service.app import create_app
from tests.utils.jobs import wait_job
from tests.utils.servers import run_chroma_server, serve_app
from vectorstore.aliases import current_collection, current_target

pytestmark = pytest.mark.slow  # a Chroma server and several full re-indexes

KEY = "admin-secret"
AUTH = {"Authorization": f"Bearer {KEY}"}
QUERIES = {
    "Students compare unit rates using ratio tables and double number lines": "6.RP",
    "Students solve real-world problems with proportional relationships and percent markups": "7.RP",
    "Students model how atoms combine into molecules and extended structures": "MS-PS1",
}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, standards_subset_dir: Path, embedder) -> Iterator[dict]:
    """A Chroma server of its own, the standards subset ingested the pre-alias way, and the API over uvicorn."""
    root = tmp_path_factory.mktemp("reindex")
    with run_chroma_server(root / "chroma") as chroma:
        settings = Settings(data_dir=root / "data", standards_dir=standards_subset_dir, chroma_url=chroma,
                            generator="extractive", admin_key=KEY)
        components = build_components(settings, embedder=embedder)
        ingest_standards(components)
        other = build_components(settings, embedder=embedder)  # a second API process's view of the same server
        with serve_app(create_app(components=components)) as url, httpx.Client(base_url=url, headers=AUTH,
                                                                               timeout=60) as http:
            yield {"http": http, "c": components, "other": other,
                   "docs": len(standard_documents(components.catalog))}


def _reindex(http: httpx.Client, body: dict | None = None) -> dict:
    response = http.post("/admin/reindex", json=body) if body else http.post("/admin/reindex")
    assert response.status_code == 202, response.text
    assert response.json()["total"] is None, "the chunks are counted by the job, not known at submission"
    return wait_job(http.get, response.json()["id"], timeout=300)


def _with_spare(http: httpx.Client) -> dict:
    """The index state once a re-index has left a spare version (re-indexing here if no earlier test did)."""
    index = http.get("/admin/index").json()
    if not index["current"].startswith(f"{STANDARDS_COLLECTION}__v"):
        assert _reindex(http)["status"] == "succeeded"
        index = http.get("/admin/index").json()
    return index


def test_swap_under_concurrent_queries_has_no_errors_and_consistent_results(env: dict):
    http, docs = env["http"], env["docs"]
    before = http.get("/admin/index").json()
    stop = threading.Event()
    failures: list[str] = []
    answered: list[str] = []

    def client_loop(n: int) -> None:
        text, family = list(QUERIES.items())[n % len(QUERIES)]
        with httpx.Client(base_url=str(http.base_url), timeout=60) as own:
            while not stop.is_set():
                try:
                    response = own.post("/align", json={"text": text, "k": 5})
                    body = response.json()
                    if response.status_code != 200 or len(body["standards"]) != 5 or \
                            not body["standards"][0]["code"].startswith(family):
                        failures.append(f"{response.status_code}: {str(body)[:200]}")
                    answered.append(family)
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        state = _reindex(http)
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert state["status"] == "succeeded", state
    assert failures == [] and len(answered) > 10, failures[:5]
    new = state["result"]["collection"]
    assert new.startswith(f"{STANDARDS_COLLECTION}__v") and state["result"]["previous"] == before["current"]
    assert state["result"]["chunks"] == docs and state["progress"]["done"] == state["progress"]["total"] == docs
    index = http.get("/admin/index").json()
    assert index["current"] == new and index["previous"] == before["current"]
    assert index["collections"] == {before["current"]: docs, new: docs}
    assert http.get("/health").json()["collections"]["standards"] == docs
    assert current_collection(env["other"].client, STANDARDS_COLLECTION) == new
    assert retrieve_standards(env["other"], list(QUERIES)[0], 3)[0].code.startswith("6.RP")


def test_a_reindex_keeps_one_spare_and_drops_older_versions(env: dict):
    before = _with_spare(env["http"])
    state = _reindex(env["http"])
    version = int(before["current"].rsplit("__v", 1)[1]) + 1
    assert state["status"] == "succeeded" and state["result"]["collection"] == f"{STANDARDS_COLLECTION}__v{version}"
    assert state["progress"] == {"done": env["docs"], "total": env["docs"], "succeeded": env["docs"], "failed": 0,
                                 "percent": 100.0}, "succeeded counts the chunks built (was 0)"
    index = env["http"].get("/admin/index").json()
    assert (index["current"], index["previous"]) == (state["result"]["collection"], before["current"])
    assert index["collections"] == {before["current"]: env["docs"], index["current"]: env["docs"]}
    assert record_manager(env["c"].settings, before["previous"]).list_keys() == [], "dropped version's records"
    assert len(record_manager(env["c"].settings, index["current"]).list_keys()) == env["docs"]


def test_rollback_switches_to_the_spare_and_back(env: dict):
    http = env["http"]
    before = _with_spare(http)
    live, spare = before["current"], before["previous"]
    assert http.post("/admin/reindex/rollback", headers={"Authorization": ""}).status_code == 401
    body = http.post("/admin/reindex/rollback").json()
    assert (body["current"], body["previous"]) == (spare, live)
    assert current_collection(env["other"].client, STANDARDS_COLLECTION) == spare
    response = http.post("/align", json={"text": list(QUERIES)[0], "k": 3})
    assert response.status_code == 200 and response.json()["standards"][0]["code"].startswith("6.RP")
    body = http.post("/admin/reindex/rollback").json()
    assert (body["current"], body["previous"]) == (live, spare)


def test_failed_reindex_leaves_the_live_version_alone(env: dict, tmp_path: Path):
    """A folder that is not a model passes the request's check and fails in the job (a name that is nowhere is a
    404 before any job: tests/service/test_hardening.py)."""
    http = env["http"]
    before = http.get("/admin/index").json()
    state = _reindex(http, {"embedding_model": str(tmp_path)})
    assert state["status"] == "failed" and state["error"]
    after = http.get("/admin/index").json()
    assert (after["current"], after["previous"]) == (before["current"], before["previous"])
    assert http.post("/align", json={"text": list(QUERIES)[1], "k": 3}).status_code == 200


def test_concurrent_reindex_is_refused(env: dict):
    http = env["http"]
    first = http.post("/admin/reindex")
    assert first.status_code == 202
    assert http.post("/admin/reindex").status_code == 409
    assert wait_job(http.get, first.json()["id"], timeout=300)["status"] == "succeeded"


def test_changing_the_embedding_model_goes_through_reindex(env: dict):
    model = default_embedding_model()  # the same weights under another name: loaded as a second embedder
    state = _reindex(env["http"], {"embedding_model": model})
    assert state["status"] == "succeeded" and state["result"]["embedding_model"] == model
    target = current_target(env["other"].client, STANDARDS_COLLECTION)
    assert target.embedding_model == model
    response = env["http"].post("/align", json={"text": list(QUERIES)[2], "k": 3})
    assert response.status_code == 200 and response.json()["standards"][0]["code"].startswith("MS-PS1")
    body = env["http"].post("/admin/reindex/rollback").json()
    assert current_target(env["other"].client, STANDARDS_COLLECTION).embedding_model != model
    assert body["embedding_model"] != model
