"""The web app's forms over HTTP without a browser: plain (no JavaScript) posts, upload and text limits, read keys."""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from edurag.components import build_components
from edurag.settings import Settings
from ingestion.service import ingest_standards
from service.app import create_app
from tests.utils.jobs import long_items

LESSON = "Students compare unit rates using ratio tables and double number lines to find the better buy."


@pytest.fixture(scope="module")
def components(tmp_path_factory: pytest.TempPathFactory, standards_subset_dir: Path, embedder):
    settings = Settings(data_dir=tmp_path_factory.mktemp("web-forms"), standards_dir=standards_subset_dir,
                        generator="extractive", admin_key="admin-secret", max_text_bytes=2_000, max_upload_bytes=5_000)
    c = build_components(settings, embedder=embedder)
    ingest_standards(c)
    return c


def _client(c, **settings) -> TestClient:
    return TestClient(create_app(components=dataclasses.replace(c, settings=c.settings.model_copy(update=settings))))


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_plain_form_post_renders_a_whole_page_with_escaped_text(components):
    with _client(components) as client:
        token = _token(client.get("/").text)
        page = client.post("/app/align", data={"csrf_token": token, "text": LESSON + " <b>bold</b>", "grade": "6"})
        assert page.status_code == 200 and page.text.lstrip().lower().startswith("<!doctype html>")
        assert 'class="standard"' in page.text and "&lt;b&gt;bold&lt;/b&gt;" in page.text and "<b>bold</b>" not in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]


def test_limits_match_the_api(components):
    with _client(components) as client:
        token = _token(client.get("/").text)
        too_long = client.post("/app/align", data={"csrf_token": token, "text": "word " * 500})
        assert too_long.status_code == 413 and "2,000-byte limit" in too_long.text
        big = client.post("/app/align", data={"csrf_token": token},
                          files={"file": ("big.txt", b"a " * 3_000, "text/plain")})
        assert big.status_code == 413 and "5,000-byte limit" in big.text
        empty = client.post("/app/align", data={"csrf_token": token, "text": "   "})
        assert empty.status_code == 422
        bad_k = client.post("/app/align", data={"csrf_token": token, "text": LESSON, "k": "500"})
        assert bad_k.status_code == 422 and "k must be between 1 and" in bad_k.text
        assert "{&#39;field&#39;" not in bad_k.text and "{'field'" not in bad_k.text and "body.k" not in bad_k.text
        assert client.post("/app/align", data={"text": LESSON}).status_code == 403  # no CSRF token


def test_read_keys_protect_the_pages_too(components):
    with _client(components, api_keys=["teacher-key"]) as client:
        assert client.get("/").status_code == 401
        assert client.get("/app/standards/6.RP.A.3").status_code == 401
        token = _token(client.get("/app/admin").text)
        assert client.post("/app/admin/signin", data={"csrf_token": token, "key": "nope"}).status_code == 403
        signed = client.post("/app/admin/signin", data={"csrf_token": token, "key": "teacher-key"})
        assert signed.status_code == 200 and signed.url.path == "/"
        assert client.get("/app/standards/6.RP.A.3").status_code == 200
        token = _token(client.get("/app/admin").text)
        assert client.post("/app/admin/rollback", data={"csrf_token": token}).status_code == 401  # a reader, not admin


def test_bulk_job_from_files_can_be_cancelled(components):
    with _client(components, max_text_bytes=10**6, max_upload_bytes=10**7, job_threads=1) as client:
        token = _token(client.get("/app/summarize").text)
        files = [("files", (f"{item['id']}.txt", item["text"].encode(), "text/plain")) for item in long_items(12)]
        created = client.post("/app/summarize", data={"csrf_token": token}, files=files, follow_redirects=False)
        assert created.status_code == 303
        job_url = created.headers["location"]
        cancelled = client.post(f"{job_url}/cancel", data={"csrf_token": token})
        assert cancelled.status_code == 200 and 'data-status="cancelled"' in cancelled.text
        assert "Cancel the job" not in cancelled.text
        assert client.post(f"{job_url}/cancel", data={"csrf_token": token}).status_code == 409


def test_finished_bulk_job_page_lists_its_summaries(components):
    """A bulk summary job's page showed only counters and download links; once the job ends it lists each file's
    summary (the first one open), in input order, with the files' titles."""
    lessons = {"ratios.txt": "Teacher: Today we compare unit rates. Which store has the better buy per pound?\n"
                             "Student: The second store, because three dollars for two pounds is less per pound.",
               "fractions.txt": "Teacher: What is three fourths plus one half?\nStudent: Five fourths, one and a "
                                "fourth, because one half is two fourths."}
    with _client(components, max_text_bytes=10**6, max_upload_bytes=10**7) as client:
        token = _token(client.get("/app/summarize").text)
        files = [("files", (name, text.encode(), "text/plain")) for name, text in lessons.items()]
        created = client.post("/app/summarize", data={"csrf_token": token}, files=files, follow_redirects=False)
        job_url = created.headers["location"]
        for _ in range(300):
            page = client.get(job_url).text
            if 'data-status="running"' not in page and 'data-status="queued"' not in page:
                break
            time.sleep(0.2)
    assert 'data-status="succeeded"' in page
    listed = page.split('class="job-results"', 1)[1]
    assert listed.index("ratios") < listed.index("fractions") and listed.count('<details class="job-summary"') == 2
    assert "unit rates" in listed or "better buy" in listed
    assert '<details class="job-summary" open>' in listed


def test_align_page_lists_practices_apart_from_standards(full_components):
    lesson = ("Students construct viable arguments and critique the reasoning of others (MP3) while they compare unit "
              "rates with ratio tables and double number lines.")
    with _client(full_components) as client:
        token = _token(client.get("/").text)
        page = client.post("/app/align", data={"csrf_token": token, "text": lesson})
    assert page.status_code == 200
    practices = page.text.split('class="practices card"', 1)[1].split("</div>", 1)[0]
    assert "MP.3" in practices and "named in the text" in practices
    standards = page.text.split('<ol class="standards">', 1)[1].split("</ol>", 1)[0]
    assert re.findall(r'<li class="standard"', standards) and "MP." not in standards


def test_align_page_highlights_passages_of_a_lesson_written_in_tex(components):
    """A lesson page's TeX math (how Illustrative Mathematics writes numbers) is shown as /align read it, as text, so the
    passages that matched are found in it and highlighted."""
    lesson = (r"Students compare unit rates: a recipe uses \(\frac{3}{4}\) cup of flour for every \(2\) cups of sugar."
              r" Use ratio tables and double number lines to find the better buy at \(\$3 \boldcdot 4\).")
    with _client(components) as client:
        token = _token(client.get("/").text)
        page = client.post("/app/align", data={"csrf_token": token, "text": lesson})
    assert page.status_code == 200
    shown = page.text.split('class="lesson card"', 1)[1].split("</div>", 1)[0]
    assert "<mark" in shown and "3/4 cup of flour" in shown and "\\frac" not in shown
