"""create_app(settings, components): the FastAPI application factory (tests build their own apps)."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI

from edurag.components import Components, build_components, limit_blas_threads
from edurag.settings import Settings
from service import errors, metrics, openapi
from service.limits import RequestLimits
from service.routes import adapters, admin, align, ask, frameworks, health, jobs, standards, summarize, transcripts
from service.web import add_web
from vectorstore.chroma import hold_embedded_chroma

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, components: Components | None = None) -> FastAPI:
    """Build the API; components are loaded at startup unless given."""
    settings = components.settings if components else settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Held while serving: an edurag command cannot write the embedded Chroma under a running API (whose in-memory
        # index would not see it), and the API does not start while one does (DataDirBusy says so).
        with hold_embedded_chroma(settings, writer=False):
            limit_blas_threads(settings.blas_threads)
            if getattr(app.state, "components", None) is None:
                app.state.components = build_components(settings)
            logger.info("edurag ready: generator %s", app.state.components.generator.info())
            yield

    app = FastAPI(title="edurag", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Curriculum-standards alignment, transcript summaries and knowledge-base admin. "
                              "Every error body is a `Problem`: `{detail, errors}`.")
    app.state.settings = settings
    app.state.components = components
    errors.install(app)
    for module in (health, align, ask, standards, frameworks, summarize, transcripts, jobs, admin, adapters):
        app.include_router(module.router)
    add_web(app, settings)
    jobs.document_body(app)
    openapi.install(app, settings)
    # Middleware runs outermost-last-added: request id, then metrics, then the limits (key before body, size, timeout).
    app.add_middleware(RequestLimits, settings=settings, routes=app.router.routes)
    metrics.install(app, health.health_report)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
    return app
