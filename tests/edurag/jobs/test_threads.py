"""Jobs in the embedded default (in-process threads, sqlite job store): lifecycle, results, bad input, cancel, restart."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from edurag.components import build_components
from edurag.settings import Settings
from edurag.jobs.store import open_store
from service.app import create_app
from tests.utils.jobs import dialogues, long_items, wait_job

ADMIN = {"Authorization": "Bearer admin-secret"}
USER = {"Authorization": "Bearer user-key"}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, standards_subset_dir: Path) -> Settings:
    """Embedded everything in a fresh data dir; one job thread so queue order is predictable."""
    return Settings(data_dir=tmp_path_factory.mktemp("jobs-embedded"), standards_dir=standards_subset_dir,
                    generator="extractive", admin_key="admin-secret", api_keys=["user-key"], job_threads=1)


@pytest.fixture(scope="module")
def components(settings: Settings, embedder):
    """Components shared by every app of this module (the embedder loads once)."""
    return build_components(settings, embedder=embedder)


@pytest.fixture(scope="module")
def client(components):
    """A running app (lifespan started: job store open, runner threads up)."""
    with TestClient(create_app(components=components)) as test_client:
        yield test_client


def _get(client: TestClient):
    return lambda path: client.get(path, headers=USER)


def test_job_lifecycle_progress_and_results(client: TestClient):
    items = dialogues()[:6]
    response = client.post("/jobs/summarize", json={"items": items}, headers=USER)
    assert response.status_code == 202, response.text
    created = response.json()
    assert created["total"] == 6 and created["rejected"] == 0 and created["status"] == "queued"

    seen: list[tuple[str, int]] = []
    state = wait_job(_get(client), created["id"], until=lambda s: seen.append((s["status"], s["progress"]["done"])) or
                     s["status"] in ("succeeded", "failed", "cancelled"))
    assert state["status"] == "succeeded", state
    assert state["progress"] == {"done": 6, "total": 6, "succeeded": 6, "failed": 0, "percent": 100.0}
    assert state["rate_per_second"] > 0 and state["eta_seconds"] == 0 and state["errors"] == []
    assert state["started_at"] >= state["created_at"] and state["finished_at"] >= state["started_at"]
    done_seen = [d for _, d in seen]
    assert done_seen == sorted(done_seen), "progress never goes backwards"

    lines = client.get(f"/jobs/{created['id']}/results", headers=USER).text.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["id"] for r in rows] == [i["id"] for i in items]
    assert all(r["status"] == "succeeded" and r["summary"].strip() and r["chunks"] >= 1 for r in rows)

    text = client.get(f"/jobs/{created['id']}/results?format=csv", headers=USER).text
    table = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in table] == [i["id"] for i in items]
    assert [r["summary"] for r in table] == [r["summary"] for r in rows]


def test_longest_items_run_first_and_results_keep_input_order(client: TestClient, settings: Settings):
    """Longest-first keeps every worker busy to the end; the results stream still follows the input."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from edurag.jobs.store import ItemRow

    base = dialogues()[:4]
    items = [{"id": f"x{n}", "text": "\n".join(d["text"] for d in base[:n])} for n in (1, 3, 2, 4)]
    created = client.post("/jobs/summarize", json={"items": items}, headers=USER).json()
    assert wait_job(_get(client), created["id"])["status"] == "succeeded"
    with Session(open_store(settings).engine) as s:
        order = list(s.scalars(select(ItemRow.item_id).where(ItemRow.job_id == created["id"]).order_by(ItemRow.finished_at)))
    assert order == ["x4", "x3", "x2", "x1"]
    rows = [json.loads(line) for line in client.get(f"/jobs/{created['id']}/results", headers=USER).text.splitlines()]
    assert [r["id"] for r in rows] == ["x1", "x3", "x2", "x4"]


def test_plain_texts_get_positional_ids(client: TestClient):
    texts = [d["text"] for d in dialogues()[:3]]
    created = client.post("/jobs/summarize", json={"texts": texts, "strategy": "few_shot"}, headers=USER).json()
    state = wait_job(_get(client), created["id"])
    assert state["status"] == "succeeded" and state["params"]["strategy"] == "few_shot"
    rows = [json.loads(x) for x in client.get(f"/jobs/{created['id']}/results", headers=USER).text.splitlines()]
    assert [r["id"] for r in rows] == ["0", "1", "2"]


def test_malformed_uploads_are_rejected_per_item_and_the_job_continues(client: TestClient):
    good_jsonl = [json.dumps({"id": "a", "dialogue": dialogues()[0]["text"]}), "{not json",
                  json.dumps({"id": "b", "text": dialogues()[1]["text"]}), json.dumps({"id": "c", "title": "no text"})]
    files = [
        ("files", ("lesson.txt", dialogues()[2]["text"].encode(), "text/plain")),
        ("files", ("broken.vtt", b"this is not a WebVTT file\n00:00 --> nonsense", "text/vtt")),
        ("files", ("latin1.txt", "caf\xe9 na\xefve".encode("latin-1"), "text/plain")),
        ("files", ("mixed.jsonl", "\n".join(good_jsonl).encode(), "application/jsonl")),
        ("files", ("slides.pdf", b"%PDF-1.4", "application/pdf")),
        ("files", ("empty.txt", b"   \n", "text/plain")),
    ]
    response = client.post("/jobs/summarize", files=files, headers=USER)
    assert response.status_code == 202, response.text
    created = response.json()
    assert (created["total"], created["rejected"]) == (9, 6)
    state = wait_job(_get(client), created["id"])
    assert state["status"] == "succeeded"
    assert state["progress"] | {"percent": 0} == {"done": 9, "total": 9, "succeeded": 3, "failed": 6, "percent": 0}
    errors = {e["item"]: e["error"] for e in state["errors"]}
    # rejected files carry the same kind of id as accepted ones (newuser9 item 14: `broken.vtt` beside `transcript:lesson.txt`)
    assert "WEBVTT header" in errors["transcript:broken.vtt"]
    assert "not valid UTF-8" in errors["transcript:latin1.txt"]
    assert "invalid JSON" in errors["transcript:mixed.jsonl#2"]
    assert "no transcript text" in errors["transcript:mixed.jsonl#4"]
    assert "unsupported file type" in errors["transcript:slides.pdf"] and "empty" in errors["transcript:empty.txt"]
    rows = [json.loads(x) for x in client.get(f"/jobs/{created['id']}/results", headers=USER).text.splitlines()]
    ok = [r["id"] for r in rows if r["status"] == "succeeded"]
    assert ok == ["transcript:lesson.txt", "transcript:mixed.jsonl#a", "transcript:mixed.jsonl#b"]  # records' own ids
    assert {r["id"] for r in rows} == {"transcript:lesson.txt", "transcript:mixed.jsonl#a", "transcript:mixed.jsonl#b",
                                       *errors}


def test_duplicate_item_ids_are_refused_naming_the_id(client: TestClient):
    """newuser9 item 14: two items with id "a" were accepted and both results said "a"."""
    response = client.post("/jobs/summarize", json={"items": [{"id": "a", "text": "hello there."}, {"id": "b", "text": "hi."},
                                                              {"id": "a", "text": "hi again."}]}, headers=USER)
    assert response.status_code == 422 and "'a' (items 0 and 2)" in response.json()["detail"], response.text
    twice = [("files", ("week1.txt", b"Ratios compare two quantities.", "text/plain")),
             ("files", ("./week1.txt", b"Rates compare two units.", "text/plain"))]
    response = client.post("/jobs/summarize", files=twice, headers=USER)
    assert response.status_code == 422 and "'transcript:week1.txt'" in response.json()["detail"], response.text


@pytest.mark.parametrize("body,status", [
    ({"texts": ["   ", ""]}, 422),
    ({"texts": []}, 422),
    ({"texts": ["a"], "items": [{"id": "x", "text": "b"}]}, 422),
    ({"texts": ["a"], "strategy": "ten_shot"}, 422),
    ({"texts": ["a"], "adapter": "nope"}, 404),
])
def test_bad_json_submissions_queue_nothing(client: TestClient, body: dict, status: int):
    response = client.post("/jobs/summarize", json=body, headers=USER)
    assert response.status_code == status, response.text


def test_errors_and_auth(client: TestClient):
    assert client.post("/jobs/summarize", content=b"x", headers=USER | {"Content-Type": "text/plain"}).status_code == 415
    assert client.post("/jobs/summarize", json={"texts": ["hello there."]}).status_code == 401
    assert client.post("/jobs/summarize", json={"texts": ["hello there."]},
                       headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.post("/jobs/summarize", json={"texts": ["Admins may submit too."]}, headers=ADMIN).status_code == 202
    assert client.get("/jobs/unknown", headers=USER).status_code == 404
    assert client.get("/jobs/unknown/results", headers=USER).status_code == 404
    assert client.delete("/jobs/unknown", headers=USER).status_code == 404


def test_cancel_stops_the_job_and_keeps_finished_results(client: TestClient):
    created = client.post("/jobs/summarize", json={"items": long_items(60, per_item=4)}, headers=USER).json()
    wait_job(_get(client), created["id"], until=lambda s: s["progress"]["done"] >= 2)
    response = client.delete(f"/jobs/{created['id']}", headers=USER)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    time.sleep(1.5)  # an item that was mid-flight may still land; nothing after it starts
    state = client.get(f"/jobs/{created['id']}", headers=USER).json()
    assert state["status"] == "cancelled" and 2 <= state["progress"]["done"] < 60
    time.sleep(1.0)
    assert client.get(f"/jobs/{created['id']}", headers=USER).json()["progress"] == state["progress"]
    rows = client.get(f"/jobs/{created['id']}/results", headers=USER).text.splitlines()
    assert len(rows) == state["progress"]["done"]
    assert client.delete(f"/jobs/{created['id']}", headers=USER).status_code == 409


def test_restart_resumes_without_redoing_or_duplicating(components, settings: Settings):
    items = long_items(8, per_item=4)
    with TestClient(create_app(components=components)) as first:
        created = first.post("/jobs/summarize", json={"items": items}, headers=USER).json()
        before = wait_job(_get(first), created["id"], until=lambda s: s["progress"]["done"] >= 3)
    stopped = first.app.state.jobs.store.get(created["id"])  # the app is shut down: no thread is queued
    assert stopped.status == "running" and 3 <= stopped.done < 8, "the restart must interrupt the job"
    done_before = {json.loads(x)["id"] for x in first.get(f"/jobs/{created['id']}/results", headers=USER).text.splitlines()}

    with TestClient(create_app(components=components)) as second:
        state = wait_job(_get(second), created["id"])
        rows = [json.loads(x) for x in second.get(f"/jobs/{created['id']}/results", headers=USER).text.splitlines()]
    assert state["status"] == "succeeded" and state["progress"]["done"] == 8 and before["progress"]["done"] >= 3
    assert [r["id"] for r in rows] == [i["id"] for i in items]
    attempts = open_store(settings).attempts(created["id"])
    assert all(attempts[i] == 1 for i in done_before), "finished items were not redone"
    assert all(n >= 1 for n in attempts.values())


def test_job_summary_options_apply_to_every_item(client: TestClient):
    from tests.conftest import FIXTURES

    body = {"items": dialogues()[:2], "format": "bullets", "max_words": 20}
    created = client.post("/jobs/summarize", json=body, headers=USER).json()
    assert wait_job(_get(client), created["id"])["status"] == "succeeded"
    rows = [json.loads(x) for x in client.get(f"/jobs/{created['id']}/results", headers=USER).text.splitlines()]
    assert all(r["format"] == "bullets" and r["budget_words"] == 20 and 0 < r["words"] <= 20 and r["key_terms"]
               for r in rows)
    files = [("files", ("lectures.vtt", (FIXTURES / "three_lectures.vtt").read_bytes(), "text/vtt"))]
    created = client.post("/jobs/summarize", files=files, data={"format": "outline", "length": "brief"}, headers=USER).json()
    assert wait_job(_get(client), created["id"])["status"] == "succeeded"
    (row,) = [json.loads(x) for x in client.get(f"/jobs/{created['id']}/results", headers=USER).text.splitlines()]
    assert row["format"] == "outline" and row["length"] == "brief"
    assert len(row["sections"]) >= 2 and all(s["start_label"] for s in row["sections"])
    table = list(csv.DictReader(io.StringIO(client.get(f"/jobs/{created['id']}/results?format=csv", headers=USER).text)))
    assert table[0]["key_terms"] == "; ".join(row["key_terms"])
    bad = client.post("/jobs/summarize", files=files, data={"format": "essay"}, headers=USER)
    assert bad.status_code == 422 and "format" in bad.text
    # A form field is a string by nature ("60" is the number 60); in JSON a quoted number is not an integer.
    created = client.post("/jobs/summarize", files=files, data={"max_words": "60"}, headers=USER).json()
    assert wait_job(_get(client), created["id"])["status"] == "succeeded"
    (row,) = [json.loads(x) for x in client.get(f"/jobs/{created['id']}/results", headers=USER).text.splitlines()]
    assert row["budget_words"] == 60
    quoted = client.post("/jobs/summarize", json={"texts": ["Hello there."], "max_words": "60"}, headers=USER)
    assert quoted.status_code == 422 and "max_words" in quoted.text
