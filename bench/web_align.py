"""A 2,000-word lesson aligned in the web page, timed in Chromium (Playwright on the system browser).

Measures, on the full bundled standards served by `edurag serve` (the embedder backend `make run` uses):
  page   - click "Align" until htmx has swapped the results in and the browser painted them (performance.now()),
  api    - POST /align with the same text from Python, for the share of the page time the server takes.
Lessons are real ones from ../shared/data/alignment/im_lessons_tagged.jsonl joined to 2,000 words. Goal: page < 1 s.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import markdown_table, percentiles
from bench.query import serve

LESSONS = Path(__file__).resolve().parents[2] / "shared" / "data" / "alignment" / "im_lessons_tagged.jsonl"
CHROMIUM = os.environ.get("EDURAG_CHROMIUM", "/usr/bin/chromium")
# Fill the textarea, click Align, resolve after htmx settles the swap and the next frame is painted.
ALIGN_IN_PAGE = """async (text) => {
  document.querySelector('#text').value = text;
  const settled = new Promise(resolve => document.body.addEventListener('htmx:afterSettle', resolve, {once: true}));
  const started = performance.now();
  document.querySelector('#align-form button[type=submit]').click();
  await settled;
  await new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  if (!document.querySelector('#results li.standard')) throw new Error('no standards in the page');
  return performance.now() - started;
}"""


def lessons(n: int, words: int) -> list[str]:
    """n texts of exactly `words` words, each joined from consecutive real lessons (a different start each time)."""
    rows = [json.loads(line)["text"] for line in LESSONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = []
    for i in range(n):
        pieces, count, j = [], 0, i * 7
        while count < words:
            text = rows[j % len(rows)].split()
            pieces.append(" ".join(text[:words - count]))
            count += min(len(text), words - count)
            j += 1
        out.append("\n\n".join(pieces))
    return out


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(runs: int, words: int, backend: str, port: int, data_dir: Path) -> str:
    """Ingest the standards, serve them, time alignment in the page and over the API."""
    from playwright.sync_api import sync_playwright

    from edurag.components import build_components
    from edurag.settings import Settings
    from ingestion.service import ingest_standards

    ingest_standards(build_components(Settings(data_dir=data_dir, generator="extractive", embedding_backend=backend)))
    env = {**os.environ, "EDURAG_DATA_DIR": str(data_dir), "EDURAG_GENERATOR": "extractive", "EDURAG_API_KEYS": "",
           "EDURAG_EMBEDDING_BACKEND": backend}
    texts = lessons(runs, words)
    page_ms, api_s = [], []
    proc = serve(env, port)
    try:
        url = f"http://127.0.0.1:{port}"
        with sync_playwright() as p, httpx.Client(base_url=url, timeout=60) as client:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(url + "/")
            page.evaluate(ALIGN_IN_PAGE, texts[0])  # warm-up
            client.post("/align", json={"text": texts[0], "k": 5}).raise_for_status()
            for text in texts:  # interleaved, so machine load hits both alike
                page.goto(url + "/")
                page_ms.append(page.evaluate(ALIGN_IN_PAGE, text))
                started = time.perf_counter()
                client.post("/align", json={"text": text, "k": 5}).raise_for_status()
                api_s.append(time.perf_counter() - started)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    page_p, api_p = percentiles([ms / 1000 for ms in page_ms]), percentiles(api_s)
    table = markdown_table(["measured", "words", "runs", "p50 ms", "p95 ms", "p99 ms"], [
        [f"Align page in Chromium (click -> results painted), {backend}", f"{words:,}", runs, page_p["p50"], page_p["p95"], page_p["p99"]],
        [f"POST /align, same texts, {backend}", f"{words:,}", runs, api_p["p50"], api_p["p95"], api_p["p99"]],
    ])
    verdict = "meets" if page_p["p95"] < 1000 else "misses"
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (f"{table}\n\nPage p50 / API p50 = {page_p['p50'] / api_p['p50']:.2f}; "
            f"the page {verdict} the 1 s goal at p95 ({page_p['p95']:.0f} ms). "
            f"Load average at the end (1, 5, 15 min): {load} on {os.cpu_count()} cores.")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--words", type=int, default=2000)
    parser.add_argument("--backend", default="onnx-int8", help="embedder backend (make run serves onnx-int8)")
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument("--data-dir", type=Path, default=None, help="scratch data dir (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="edurag-bench-web-") as scratch:
        print(main(args.runs, args.words, args.backend, args.port or free_port(), args.data_dir or Path(scratch)))
