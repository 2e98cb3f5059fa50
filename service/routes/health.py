"""GET /health: what is loaded, how big the collections are, and whether Chroma and Redis answer."""

from __future__ import annotations

import logging
from typing import Any

import redis
from fastapi import APIRouter

from edurag.components import Components
from ingestion.service import collection_sizes
from service.deps import ComponentsDep
from service.schemas import HealthOut
from vectorstore.chroma import describe_mode

logger = logging.getLogger(__name__)
router = APIRouter(tags=["health"])
PROBE_TIMEOUT_SECONDS = 2.0


def health_report(c: Components) -> dict[str, Any]:
    """The /health body; never raises for an unreachable Chroma or Redis."""
    checks: dict[str, dict[str, Any]] = {}
    collections = None
    try:
        collections = collection_sizes(c)
        checks["chroma"] = {"ok": True}
    except Exception as exc:  # any client error means the store is not usable: report it, do not fail
        logger.warning("health: Chroma unreachable: %s", exc)
        checks["chroma"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    if c.settings.broker_url:
        try:
            redis.Redis.from_url(c.settings.broker_url, socket_timeout=PROBE_TIMEOUT_SECONDS,
                                 socket_connect_timeout=PROBE_TIMEOUT_SECONDS).ping()
            checks["redis"] = {"ok": True}
        except redis.RedisError as exc:
            logger.warning("health: Redis unreachable: %s", exc)
            checks["redis"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {
        "status": "ok" if all(check["ok"] for check in checks.values()) else "degraded",
        "embedder": {"name": c.embedder.name, "dim": c.embedder.dim, "backend": c.embedder.backend},
        "generator": c.generator.info(),
        "collections": collections,
        "chroma": describe_mode(c.settings),
        "checks": checks,
    }


@router.get("/health", response_model=HealthOut)
def health(c: ComponentsDep) -> HealthOut:
    """Embedder, generator, collection sizes, Chroma mode, and a probe of Chroma and (with a broker) Redis."""
    return HealthOut.model_validate(health_report(c))
