"""GET /health: what is loaded, how big the collections are, and whether Chroma and Redis answer."""

from __future__ import annotations

import logging
from typing import Any, Literal

import redis
from fastapi import APIRouter
from pydantic import BaseModel, Field

from edurag.components import Components
from edurag.settings import STANDARDS_COLLECTION, TRANSCRIPTS_COLLECTION
from service.deps import ComponentsDep
from vectorstore.aliases import current_collection
from vectorstore.chroma import describe_mode, get_collection

logger = logging.getLogger(__name__)
router = APIRouter(tags=["health"])
PROBE_TIMEOUT_SECONDS = 2.0


class Check(BaseModel):
    """One dependency probe."""

    ok: bool
    error: str | None = None


class HealthOut(BaseModel):
    """`status` is degraded (still HTTP 200) when a store does not answer; `checks` says which."""

    status: Literal["ok", "degraded"]
    embedder: dict[str, Any]
    generator: dict[str, Any]
    collections: dict[str, int] | None = Field(description="Chunks per live collection; null when Chroma is unreachable.")
    chroma: dict[str, str]
    checks: dict[str, Check]


def health_report(c: Components) -> dict[str, Any]:
    """The /health body; never raises for an unreachable Chroma or Redis."""
    checks: dict[str, dict[str, Any]] = {}
    collections = None
    try:
        collections = {name: get_collection(c.client, current_collection(c.client, name)).count()
                       for name in (STANDARDS_COLLECTION, TRANSCRIPTS_COLLECTION)}
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
