"""`edurag summarize` as a real subprocess: every bad file reported, and the same result keys locally and with --server
(a real uvicorn serving the jobs API on in-process threads)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from edurag.components import build_components
from edurag.settings import Settings
from service.app import create_app
from tests.utils.servers import serve_app

LESSON = ("Teacher: Today we compare ratios. Who can tell me what a ratio compares?\n"
          "Student: It compares two quantities.\nTeacher: Right. A ratio table lists equivalent ratios.\n")


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "EDURAG_DATA_DIR": str(data_dir), "EDURAG_GENERATOR": "extractive",
           "EDURAG_EMBEDDING_BACKEND": "torch"}
    return subprocess.run([sys.executable, "-m", "edurag.cli", "summarize", *args], env=env, capture_output=True,
                          text=True, timeout=600)


def test_every_bad_file_is_reported(tmp_path):
    """newuser9 item 14: `edurag summarize bad1.vtt bad2.vtt` stopped at the first bad file."""
    (tmp_path / "bad1.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:0x.000\nHello class.\n")
    (tmp_path / "bad2.vtt").write_text("no header here\n")
    (tmp_path / "good.txt").write_text(LESSON)
    out = _cli(tmp_path / "data", str(tmp_path / "bad1.vtt"), str(tmp_path / "good.txt"), str(tmp_path / "bad2.vtt"))
    assert out.returncode == 2
    errors = " ".join(out.stderr.split())
    assert "bad1.vtt: WebVTT line 3" in errors and "bad2.vtt: WebVTT" in errors, out.stderr


def test_local_and_server_results_have_the_same_keys(tmp_path, embedder):
    """newuser9 item 14: local --out wrote "source", --server wrote "id" and "status"."""
    (tmp_path / "lesson.txt").write_text(LESSON)
    local = _cli(tmp_path / "data", str(tmp_path / "lesson.txt"), "--out", str(tmp_path / "local.jsonl"))
    assert local.returncode == 0, local.stderr
    settings = Settings(data_dir=tmp_path / "api", generator="extractive", admin_key="k")
    with serve_app(create_app(components=build_components(settings, embedder=embedder))) as url:
        remote = _cli(tmp_path / "data", str(tmp_path / "lesson.txt"), "--server", url, "--out", str(tmp_path / "remote.jsonl"))
    assert remote.returncode == 0, remote.stderr
    [mine] = [json.loads(x) for x in (tmp_path / "local.jsonl").read_text().splitlines()]
    [theirs] = [json.loads(x) for x in (tmp_path / "remote.jsonl").read_text().splitlines()]
    assert list(mine) == list(theirs)
    assert (mine["id"], mine["status"], mine["error"]) == (theirs["id"], theirs["status"], theirs["error"]) == (
        "transcript:lesson.txt", "succeeded", None)
    assert mine["summary"] == theirs["summary"]
