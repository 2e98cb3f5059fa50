"""GET /health: what is loaded and how big the collections are."""

from __future__ import annotations

from fastapi import APIRouter

from edurag.settings import STANDARDS_COLLECTION, TRANSCRIPTS_COLLECTION
from service.deps import ComponentsDep
from vectorstore.aliases import current_collection
from vectorstore.chroma import describe_mode, get_collection

router = APIRouter(tags=["health"])


@router.get("/health")
def health(c: ComponentsDep) -> dict:
    """Embedder, generator, collection sizes and Chroma mode."""
    collections = {name: get_collection(c.client, current_collection(c.client, name)).count()
                   for name in (STANDARDS_COLLECTION, TRANSCRIPTS_COLLECTION)}
    return {
        "status": "ok",
        "embedder": {"name": c.embedder.name, "dim": c.embedder.dim, "backend": c.embedder.backend},
        "generator": c.generator.info(),
        "collections": collections,
        "chroma": describe_mode(c.settings),
    }
