"""GET /health: what is loaded and how big the collections are."""

from __future__ import annotations

from fastapi import APIRouter

from ingestion.service import collection_sizes
from service.deps import ComponentsDep
from vectorstore.chroma import describe_mode

router = APIRouter(tags=["health"])


@router.get("/health")
def health(c: ComponentsDep) -> dict:
    """Embedder, generator, collection sizes and Chroma mode."""
    return {
        "status": "ok",
        "embedder": {"name": c.embedder.name, "dim": c.embedder.dim, "backend": c.embedder.backend},
        "generator": c.generator.info(),
        "collections": collection_sizes(c),
        "chroma": describe_mode(c.settings),
    }
