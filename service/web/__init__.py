"""The web app for teachers and admins at `/` (Jinja2 + vendored htmx) and self-hosted API docs at /docs and /redoc.

Layout: `teacher.py` (Align, Ask, Standard), `summaries.py` (Summarize, bulk job progress), `admin.py`,
`session.py` (sign-in cookie, CSRF), `templating.py`, `graph.py` and `highlight.py` (view helpers), `templates/`,
`static/` (CSS, app.js, htmx with its licence). Swagger UI and ReDoc files come from the fastapi-offline package.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from edurag.settings import Settings
from service.web import admin, summaries, teacher
from service.web.session import add_session
from service.web.templating import STATIC_DIR

DOCS_ASSETS = "/static/docs"
# The docs pages may load and fetch only from this server: ReDoc's "API docs by Redocly" badge points at an image on
# an outside CDN, and Swagger UI can call an online validator; the browser must not even try (school filters log it).
# Swagger UI starts from FastAPI's inline script, and both inject their own styles, hence 'unsafe-inline' here only.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def _offline(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page


def add_docs(app: FastAPI) -> None:
    """Swagger UI at /docs and ReDoc at /redoc from files this process serves (no CDN; no Google fonts).

    Build the app with docs_url=None and redoc_url=None; this is FastAPI's documented self-hosting recipe.
    """
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_redirect = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _offline(get_swagger_ui_html(openapi_url=root + openapi_url, title=f"{app.title} - Swagger UI",
                                   oauth2_redirect_url=root + oauth2_redirect,
                                   swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{root}/static/favicon.svg",
                                   swagger_ui_parameters={"validatorUrl": None}))

    @app.get(oauth2_redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _offline(get_redoc_html(openapi_url=root + openapi_url, title=f"{app.title} - ReDoc",
                              redoc_js_url=f"{root}{DOCS_ASSETS}/redoc.standalone.js",
                              redoc_favicon_url=f"{root}/static/favicon.svg", with_google_fonts=False))


def add_web(app: FastAPI, settings: Settings) -> None:
    """Mount the pages, their static files, the session cookie and the self-hosted docs on the API app."""
    add_session(app, settings)
    add_docs(app)  # before /static: its mount would otherwise catch /static/docs
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (teacher, summaries, admin):
        app.include_router(module.router)
