"""GET /adapters (named PEFT adapters with their manifests) and admin POST /admin/adapters/reload."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from edurag.adapters import AdapterRegistry
from edurag.components import Components
from edurag.generators import Generator
from service.auth import AdminDep, UserDep
from service.errors import errors
from service.deps import ComponentsDep
from service.schemas import AdapterInfo, AdaptersResponse, ReloadResponse

router = APIRouter(tags=["adapters"])


def _adapter_generator(c: Components) -> Generator:
    if not c.generator.supports_adapters:
        raise HTTPException(409, f"the {c.generator.kind} generator has no adapters; set EDURAG_GENERATOR=hf")
    return c.generator


@router.get("/adapters", response_model=AdaptersResponse, dependencies=[UserDep])
def list_adapters(c: ComponentsDep) -> AdaptersResponse:
    """Named adapters with their manifests (empty for generators without adapters)."""
    generator = c.generator
    loaded = set(generator.loaded_adapters())
    registry = AdapterRegistry(c.settings.resolved_adapters_dir)
    return AdaptersResponse(generator=generator.kind, adapters=[
        AdapterInfo(name=n, loaded=n in loaded, manifest=registry.manifest(n)) for n in generator.adapter_names()])


@router.post("/admin/adapters/reload", response_model=ReloadResponse, dependencies=[AdminDep], responses=errors(409))
def reload_adapters(c: ComponentsDep) -> ReloadResponse:
    """Drop loaded adapters so new or retrained ones are read from disk on their next request."""
    generator = _adapter_generator(c)
    dropped = generator.reload_adapters()
    return ReloadResponse(dropped=dropped, available=generator.adapter_names())
