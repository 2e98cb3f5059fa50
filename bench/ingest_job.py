"""A large transcript upload as a job (POST /ingest/transcripts with `Prefer: respond-async`) against a real `edurag
serve`: time to the 202, progress seen while it runs, time to `succeeded`, and the unchanged file re-sent
synchronously (all chunks skipped). Run: `python -m bench.ingest_job --data ../shared/data/lectures/yale_lectures_dev43.jsonl`
(optional `--limit N` lectures)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import free_port, markdown_table

KEY = "bench-admin-key"


def main(data: Path, limit: int | None, backend: str) -> str:
    """Serve a fresh data dir, upload the lectures as a job, follow it to the end; returns a Markdown table."""
    lines = [line for line in data.read_text(encoding="utf-8").splitlines() if line.strip()][:limit]
    body = ("\n".join(lines) + "\n").encode("utf-8")
    with tempfile.TemporaryDirectory(prefix="edurag-ingest-job-") as tmp:
        port = free_port()
        env = {**os.environ, "EDURAG_DATA_DIR": tmp, "EDURAG_ADMIN_KEY": KEY, "EDURAG_GENERATOR": "extractive",
               "EDURAG_EMBEDDING_BACKEND": backend}
        proc = subprocess.Popen([sys.executable, "-m", "edurag.cli", "serve", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=900,
                              headers={"Authorization": f"Bearer {KEY}"}) as http:
                deadline = time.monotonic() + 300
                while True:
                    try:
                        http.get("/health")
                        break
                    except httpx.TransportError:
                        assert time.monotonic() < deadline, "edurag serve did not start"
                        time.sleep(0.5)
                files = [("files", ("yale/lectures.jsonl", body, "application/jsonl"))]
                start = time.monotonic()
                created = http.post("/ingest/transcripts", files=files, headers={"Prefer": "respond-async"})
                accepted = time.monotonic() - start
                assert created.status_code == 202, created.text
                seen: list[tuple[float, int, int]] = []
                while True:
                    state = http.get(created.headers["location"]).json()
                    seen.append((time.monotonic() - start, state["progress"]["done"], state["progress"]["total"]))
                    if state["status"] in ("succeeded", "failed", "cancelled"):
                        break
                    time.sleep(2)
                finished = time.monotonic() - start
                assert state["status"] == "succeeded", state
                start = time.monotonic()
                again = http.post("/ingest/transcripts", files=files).json()
                resent = time.monotonic() - start
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    result = state["result"]
    steps = sorted({done for _, done, _ in seen})
    rows = [
        ["lectures / bytes", f"{len(lines)} / {len(body):,}"],
        ["202 after (s)", f"{accepted:.2f}"],
        ["job succeeded after (s)", f"{finished:.1f}"],
        ["chunks added", result["added"]],
        ["distinct progress values seen (polled every 2 s)", f"{len(steps)} (last {steps[-1]} of {seen[-1][2]})"],
        ["same file re-sent synchronously (s)", f"{resent:.1f} (skipped {again['skipped']}, added {again['added']})"],
    ]
    return markdown_table(["measure", "value"], rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="a .jsonl of transcripts (Yale lectures)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N lines")
    parser.add_argument("--backend", default="torch", help="EDURAG_EMBEDDING_BACKEND of the served API")
    args = parser.parse_args()
    print(main(args.data, args.limit, args.backend))
