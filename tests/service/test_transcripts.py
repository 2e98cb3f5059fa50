"""Transcript admin over HTTP (real uvicorn, real embedded Chroma): sources identified by folder path, listing,
deletion by URL-encoded id, odd names, refused traversal."""

from __future__ import annotations

import httpx
import pytest

from edurag.components import build_components
from edurag.settings import Settings
from service.app import create_app
from tests.utils.servers import serve_app

ADMIN = {"Authorization": "Bearer admin-secret"}


@pytest.fixture(scope="module")
def api(tmp_path_factory, embedder):
    settings = Settings(data_dir=tmp_path_factory.mktemp("transcripts-api"), generator="extractive", admin_key="admin-secret")
    app = create_app(components=build_components(settings, embedder=embedder))
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
