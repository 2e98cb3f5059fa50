"""The web app in a real browser: Playwright driving the system Chromium against uvicorn, real Chroma, real models.

Every page's main path, bad uploads, escaping, CSRF, the admin sign-in, bulk-job progress to 100%, phone width and
the self-hosted /docs and /redoc. Every request to a host outside this machine is aborted and must never happen.
Screenshots go to $EDURAG_SCREENSHOT_DIR (docs/screenshots holds the current ones) or a temporary folder.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from edurag.components import build_components
from edurag.settings import Settings
from ingestion.service import ingest_standards
from service.app import create_app
from tests.conftest import FIXTURES
from tests.utils.browser import CHROMIUM, block_outside, needs_chromium
from tests.utils.jobs import dialogues
from tests.utils.servers import serve_app

pytestmark = needs_chromium
ADMIN_KEY = "admin-secret"
LESSON = ("Lesson: Comparing unit rates\n\nWarm-up. A recipe uses 3 cups of flour for every 2 cups of sugar. "
          "Students build a ratio table and find equivalent ratios.\n\n"
          "Activity. Students compare unit prices at two stores using double number lines and tables of equivalent "
          "ratios, then find the unit rate (price per ounce) to decide which is the better buy.\n\n"
          "Cool-down. Explain how you used the unit rate to compare the two offers.")
LESSON_PLAN = (FIXTURES / "lesson_ratios.txt").read_text(encoding="utf-8")
TIMEOUT_MS = 90_000
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def components(tmp_path_factory: pytest.TempPathFactory, standards_subset_dir: Path, embedder):
    settings = Settings(data_dir=tmp_path_factory.mktemp("web-data"), standards_dir=standards_subset_dir,
                        generator="extractive", admin_key=ADMIN_KEY, job_threads=1)
    c = build_components(settings, embedder=embedder)
    ingest_standards(c)
    return c


@pytest.fixture(scope="module")
def base_url(components):
    with serve_app(create_app(components=components)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("EDURAG_SCREENSHOT_DIR") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def context(browser, base_url):
    """A fresh browser profile (no cookies) that may reach only this machine."""
    blocked: list[str] = []
    ctx = browser.new_context(base_url=base_url, viewport={"width": 1100, "height": 860}, accept_downloads=True)
    ctx.set_default_timeout(TIMEOUT_MS)
    block_outside(ctx, blocked)
    yield ctx
    ctx.close()
    assert blocked == [], f"the page tried to reach outside hosts: {blocked}"


@pytest.fixture
def page(context):
    p = context.new_page()
    dialogs: list[str] = []
    p.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    p.dialogs = dialogs
    return p


def shoot(page, shots: Path, name: str, full_page: bool = False) -> None:
    """A PNG of the page, reduced to a 128-colour palette (text screenshots stay sharp at a third of the size)."""
    from PIL import Image

    path = shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    Image.open(path).convert("RGB").quantize(colors=128, dither=Image.Dither.NONE).save(path, optimize=True)


def unlabeled_controls(page) -> list[str]:
    """Visible form controls without a label (own <label for>, wrapping label or aria-label)."""
    return page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(el => el.type !== 'hidden' && !el.hidden && el.offsetParent !== null)
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
        .map(el => el.outerHTML)""")


def align(page, text: str, grade: str = "") -> None:
    page.goto("/")
    page.fill("#text", text)
    if grade:
        page.select_option("#grade", grade)
    page.click("button:has-text('Align')")


def test_align_page_ranks_highlights_and_exports(page, shots):
    align(page, LESSON_PLAN, grade="6")
    first = page.locator("li.standard").first
    first.wait_for()
    assert page.locator("li.standard").count() == 5
    assert first.locator("h3 a").inner_text().startswith("6.RP.")
    assert page.locator(".answer p").first.inner_text().strip()
    assert page.locator(".answer a.citation").count() >= 1
    marks = page.locator(".lesson mark")
    assert marks.count() >= 1, "the matched passages are highlighted in the lesson"
    assert len(" ".join(marks.all_inner_texts())) < len(LESSON_PLAN), "only the matching passages are marked"
    assert unlabeled_controls(page) == []
    page.locator("#results-heading").scroll_into_view_if_needed()
    page.evaluate("document.querySelector('#results-heading').scrollIntoView()")
    shoot(page, shots, "align")
    page.locator("li.standard .matched a").first.click()
    assert page.url.endswith("#m-1")
    assert page.locator("#m-1 + sup.marker").inner_text() == "1"
    shoot(page, shots, "align-highlight")

    with page.expect_download() as download:
        page.click("button:has-text('Download CSV')")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    ranked = [r for r in rows if r["rank"] != "practice"]
    assert [r["code"] for r in ranked] == page.locator("li.standard h3 a").all_inner_texts()
    assert rows[0]["rank"] == "1" and rows[0]["matched_passage"]

    page.emulate_media(media="print")
    assert not page.locator("header.site").is_visible() and not page.locator("#align-form").is_visible()
    assert page.locator("li.standard").first.is_visible()


def test_framework_choices_show_titles_and_send_the_id(page):
    """newuser12 finding 15: the Framework dropdown showed ids in capitals ("TX-TEKS-2012"); it shows each
    framework's title, and the form still sends the id."""
    titles = [["ccss", "Common Core State Standards (Mathematics and English Language Arts/Literacy)"],
              ["ngss", "Next Generation Science Standards (performance expectations)"]]
    for path, select in (("/", "#framework"), ("/app/ask", "#ask-framework")):
        page.goto(path)
        assert page.locator(f"{select} option").evaluate_all("os => os.map(o => [o.value, o.textContent])")[1:] == titles
    page.goto("/")
    page.fill("#text", "Students plan an investigation of the forces on a cart and the motion that results.")
    page.select_option("#framework", label=titles[1][1])
    page.click("button:has-text('Align')")
    page.locator("li.standard").first.wait_for()
    assert all(meta.startswith("NGSS ·") for meta in page.locator("li.standard .meta").all_inner_texts())
    assert page.locator("#framework").input_value() == "ngss"


def test_user_text_is_escaped(page):
    hostile = '<script>alert("xss")</script><img src=x onerror="alert(1)"> Students find unit rates.'
    align(page, hostile)
    page.locator("li.standard").first.wait_for()
    assert page.dialogs == []
    assert "<script>alert(\"xss\")</script>" in page.locator(".lesson").inner_text()
    assert page.locator("#results script, #results img").count() == 0


def test_lesson_files_docx_pdf_and_bad_uploads(page, tmp_path: Path):
    import docx

    document = docx.Document()
    for paragraph in LESSON.split("\n\n"):
        document.add_paragraph(paragraph)
    document.save(tmp_path / "lesson.docx")
    page.goto("/")
    page.set_input_files("#file", str(tmp_path / "lesson.docx"))
    page.click("button:has-text('Align')")
    assert page.locator("li.standard h3 a").first.inner_text().startswith("6.RP.")
    assert "double number lines" in page.locator(".lesson").inner_text()

    pdf_page = page.context.new_page()
    pdf_page.set_content("<p>" + LESSON.replace("\n\n", "</p><p>") + "</p>")
    (tmp_path / "lesson.pdf").write_bytes(pdf_page.pdf())
    pdf_page.close()
    page.goto("/")
    page.set_input_files("#file", str(tmp_path / "lesson.pdf"))
    page.click("button:has-text('Align')")
    assert page.locator("li.standard h3 a").first.inner_text().startswith("6.RP.")

    bad = {"virus.exe": b"MZ\x90\x00", "latin1.txt": "Schüler vergleichen Raten".encode("latin-1"),
           "broken.pdf": b"%PDF-1.4 this is not really a pdf", "broken.docx": b"PK\x03\x04 not a zip"}
    expected = {"virus.exe": "unsupported file type", "latin1.txt": "not valid UTF-8",
                "broken.pdf": "not a readable PDF", "broken.docx": "not a readable DOCX"}
    for name, data in bad.items():
        page.goto("/")
        page.set_input_files("#file", files=[{"name": name, "mimeType": "application/octet-stream", "buffer": data}])
        page.click("button:has-text('Align')")
        error = page.locator("#results .error")
        error.wait_for()
        assert error.get_attribute("data-status") == "400"
        assert name in error.inner_text() and expected[name] in error.inner_text()


def test_long_lesson_keeps_the_layout_at_phone_width(context, shots):
    page = context.new_page()
    page.set_viewport_size({"width": 375, "height": 800})
    words = (LESSON.split() * 80)[:5000]
    long_lesson = "\n\n".join(" ".join(words[i:i + 120]) for i in range(0, len(words), 120))
    long_lesson += " " + "x" * 400  # one unbroken 400-character token
    align(page, long_lesson)
    page.locator("li.standard").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.locator(".lesson").bounding_box()["height"] < 900, "a long lesson scrolls inside its box"
    shoot(page, shots, "align-phone")


def test_keyboard_only_ask_with_clickable_citations(page, shots):
    page.goto("/app/ask")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "question":
            break
    assert page.evaluate("document.activeElement.id") == "question"
    page.keyboard.type("How does 6.RP.A.3 relate to 7.RP.A.2?")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Ask":
            break
    page.keyboard.press("Enter")
    answer = page.locator("#answer .answer")
    answer.wait_for()
    citations = page.locator("#answer a.citation").all_inner_texts()
    assert {"6.RP.A.3", "7.RP.A.2"} <= set(citations)
    assert unlabeled_controls(page) == []
    shoot(page, shots, "ask")
    page.locator("#answer a.citation", has_text="7.RP.A.2").first.click()
    expect(page.locator("h1")).to_have_text("7.RP.A.2")


def test_standard_page_any_code_form_and_graph_click_through(page, shots):
    page.goto("/app/standards/CCSS.Math.Content.6.RP.A.3")
    assert page.locator("h1").inner_text() == "6.RP.A.3"
    assert "Ratios & Proportional Relationships" in page.locator(".facts").inner_text()
    nodes = page.locator("svg a.node")
    assert nodes.count() >= 2
    assert page.locator("svg a.node-to").count() >= 1
    shoot(page, shots, "standard", full_page=True)
    node = page.locator("svg a.node-to").last
    target = node.get_attribute("aria-label").split(" ")[0]
    node.click()
    expect(page.locator("h1")).to_have_text(target)

    page.goto("/app/standards/6.RP.3")  # legacy form
    assert page.locator("h1").inner_text() == "6.RP.A.3"
    page.fill("#code", "MS-PS1-2")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("MS-PS1-2")
    assert page.locator("svg a.node-connection").count() >= 1, "NGSS connections are drawn"
    response = page.goto("/app/standards/9.ZZ.Q.9")
    assert response.status == 404 and "unknown standard code" in page.locator(".error").inner_text()


def test_summarize_pasted_transcript(page, shots):
    page.goto("/app/summarize")
    page.fill("#text", dialogues()[0]["text"])
    page.click("button:has-text('Summarize')")
    summary = page.locator("#summary .summary-text")
    summary.wait_for()
    assert len(summary.inner_text().split()) >= 5
    assert unlabeled_controls(page) == []
    page.evaluate("document.querySelector('#summary-heading').scrollIntoView()")
    shoot(page, shots, "summarize")


def test_bulk_job_progress_reaches_100_percent(page, shots):
    files = [{"name": f"{d['id']}.txt", "mimeType": "text/plain", "buffer": d["text"].encode()} for d in dialogues()[:5]]
    files.append({"name": "bad.txt", "mimeType": "text/plain", "buffer": b"\xff\xfe not utf-8"})
    page.goto("/app/summarize")
    page.set_input_files("#files", files=files)
    page.click("button:has-text('Summarize')")
    page.wait_for_url(re.compile(r"/app/jobs/[0-9a-f]+$"))
    seen = set()
    job = page.locator(".job")
    for _ in range(600):
        seen.add(job.locator("label").inner_text())
        if job.get_attribute("data-status") not in ("queued", "running"):
            break
        page.wait_for_timeout(250)
    assert job.get_attribute("data-status") == "succeeded"
    bar = job.locator("progress")
    assert bar.get_attribute("value") == bar.get_attribute("max") == "6"
    assert "6 of 6 done (100.0%)" in job.locator("label").inner_text()
    assert "bad.txt" in job.locator(".problems").inner_text() and "not valid UTF-8" in job.locator(".problems").inner_text()
    shoot(page, shots, "job")
    with page.expect_download() as download:
        page.click("a:has-text('CSV')")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert len([r for r in rows if r["status"] == "succeeded" and r["summary"]]) == 5
    with page.expect_download() as download:
        page.click("a:has-text('JSONL')")
    assert len(Path(download.value.path()).read_text(encoding="utf-8").splitlines()) == 6


def test_admin_actions_need_sign_in(page):
    page.goto("/app/admin")
    assert page.locator("#key").is_visible() and page.locator("#ingest-files").count() == 0
    response = page.request.post("/app/admin/reindex", headers={"HX-Request": "true"})
    assert response.status == 401 and "sign in" in response.text()
    page.fill("#key", "wrong-key")
    page.click("button:has-text('Sign in')")
    assert "not right" in page.locator(".error").inner_text()


def test_admin_signed_in_session(page, shots, tmp_path: Path):
    page.goto("/app/admin")
    assert "The service is running normally." in page.locator(".health").inner_text()
    page.fill("#key", ADMIN_KEY)
    page.click("button:has-text('Sign in')")
    page.locator("#ingest-files").wait_for()
    assert ADMIN_KEY not in page.url
    cookie = next(c for c in page.context.cookies() if c["name"] == "edurag_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["expires"] == -1
    assert ADMIN_KEY not in cookie["value"]

    lecture = tmp_path / "lecture-ratios.txt"
    lecture.write_text(LESSON * 4, encoding="utf-8")
    records = tmp_path / "dialogues.jsonl"
    records.write_text("".join(json.dumps({"id": d["id"], "text": d["text"]}) + "\n" for d in dialogues()[:3]))
    page.set_input_files("#ingest-files", [str(lecture), str(records)])
    page.click("button:has-text('Ingest')")
    table = page.locator("#admin-result table")
    table.wait_for()
    assert "lecture-ratios.txt" in table.inner_text() and "dialogues.jsonl" in table.inner_text()

    page.set_input_files("#ingest-files", files=[{"name": "bad.txt", "mimeType": "text/plain", "buffer": b"\xff"}])
    page.click("button:has-text('Ingest')")
    expect(page.locator("#admin-result .error")).to_contain_text("bad.txt: not valid UTF-8")

    expect(page.locator("#sources")).to_contain_text("lecture-ratios.txt")
    assert "dialogues.jsonl" in page.locator("#sources").inner_text()
    page.click("#sources button[aria-label='Delete lecture-ratios.txt']")
    expect(page.locator("#admin-result")).to_contain_text("Removed")
    expect(page.locator("#sources")).not_to_contain_text("lecture-ratios.txt")

    page.click("button:has-text('Re-index the standards')")
    job = page.locator("#admin-result .job")
    job.wait_for()
    expect(job).to_have_attribute("data-status", "succeeded", timeout=300_000)
    page.goto("/app/admin")
    assert "kept for rollback" in page.locator("#index-heading + p").inner_text()
    shoot(page, shots, "admin", full_page=True)
    page.click("button:has-text('Roll back')")
    expect(page.locator("#admin-result")).to_contain_text("Rolled back")
    page.click("button:has-text('Reload adapters')")
    expect(page.locator("#admin-result .error")).to_contain_text("no adapters")  # the extractive generator has none

    page.context.clear_cookies()  # the browser session ends: the next action asks to sign in again
    page.click("button:has-text('Re-index the standards')")
    expect(page.locator("#admin-result .error")).to_have_attribute("data-status", "401")


def test_admin_ingest_puts_the_files_in_a_course(page, tmp_path: Path):
    """newuser12 finding 12: the browser sends bare file names, so the admin form made a courseless second copy of
    `math7/unit rates.srt`; its course field puts the files in the folder the API reads the course from."""
    page.goto("/app/admin")
    page.fill("#key", ADMIN_KEY)
    page.click("button:has-text('Sign in')")
    page.locator("#ingest-files").wait_for()
    captions = tmp_path / "unit rates.srt"
    captions.write_text("1\n00:00:00,000 --> 00:00:04,000\n<i>[Teacher]</i> The price per pound is the unit rate of "
                        "the bananas.\n", encoding="utf-8")
    page.fill("#ingest-course", "math7")
    page.set_input_files("#ingest-files", [str(captions)])
    page.click("button:has-text('Ingest')")
    expect(page.locator("#admin-result table")).to_contain_text("math7/unit rates.srt")
    expect(page.locator("#sources")).to_contain_text("math7/unit rates.srt")
    hits = page.request.post("/transcripts/search", data={"text": "price per pound of bananas", "k": 1, "course": "math7"}).json()
    assert [(h["source_file"], h["course"]) for h in hits] == [("math7/unit rates.srt", "math7")]
    assert hits[0]["text"].startswith("Teacher: The price per pound")
    page.click("#sources button[aria-label='Delete math7/unit rates.srt']")
    expect(page.locator("#sources")).not_to_contain_text("unit rates.srt")


def test_forms_without_the_csrf_token_are_refused(page):
    page.goto("/")
    response = page.request.post("/app/align", form={"text": LESSON})
    assert response.status == 403
    page.goto("/app/admin")
    page.fill("#key", ADMIN_KEY)
    page.click("button:has-text('Sign in')")
    page.locator("#ingest-files").wait_for()
    response = page.request.post("/app/admin/rollback", form={"csrf_token": "forged"})
    assert response.status == 403


@pytest.mark.parametrize("path,ready", [("/docs", ".swagger-ui .opblock"), ("/redoc", "[data-section-id] h2")])
def test_api_docs_render_with_outside_hosts_blocked(page, shots, path, ready):
    page.goto(path)
    page.locator(ready).first.wait_for()
    assert page.locator(ready).count() >= 5
    assert "/align" in page.content()
    shoot(page, shots, path.strip("/"))
