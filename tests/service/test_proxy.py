"""compose.yaml's reverse proxy (deploy/nginx.conf) run as the same process, nginx, in front of a real uvicorn:
oversize bodies are refused at the edge, slow bodies time out there, request ids reach the API."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from edurag.components import build_components
from edurag.settings import Settings
from service.app import create_app
from tests.utils.servers import free_port, serve_app, wait_http

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")


@pytest.fixture(scope="module")
def proxy(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("proxy")
    app = create_app(components=build_components(Settings(data_dir=root / "data", generator="extractive"), embedder=embedder))
    with serve_app(app) as api:
        port = free_port()
        # The shipped file, with only the upstream address, the port and (to keep the test short) the body timeout
        # changed; every other limit is the one compose runs.
        conf = CONF.read_text().replace("server api:8000", f"server 127.0.0.1:{api.rsplit(':', 1)[1]}") \
            .replace("listen 8080", f"listen 127.0.0.1:{port}").replace("client_body_timeout 30s", "client_body_timeout 2s")
        (root / "nginx.conf").write_text(conf)
        for sub in ("logs", "tmp"):
            (root / sub).mkdir()
        proc = subprocess.Popen([NGINX, "-p", str(root), "-c", str(root / "nginx.conf"), "-g",
                                 f"daemon off; pid {root}/nginx.pid; error_log {root}/logs/error.log;"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_http(f"http://127.0.0.1:{port}/health", timeout=30)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def test_proxy_passes_requests_with_a_request_id(proxy):
    response = httpx.get(f"{proxy}/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert len(response.headers["x-request-id"]) == 32  # nginx's $request_id, logged by the API


def test_proxy_refuses_an_oversize_body_before_the_api(proxy):
    host, port = proxy.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /align HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 70000000\r\n\r\n")
        assert sock.recv(4096).split(b" ", 2)[1] == b"413"


def test_proxy_drops_a_slow_body(proxy):
    host, port = proxy.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /align HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        answer = sock.recv(4096)
        assert time.monotonic() - started < 15
        assert answer == b"" or answer.split(b" ", 2)[1] == b"408"
