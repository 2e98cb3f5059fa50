"""A small HTTP client for the jobs API, used by `edurag summarize --server`."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx

from edurag.jobs.store import FINISHED

logger = logging.getLogger(__name__)


@dataclass
class JobsClient:
    """Submit summarize jobs, poll them and read their results."""

    server: str
    api_key: str | None = None
    timeout: float = 120.0
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        self.http = httpx.Client(base_url=self.server.rstrip("/"), headers=headers, timeout=self.timeout)

    def submit_files(self, files: list[Path], options: dict[str, Any] | None = None) -> dict[str, Any]:
        """Upload transcript files as one job with summary options (strategy, adapter, length, max_words, format);
        returns {"id", "total", "rejected", ...}."""
        data = {k: str(v) for k, v in (options or {}).items() if v is not None}
        upload = [("files", (f.name, f.read_bytes(), "application/octet-stream")) for f in files]
        response = self.http.post("/jobs/summarize", files=upload, data=data)
        response.raise_for_status()
        return response.json()

    def job(self, job_id: str) -> dict[str, Any]:
        """The job's status and progress."""
        response = self.http.get(f"/jobs/{job_id}")
        response.raise_for_status()
        return response.json()

    def wait(self, job_id: str, on_progress: Callable[[dict[str, Any]], None], poll: float = 1.0) -> dict[str, Any]:
        """Poll until the job ends, reporting each state; returns the final one."""
        while True:
            state = self.job(job_id)
            on_progress(state)
            if state["status"] in FINISHED:
                return state
            time.sleep(poll)

    def results(self, job_id: str) -> Iterator[str]:
        """The job's JSONL result lines."""
        with self.http.stream("GET", f"/jobs/{job_id}/results") as response:
            response.raise_for_status()
            yield from (line for line in response.iter_lines() if line.strip())
