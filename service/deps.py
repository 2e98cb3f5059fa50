"""Dependency aliases the routes declare."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from edurag.components import Components
from edurag.frameworks.crosswalk import Crosswalker, crosswalker_for


def get_components(request: Request) -> Components:
    """The app's loaded components."""
    return request.app.state.components


ComponentsDep = Annotated[Components, Depends(get_components)]


def field_problem(field: str, message: str) -> dict[str, Any]:
    """An HTTPException detail naming the request body's field, as FastAPI's own 422s do (service.errors)."""
    return {"message": f"body.{field}: {message}", "errors": [{"field": f"body.{field}", "message": message}]}


def check_text_size(text: str, components: Components, field: str = "text") -> None:
    """413 when a text exceeds EDURAG_MAX_TEXT_BYTES; 422 when it is only whitespace."""
    limit = components.settings.max_text_bytes
    if len(text.encode("utf-8", "surrogatepass")) > limit:
        raise HTTPException(413, f"{field} is larger than the {limit:,}-byte limit (EDURAG_MAX_TEXT_BYTES)")
    if not text.strip():
        raise HTTPException(422, field_problem(field, f"{field} is empty"))


def check_k(k: int, components: Components) -> None:
    """422 when k exceeds EDURAG_MAX_K."""
    if k > components.settings.max_k:
        message = f"k must be between 1 and {components.settings.max_k} (EDURAG_MAX_K)"
        raise HTTPException(422, field_problem("k", message))


def check_adapter(adapter: str | None, components: Components) -> None:
    """404 for an adapter the generator does not have."""
    if adapter is None:
        return
    names = components.generator.adapter_names()
    if adapter not in names:
        raise HTTPException(404, f"unknown adapter {adapter!r}; available: {', '.join(names) or 'none'} "
                                 f"(generator kind {components.generator.kind})")


def crosswalker(request: Request) -> Crosswalker:
    """The app's crosswalker over the live catalog (`edurag.frameworks.crosswalk.crosswalker_for`: one per
    Components, shared with /ask; it rebuilds its per-framework indexes when the catalog changes, whichever process
    imported)."""
    return crosswalker_for(request.app.state.components)
