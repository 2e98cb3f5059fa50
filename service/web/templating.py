"""Jinja2 templates (autoescaped), the HTML error route, and form reading shared by the web pages."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Coroutine
from urllib.parse import quote

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from edurag.standards import BUILTIN_FRAMEWORKS
from service.web.session import CSRF_FIELD, CSRF_HEADER, check_csrf, csrf_token, is_admin

logger = logging.getLogger(__name__)
HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")


def code_url(code: str, framework: str | None = None) -> str:
    """The page of a standard; codes of an imported framework carry it (its codes may look like CCSS ones)."""
    url = "/app/standards/" + quote(str(code), safe="")
    return url if not framework or framework in BUILTIN_FRAMEWORKS else f"{url}?framework={quote(framework, safe='')}"


templates.env.filters["code_url"] = code_url
templates.env.globals.update(CSRF_FIELD=CSRF_FIELD, CSRF_HEADER=CSRF_HEADER, BUILTIN_FRAMEWORKS=BUILTIN_FRAMEWORKS)

NAV = [("/", "Align", "align"), ("/app/ask", "Ask", "ask"), ("/app/standards", "Standards", "standards"),
       ("/app/summarize", "Summarize", "summarize"), ("/app/admin", "Admin", "admin"), ("/docs", "API docs", "docs")]
# Pages load only the app's own files; no inline script (htmx's indicator style is switched off in base.html).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def is_htmx(request: Request) -> bool:
    """Whether htmx sent the request (it then wants a fragment, not a whole page)."""
    return request.headers.get("HX-Request") == "true"


def render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    """A template with the session's CSRF token, the navigation and the admin flag; CSP and no-store headers."""
    context.setdefault("page", "")
    response = templates.TemplateResponse(request, name, {
        "csrf": csrf_token(request), "nav": NAV, "admin": is_admin(request), "htmx": is_htmx(request), **context},
        status_code=status)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    return response


def fragment_or_page(request: Request, fragment_template: str, page_template: str, page_context: dict[str, Any],
                     **context: Any) -> Response:
    """The result fragment for htmx, else the whole page around it (no-JavaScript form posts)."""
    if is_htmx(request):
        return render(request, fragment_template, **context)
    return render(request, page_template, **page_context, **context)


def error_page(request: Request, status: int, detail: Any) -> Response:
    """The problem in plain words: a fragment for htmx, else a whole page."""
    if isinstance(detail, dict):
        message = str(detail.get("message", "")).removeprefix("body.")
        problems = [p for p in map(_problem, detail.get("errors", [])) if p != message]  # not the message again
    elif isinstance(detail, list):
        message = "Please check the form:"
        problems = [_problem(p) for p in detail]
    else:
        message, problems = str(detail), []
    return render(request, "error.html", status=status, status_code=status, message=message, problems=problems)


def _problem(problem: Any) -> str:
    """An API problem item ({field, message}) as a form shows it: "k: k must be between 1 and 50" (no "body.")."""
    if not isinstance(problem, dict):
        return str(problem)
    field = str(problem.get("field", "")).removeprefix("body.")
    return f"{field}: {problem.get('message', '')}" if field else str(problem.get("message", ""))


def validation_problems(exc: ValidationError | RequestValidationError) -> list[dict[str, str]]:
    """Each field path and message, as the API's 422 spells them."""
    return [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]


class HTMLRoute(APIRoute):
    """Web routes answer errors with an HTML page or fragment, not the API's JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def html_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as exc:
                return error_page(request, exc.status_code, exc.detail)
            except (ValidationError, RequestValidationError) as exc:
                return error_page(request, 422, validation_problems(exc))

        return html_errors


async def read_form(request: Request, max_text_bytes: int) -> FormData:
    """The submitted form, after the CSRF check; files are spooled, a text field the parser sees as more than three
    times the text limit (percent-encoding triples a byte at most) is a 413 before it is buffered. The exact limit is
    checked on the decoded text by the API's own check."""
    try:
        form = await request.form(max_part_size=3 * max_text_bytes + 1)
    except HTTPException as exc:  # Starlette reports its parser's limits as a 400
        if "maximum size" in str(exc.detail):
            raise HTTPException(413, f"the text is larger than the {max_text_bytes:,}-byte limit "
                                     "(EDURAG_MAX_TEXT_BYTES)") from exc
        raise
    check_csrf(request, str(form.get(CSRF_FIELD) or "") or None)
    return form


def text_field(form: FormData, name: str) -> str | None:
    """A text field's value, None when absent or blank."""
    value = form.get(name)
    return value.strip() or None if isinstance(value, str) else None


def uploads(form: FormData, name: str) -> list[UploadFile]:
    """Files actually chosen in a file input (browsers send an empty part when none is)."""
    return [f for f in form.getlist(name) if isinstance(f, UploadFile) and (f.filename or f.size)]
