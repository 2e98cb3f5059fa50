"""Prometheus metrics at /metrics: prometheus-fastapi-instrumentator for the HTTP side, one collector for edurag's own.

From the instrumentator (per route template, method and exact status):
`http_requests_total` (error counts are its 4xx/5xx series), `http_request_duration_seconds` (latency histogram),
`http_request_size_bytes`, `http_response_size_bytes`.
From `EduragCollector`, read at scrape time:
`edurag_chunks{collection}` (chunks in the live standards and transcripts collections), `edurag_jobs{status}`,
`edurag_job_pending_items` (queue depth), `edurag_job_items_per_second` (items finished per second over the last
minute), `edurag_model_info{embedder, backend, generator, generator_model, adapter}` (always 1) and
`edurag_store_up{store}` (1 when Chroma, or the Redis broker, answered the last scrape).
Each app has its own registry, so tests and workers never share series.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterator

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from prometheus_fastapi_instrumentator import Instrumentator

from edurag.jobs.store import JobStatus

logger = logging.getLogger(__name__)


class EduragCollector(Collector):
    """Collection sizes, job queue and models, read from the running app's state at each scrape."""

    def __init__(self, app: FastAPI, health: Callable[[Any], dict[str, Any]]) -> None:
        self.app = app
        self.health = health

    def collect(self) -> Iterator[GaugeMetricFamily]:
        c = getattr(self.app.state, "components", None)
        if c is None:
            return
        report = self.health(c)
        chunks = GaugeMetricFamily("edurag_chunks", "Chunks in the live collection", labels=["collection"])
        for name, count in (report.get("collections") or {}).items():
            chunks.add_metric([name], count)
        yield chunks
        up = GaugeMetricFamily("edurag_store_up", "1 when the store answered", labels=["store"])
        for store, check in report["checks"].items():
            up.add_metric([store], 1.0 if check["ok"] else 0.0)
        yield up
        generator = c.generator.info()
        info = GaugeMetricFamily("edurag_model_info", "Models in use (always 1)",
                                 labels=["embedder", "backend", "generator", "generator_model", "adapter"])
        info.add_metric([c.embedder.name, c.embedder.backend, str(generator.get("kind", "")),
                         str(generator.get("model", "")), str(generator.get("adapter") or "")], 1.0)
        yield info
        jobs = getattr(self.app.state, "jobs", None)
        if jobs is None:
            return
        try:
            stats = jobs.store.queue_stats()
        except Exception:  # a job database that cannot be read must not break the scrape
            logger.exception("job store unreadable for /metrics")
            return
        by_status = GaugeMetricFamily("edurag_jobs", "Jobs by status", labels=["status"])
        for status in JobStatus:
            by_status.add_metric([status.value], stats.jobs.get(status, 0))
        yield by_status
        yield GaugeMetricFamily("edurag_job_pending_items", "Items waiting in queued or running jobs", value=stats.pending_items)
        yield GaugeMetricFamily("edurag_job_items_per_second", "Job items finished per second over the last minute",
                                value=stats.items_per_second)


def install(app: FastAPI, health: Callable[[Any], dict[str, Any]]) -> None:
    """Instrument every route and expose /metrics (not in the OpenAPI document)."""
    registry = CollectorRegistry()
    registry.register(EduragCollector(app, health))
    Instrumentator(should_group_status_codes=False, excluded_handlers=["/metrics"], registry=registry
                   ).instrument(app).expose(app, include_in_schema=False)
