"""Issue #17 item 7: the OpenAPI document describes the service. schemathesis (every check: server errors, status
codes, content types, response schemas, negative and positive data, auth, Allow headers, stateful links) runs a
bounded number of examples per operation against a real uvicorn serving real Chroma, and must find 0 failures.

Routes added later are fuzzed too: they only need to declare their errors with `service.errors.errors(...)`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from edurag.components import build_components
from edurag.settings import Settings
from ingestion.service import ingest_standards
from service.app import create_app
from tests.conftest import FIXTURES
from tests.utils.servers import serve_app

EXAMPLES = 10


@pytest.fixture(scope="module")
def url(tmp_path_factory, embedder, standards_subset_dir):
    root = tmp_path_factory.mktemp("openapi")
    shutil.copytree(standards_subset_dir, root / "standards")
    settings = Settings(data_dir=root / "data", standards_dir=root / "standards", generator="extractive",
                        admin_key="admin-secret", job_threads=1)
    c = build_components(settings, embedder=embedder)
    ingest_standards(c)
    with serve_app(create_app(components=c)) as base:
        # Built once per data dir or test run, not per request: the crosswalk's vectors and /align's query encoder.
        # Built here, so that no fuzzed request's response time includes them.
        headers = {"Authorization": "Bearer admin-secret"}
        httpx.post(f"{base}/crosswalk", json={"from": "ccss", "to": "ccss", "code": "6.RP.A.3"}, headers=headers,
                   timeout=120).raise_for_status()
        httpx.post(f"{base}/align", json={"text": "Students compare unit rates."}, headers=headers,
                   timeout=120).raise_for_status()
        yield base


def test_schemathesis_all_checks_pass(url, tmp_path):
    st = Path(sys.executable).parent / "st"
    command = [str(st), "--config-file", str(FIXTURES / "schemathesis.toml"), "run", f"{url}/openapi.json",
               "--checks", "all", "--max-examples", str(EXAMPLES), "--seed", "17", "--request-timeout", "120",
               "--continue-on-failure", "--header", "Authorization: Bearer admin-secret", "--no-color",
               "--report", "junit", "--report-dir", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1500)
    summary = done.stdout[-6000:]
    assert done.returncode == 0, summary
    assert " passed" in summary or "No issues found" in summary, summary
