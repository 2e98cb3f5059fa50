"""Transcript admin over HTTP (real uvicorn, real embedded Chroma): sources identified by folder path, listing,
deletion by URL-encoded id, odd names, refused traversal."""

from __future__ import annotations

from functools import partial

import httpx
import pytest

from edurag.components import build_components
from edurag.settings import Settings
from service.app import create_app
from tests.utils.jobs import cancel_running_ingest, run_redis, wait_job
from tests.utils.servers import serve_app

ADMIN = {"Authorization": "Bearer admin-secret"}


@pytest.fixture(scope="module")
def api_settings(tmp_path_factory):
    return Settings(data_dir=tmp_path_factory.mktemp("transcripts-api"), generator="extractive", admin_key="admin-secret")


@pytest.fixture(scope="module")
def api(api_settings, embedder):
    app = create_app(components=build_components(api_settings, embedder=embedder))
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=120) as client:
        yield client


def test_same_file_name_in_two_course_folders_and_delete_by_url_encoded_id(api):
    """Issue #17 item 1 over HTTP: two week1.txt in two folders stay two sources; DELETE takes the id with %2F."""
    files = [("files", ("biology/week1.txt", b"Cells divide by mitosis in the biology lecture.", "text/plain")),
             ("files", ("chemistry/week1.txt", b"Moles count atoms in the chemistry lecture.", "text/plain"))]
    body = api.post("/ingest/transcripts", files=files, headers=ADMIN).json()
    assert [(f["id"], f["chunks"]) for f in body["files"]] == [("biology/week1.txt", 1), ("chemistry/week1.txt", 1)]
    revised = [("files", ("chemistry/week1.txt", b"Moles and molar mass in the revised chemistry lecture.", "text/plain"))]
    body = api.post("/ingest/transcripts", files=revised, headers=ADMIN).json()
    assert (body["added"], body["deleted"]) == (1, 1)
    hits = api.post("/transcripts/search", json={"text": "cells divide by mitosis", "k": 1}).json()
    assert hits[0]["source_file"] == "biology/week1.txt"
    listed = {s["id"]: s["chunks"] for s in api.get("/ingest/transcripts", headers=ADMIN).json()}
    assert listed["biology/week1.txt"] == listed["chemistry/week1.txt"] == 1
    deleted = api.delete("/ingest/transcripts/chemistry%2Fweek1.txt", headers=ADMIN)
    assert deleted.status_code == 200 and deleted.json() == {"id": "chemistry/week1.txt", "deleted": 1}
    missing = api.delete("/ingest/transcripts/chemistry%2Fweek1.txt", headers=ADMIN)
    assert missing.status_code == 404 and "chemistry/week1.txt" in missing.json()["detail"]
    assert api.delete("/ingest/transcripts/biology/week1.txt", headers=ADMIN).json()["deleted"] == 1


def test_odd_file_names_round_trip_and_traversal_is_refused(api):
    from urllib.parse import quote

    name = "Bio 101/Cafe\u0301 #2 (final)?.txt"
    body = api.post("/ingest/transcripts", files=[("files", (name, b"An odd name for a lecture on enzymes.", "text/plain"))],
                    headers=ADMIN).json()
    source = body["files"][0]["id"]
    assert source == "Bio 101/Caf\u00e9 #2 (final)?.txt"
    assert api.delete(f"/ingest/transcripts/{quote(source, safe='')}", headers=ADMIN).json()["deleted"] == 1
    for bad, message in [("../secrets.txt", "path traversal"), ("/etc/passwd.txt", "absolute")]:
        response = api.post("/ingest/transcripts", files=[("files", (bad, b"x", "text/plain"))], headers=ADMIN)
        assert response.status_code == 400 and message in response.text
    twice = [("files", ("a/b.txt", b"one", "text/plain")), ("files", ("a//b.txt", b"two", "text/plain"))]
    response = api.post("/ingest/transcripts", files=twice, headers=ADMIN)
    assert response.status_code == 400 and "same source id 'a/b.txt'" in response.text
    refused = api.delete("/ingest/transcripts/..%2Fsecrets.txt", headers=ADMIN)
    assert refused.status_code == 400 and "path traversal" in refused.text


def _lecture(topic: str, sentences: int) -> bytes:
    return " ".join(f"In part {n} of the lecture on {topic} we compare ratios and rates in a table."
                    for n in range(sentences)).encode()


def test_ingest_as_a_job_gives_202_then_the_same_report_as_the_synchronous_reply(api, api_settings):
    """POST /ingest/transcripts with `Prefer: respond-async` (or ?async=true): validated before the 202, spooled under
    the data dir, ingested by the job runner; GET /jobs/{id} gives progress in chunks and the synchronous reply."""
    vtt = b"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Teacher A>Who can tell me what a ratio compares?</v>\n"
    files = [("files", ("history/lecture1.txt", _lecture("the industrial revolution", 40), "text/plain")),
             ("files", ("history/captions.vtt", vtt, "text/vtt"))]
    created = api.post("/ingest/transcripts", files=files, headers={**ADMIN, "Prefer": "respond-async, wait=5"})
    assert created.status_code == 202, created.text
    job_id = created.json()["id"]
    assert created.headers["location"] == f"/jobs/{job_id}"
    assert created.headers["preference-applied"] == "respond-async"
    assert created.json()["total"] is None  # chunks are counted by the job, not known at submission (was 0)
    state = wait_job(partial(api.get, headers=ADMIN), job_id)
    assert state["status"] == "succeeded" and state["kind"] == "ingest_transcripts", state
    # the job of an admin operation is the admin's: its file names, progress and cancel need the key
    assert [api.get(f"/jobs/{job_id}").status_code, api.get(f"/jobs/{job_id}/results").status_code,
            api.delete(f"/jobs/{job_id}").status_code, api.get(f"/jobs/{job_id}", headers={"Authorization": "Bearer no"}).status_code,
            api.get(f"/app/jobs/{job_id}/progress").status_code] == [401, 401, 401, 403, 401]
    result = state["result"]
    chunks = {f["id"]: f["chunks"] for f in result["files"]}
    assert chunks["history/captions.vtt"] == 1 and chunks["history/lecture1.txt"] > 1
    assert state["progress"]["done"] == state["progress"]["total"] == sum(chunks.values()) == result["added"]
    assert (state["progress"]["succeeded"], state["progress"]["failed"]) == (result["added"], 0)  # was 0 succeeded
    assert state["params"]["files"] == ["history/lecture1.txt", "history/captions.vtt"]
    hits = api.post("/transcripts/search", json={"text": "who can tell me what a ratio compares", "k": 1}).json()
    assert hits[0]["source_file"] == "history/captions.vtt"

    again = api.post("/ingest/transcripts", files=files, headers=ADMIN)  # the synchronous reply, unchanged
    assert again.status_code == 200 and set(again.json()) == set(result)
    assert again.json()["files"] == result["files"] and again.json()["skipped"] == result["added"]

    flagged = api.post("/ingest/transcripts?async=true", files=files[1:], headers=ADMIN)
    assert flagged.status_code == 202
    assert wait_job(partial(api.get, headers=ADMIN), flagged.json()["id"])["result"]["skipped"] == 1
    assert list((api_settings.data_dir / "spool" / "transcripts").iterdir()) == []  # each job removes its spooled files when it ends


def test_async_ingest_validates_before_the_202_and_checks_the_key_first(api):
    prefer = {"Prefer": "respond-async"}
    bad = [("files", ("ok.txt", b"fine text", "text/plain")), ("files", ("bad.vtt", b"WEBVTT\n\n00:00:0x --> 1\nHi\n", "text/vtt")),
           ("files", ("latin1.txt", "caf\u00e9".encode("latin-1"), "text/plain")), ("files", ("slides.pdf", b"%PDF", "application/pdf"))]
    refused = api.post("/ingest/transcripts", files=bad, headers={**ADMIN, **prefer})
    assert refused.status_code == 400, refused.text
    problems = " ".join(e if isinstance(e, str) else e.get("message", "") for e in refused.json()["errors"])
    assert "bad.vtt" in problems and "not valid UTF-8" in problems and "unsupported file type .pdf" in problems
    assert api.post("/ingest/transcripts?async=true", files=bad, headers=prefer).status_code == 401
    assert api.post("/ingest/transcripts", content=b"not multipart", headers={**prefer, "Authorization": "Bearer wrong",
                                                                             "Content-Type": "multipart/form-data"}).status_code == 403


def test_async_ingest_with_celery_and_embedded_chroma_runs_in_the_serving_process(tmp_path, embedder):
    """Jobs go to Celery (a real redis, no worker running), but only the serving process may write an embedded Chroma:
    the ingest job runs on the API's own thread and its chunks are searchable through that API."""
    with run_redis(tmp_path) as broker:
        settings = Settings(data_dir=tmp_path / "data", generator="extractive", admin_key="admin-secret", broker_url=broker)
        app = create_app(components=build_components(settings, embedder=embedder))
        with serve_app(app) as url, httpx.Client(base_url=url, timeout=120) as client:
            files = [("files", ("geo/rivers.txt", b"Rivers carve valleys and carry sediment to the delta.", "text/plain"))]
            created = client.post("/ingest/transcripts?async=true", files=files, headers=ADMIN)
            assert created.status_code == 202, created.text
            state = wait_job(partial(client.get, headers=ADMIN), created.json()["id"], timeout=60)
            assert state["status"] == "succeeded" and state["result"]["added"] == 1, state
            hits = client.post("/transcripts/search", json={"text": "rivers carve valleys", "k": 1}).json()
            assert hits[0]["source_file"] == "geo/rivers.txt"


def test_cancelling_a_running_ingest_job_stops_it_between_files(tmp_path, embedder):
    """DELETE /jobs/{id} on a running ingest job (threads, embedded Chroma; 2-chunk batches so it stops early): the
    job stops before its next file, reads cancelled with the files written and those not ingested, the store holds
    each file whole (new or old version), sending the files again completes it, and the spool is gone."""
    settings = Settings(data_dir=tmp_path / "data", generator="extractive", admin_key="admin-secret", index_batch_size=2)
    app = create_app(components=build_components(settings, embedder=embedder))
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=120, headers=ADMIN) as client:
        cancel_running_ingest(client)
    assert list((settings.data_dir / "spool" / "transcripts").iterdir()) == []
