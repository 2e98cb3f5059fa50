"""create_app(settings, components): the FastAPI application factory (tests build their own apps)."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from edurag.components import Components, build_components
from edurag.settings import Settings
from service.routes import adapters, admin, align, ask, frameworks, health, jobs, standards, summarize, transcripts
from service.web import add_web

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, components: Components | None = None) -> FastAPI:
    """Build the API; components are loaded at startup unless given."""
    settings = components.settings if components else settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "components", None) is None:
            app.state.components = build_components(settings)
        logger.info("edurag ready: generator %s", app.state.components.generator.info())
        yield

    app = FastAPI(title="edurag", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Curriculum-standards alignment, transcript summaries and knowledge-base admin.")
    app.state.settings = settings
    app.state.components = components

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        """422 with each problem spelled out (field path and message), never echoing huge inputs."""
        problems = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        return JSONResponse(status_code=422, content={"detail": problems})

    for module in (health, align, ask, standards, frameworks, summarize, transcripts, jobs, admin, adapters):
        app.include_router(module.router)
    add_web(app, settings)
    return app
