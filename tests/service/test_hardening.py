"""Issue #17 items 7-8 and operations, over a real uvicorn: the admin key before any body byte, the size cap on the
stream, the body-read timeout, one error model, /metrics parsed by Prometheus' own parser, request ids in the logs,
and /health degraded (not 500) with a stopped Chroma server and a stopped Redis."""

from __future__ import annotations

import json
import logging
import select
import socket
import time
from urllib.parse import urlparse

import httpx
import pytest
from asgi_correlation_id import CorrelationIdFilter
from prometheus_client.parser import text_string_to_metric_families

from edurag.components import build_components
from edurag.settings import STANDARDS_COLLECTION, Settings
from service.app import create_app
from tests.utils.jobs import run_redis
from tests.utils.servers import run_chroma_server, serve_app
from vectorstore.chroma import get_collection

ADMIN = {"Authorization": "Bearer admin-secret"}
JSON_CAP = 20_000
UPLOAD_CAP = 200_000


@pytest.fixture(scope="module")
def components(tmp_path_factory, embedder):
    settings = Settings(data_dir=tmp_path_factory.mktemp("hardening"), generator="extractive", admin_key="admin-secret",
                        max_json_bytes=JSON_CAP, max_request_bytes=UPLOAD_CAP, body_timeout_seconds=1.5)
    c = build_components(settings, embedder=embedder)
    get_collection(c.client, STANDARDS_COLLECTION).add(
        ids=["s1"], embeddings=[embedder.encode(["ratios and unit rates"])[0].tolist()], documents=["ratios and unit rates"],
        metadatas=[{"code": "6.RP.A.3", "framework": "ccss", "subject": "math", "grades": ["6"]}])
    return c


@pytest.fixture(scope="module")
def url(components):
    with serve_app(create_app(components=components)) as base:
        yield base


def raw(url: str, request: bytes, send_after: bytes = b"", wait: float = 10.0) -> tuple[bytes, float, bool]:
    """Send raw bytes, then read the answer; returns (response bytes, seconds to the first byte, closed by server)."""
    address = urlparse(url)
    with socket.create_connection((address.hostname, address.port), timeout=wait) as sock:
        started = time.monotonic()
        sock.sendall(request)
        if send_after:
            sock.sendall(send_after)
        data = sock.recv(65536)
        first = time.monotonic() - started
        closed = False
        try:
            while chunk := sock.recv(65536):
                data += chunk
            closed = True
        except socket.timeout:
            pass
    return data, first, closed


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def body_of(response: bytes) -> dict:
    return json.loads(response.split(b"\r\n\r\n", 1)[1])


@pytest.mark.parametrize("path, content_type", [
    ("/admin/reindex", "application/json"), ("/ingest/transcripts", "multipart/form-data; boundary=x"),
    ("/admin/adapters/reload", "application/json"),
])
def test_admin_key_is_checked_before_any_body_byte(url, path, content_type):
    """A 100 MB body announced but never sent: the 401 comes back at once, so the server read none of it."""
    head = (f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: {content_type}\r\nContent-Length: 100000000\r\n\r\n").encode()
    response, first, closed = raw(url, head, wait=10)
    assert status_of(response) == 401 and first < 5 and closed
    assert body_of(response)["detail"].startswith("admin key required")
    wrong, _, _ = raw(url, head.replace(b"Content-Length", b"Authorization: Bearer nope\r\nContent-Length"))
    assert status_of(wrong) == 403


def test_malformed_body_without_key_gets_401_not_422(url):
    for body, kind in ((b"{{{not json", "application/json"), (b"\xff\xfe garbage", "multipart/form-data; boundary=zz")):
        response = httpx.post(f"{url}/admin/reindex" if "json" in kind else f"{url}/ingest/transcripts", content=body,
                              headers={"content-type": kind})
        assert response.status_code == 401, response.text
    assert httpx.post(f"{url}/admin/reindex", content=b"{{{", headers={"content-type": "application/json", **ADMIN}
                      ).status_code == 422  # with the key, the body is parsed and the problem named


def test_reindex_with_an_embedding_model_that_is_not_here_is_a_404_up_front(url):
    """Before, the job was queued (202) and failed later with "(set EDURAG_EMBEDDING_MODEL)"."""
    response = httpx.post(f"{url}/admin/reindex", json={"embedding_model": "does/not-exist"}, headers=ADMIN)
    assert response.status_code == 404, response.text
    assert response.json()["errors"] == [{"field": "body.embedding_model", "message": "embedding model 'does/not-exist' "
                                          "is not available here: give a local folder or a Hugging Face id already in the cache"}]


def test_content_length_over_the_cap_is_refused_before_reading(url):
    head = f"POST /align HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {JSON_CAP + 1}\r\n\r\n"
    response, first, closed = raw(url, head.encode())
    assert status_of(response) == 413 and first < 5 and closed
    assert "EDURAG_MAX_JSON_BYTES" in body_of(response)["detail"]
    upload = (f"POST /ingest/transcripts HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer admin-secret\r\n"
              f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {UPLOAD_CAP + 1}\r\n\r\n")
    response, _, _ = raw(url, upload.encode())
    assert status_of(response) == 413 and "EDURAG_MAX_REQUEST_BYTES" in body_of(response)["detail"]


def test_chunked_body_is_cut_at_the_cap_on_the_stream(url):
    """No Content-Length (chunked): the server counts the bytes it receives and answers 413 once the cap is passed,
    long before the client has sent everything it offers."""
    address = urlparse(url)
    chunk = b"a" * 10_000
    sent = 0
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(b"POST /align HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        response = b""
        while sent < 5_000_000:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
            ready, _, _ = select.select([sock], [], [], 0.2)
            if ready:
                response = sock.recv(65536)
                break
    assert status_of(response) == 413 and "EDURAG_MAX_JSON_BYTES" in body_of(response)["detail"]
    assert sent < 1_000_000, f"the server let {sent:,} bytes in before refusing"


def test_slow_body_gets_408_and_the_connection_is_closed(url):
    head = b"POST /align HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"text\":"
    response, first, closed = raw(url, head, wait=15)
    assert status_of(response) == 408 and 1.0 <= first < 10 and closed
    assert "EDURAG_BODY_TIMEOUT_SECONDS" in body_of(response)["detail"]


@pytest.mark.parametrize("method, path, body, status", [
    ("post", "/align", {"text": "ratios", "k": 10_000}, 422),
    ("post", "/align", {"text": "ratios", "bogus": 1}, 422),
    ("post", "/align", {"text": "   "}, 422),
    ("get", "/standards/9.ZZ.Q.99", None, 404),
    ("get", "/jobs/nope", None, 404),
    ("post", "/jobs/summarize", b"plain", 415),
    ("delete", "/ingest/transcripts/x.txt", None, 401),
    ("post", "/crosswalk", {"from": "ccss", "to": "ngss", "code": "6.RP.A.3", "text": "ratios"}, 422),
    ("post", "/crosswalk", {"from": "ccss", "to": "ngss", "code": None, "text": "ratios"}, 422),
    ("post", "/summarize", {"text": "A dialogue.", "max_words": "40"}, 422),
])
def test_every_error_has_the_problem_shape(url, method, path, body, status):
    kwargs = {"content": body, "headers": {"content-type": "text/plain"}} if isinstance(body, bytes) else \
        {"json": body} if body is not None else {}
    response = httpx.request(method.upper(), f"{url}{path}", **kwargs)
    assert response.status_code == status, response.text
    problem = response.json()
    assert set(problem) <= {"detail", "errors"} and isinstance(problem["detail"], str) and problem["detail"]
    assert all(isinstance(e["message"], str) for e in problem.get("errors", []))
    spec = httpx.get(f"{url}/openapi.json").json()
    operation = spec["paths"][path.replace("9.ZZ.Q.99", "{code}").replace("nope", "{job_id}")
                              .replace("x.txt", "{source_id}")][method]
    assert operation["responses"][str(status)]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_a_json_body_that_is_not_utf8_says_so(url):
    """newuser12 finding 15: a cp1252 JSON body got FastAPI's "There was an error parsing the body"."""
    body = '{"text": "Students compare ratios \u2013 unit rates"}'.encode("cp1252")
    response = httpx.post(f"{url}/align", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json() == {
        "detail": "request body: not valid UTF-8 (byte 0x96 at offset 34); the body must be UTF-8 JSON", "errors": []}


def test_openapi_declares_security_only_where_enforced_and_limits(url, components):
    spec = httpx.get(f"{url}/openapi.json").json()
    assert "security" not in spec["paths"]["/align"]["post"] and "401" not in spec["paths"]["/align"]["post"]["responses"]
    admin = spec["paths"]["/admin/reindex"]["post"]
    assert admin["security"] == [{"HTTPBearer": []}] and {"401", "403", "409", "422"} <= set(admin["responses"])
    assert spec["components"]["schemas"]["AlignRequest"]["properties"]["k"]["maximum"] == components.settings.max_k
    crosswalk = spec["components"]["schemas"]["CrosswalkRequest"]
    assert crosswalk["properties"]["k"]["maximum"] == components.settings.max_k
    assert crosswalk["oneOf"] == [{"required": ["code"]}, {"required": ["text"]}]
    body = spec["paths"]["/jobs/summarize"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "multipart/form-data"}
    locked = create_app(components=components.__class__(**{**components.__dict__, "settings": components.settings.model_copy(
        update={"api_keys": ["reader"]})}))
    read = locked.openapi()["paths"]["/align"]["post"]
    assert read["security"] == [{"HTTPBearer": []}] and {"401", "403"} <= set(read["responses"])


def test_metrics_scraped_by_the_prometheus_parser(url, components):
    with httpx.Client(base_url=url) as client:
        for _ in range(3):
            assert client.post("/align", json={"text": "Students compare ratios and unit rates", "k": 2}).status_code == 200
        assert client.post("/align", json={"text": "x", "k": 0}).status_code == 422
        text = client.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    latency = [s for s in families["http_request_duration_seconds"].samples
               if s.labels.get("handler") == "/align" and s.name.endswith("_count")]
    assert latency and latency[0].value >= 4
    requests = {(s.labels["handler"], s.labels["status"]): s.value for s in families["http_requests"].samples
                if s.name == "http_requests_total"}
    assert requests[("/align", "200")] >= 3 and requests[("/align", "422")] >= 1
    chunks = {s.labels["collection"]: s.value for s in families["edurag_chunks"].samples}
    assert chunks == {"standards": 1.0, "transcripts": 0.0}
    info = families["edurag_model_info"].samples[0].labels
    assert info["embedder"] == components.embedder.name and info["generator"] == "extractive"
    assert families["edurag_job_pending_items"].samples[0].value == 0
    assert "edurag_job_items_per_second" in families and families["edurag_store_up"].samples[0].value == 1


def test_one_request_id_per_request_in_the_logs(url):
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    handler.addFilter(CorrelationIdFilter())
    logger = logging.getLogger("service.errors")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        first = httpx.get(f"{url}/standards/9.ZZ.Q.99")
        second = httpx.get(f"{url}/standards/9.ZZ.Q.98")
    finally:
        logger.removeHandler(handler)
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert len(set(ids)) == 2
    assert [r.correlation_id for r in records if "9.ZZ.Q" in r.getMessage()] == ids
    echoed = httpx.get(f"{url}/health", headers={"X-Request-ID": "0f8fad5b-d9cb-469f-a165-70867728950e"})
    assert echoed.headers["x-request-id"] == "0f8fad5b-d9cb-469f-a165-70867728950e"


def test_health_is_degraded_not_500_when_chroma_stops(tmp_path, embedder):
    with run_chroma_server(tmp_path / "chroma") as chroma_url:
        settings = Settings(data_dir=tmp_path / "data", generator="extractive", chroma_url=chroma_url)
        app = create_app(components=build_components(settings, embedder=embedder))
        with serve_app(app) as url:
            assert httpx.get(f"{url}/health").json()["status"] == "ok"
    with serve_app(app) as url:
        response = httpx.get(f"{url}/health", timeout=60)
        server_down = response.json()
        assert response.status_code == 200 and server_down["status"] == "degraded"
        assert server_down["checks"]["chroma"]["ok"] is False and server_down["collections"] is None
        metrics = {f.name: f for f in text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=60).text)}
        assert {s.labels["store"]: s.value for s in metrics["edurag_store_up"].samples} == {"chroma": 0.0}


def test_health_is_degraded_when_redis_stops(tmp_path, embedder):
    with run_redis(tmp_path) as broker:
        settings = Settings(data_dir=tmp_path / "data", generator="extractive", broker_url=broker)
        app = create_app(components=build_components(settings, embedder=embedder))
        with serve_app(app) as url:
            assert httpx.get(f"{url}/health").json()["checks"]["redis"] == {"ok": True, "error": None}
    with serve_app(app) as url:
        body = httpx.get(f"{url}/health", timeout=60).json()
    assert body["status"] == "degraded" and body["checks"]["redis"]["ok"] is False and body["checks"]["chroma"]["ok"]


def test_the_api_runs_blas_on_one_thread(url):
    """EDURAG_BLAS_THREADS (default 1) caps OpenBLAS in the serving process: its threads waking beside ONNX Runtime's
    took /align's query-adapter matmul from p50 0.2 ms to p95 17 ms."""
    from threadpoolctl import threadpool_info

    assert httpx.get(f"{url}/health").status_code == 200
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == Settings().blas_threads == 1 for pool in blas)
