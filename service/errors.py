"""One error body for every 4xx/5xx response, its exception handlers, and the `responses=` helper routes declare.

Every error the API returns has the shape of `Problem`: `{"detail": "<one sentence>", "errors": [{"field"?,
"message", ...}]}` (`errors` lists each problem when there are several: fields of a request, files of an upload, items
of a job). Routes declare the statuses they can return with `responses=errors(404, 413)`; the app adds 401/403
itself where a key is enforced, and 422 wherever FastAPI validates a body or parameter.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from edurag.encoding import not_utf8

logger = logging.getLogger(__name__)

DESCRIPTIONS = {
    400: "Bad request: a body or file that cannot be read (not UTF-8, malformed JSON/JSONL/captions); `errors` lists each.",
    401: "No bearer key: send `Authorization: Bearer <key>`.",
    403: "Wrong key, or admin endpoints disabled (no EDURAG_ADMIN_KEY).",
    404: "Unknown id, code, adapter or file.",
    405: "Method not allowed on this path.",
    408: "The request body did not arrive within EDURAG_BODY_TIMEOUT_SECONDS.",
    409: "Conflicts with the current state (a job already finished, a re-index in progress, no version to roll back to).",
    413: "Too large: request body over EDURAG_MAX_REQUEST_BYTES, a text, file or job over its limit.",
    415: "Unsupported content type.",
    422: "Validation failed: `errors` names each field and what is wrong with it.",
    503: "A store the request needs (Chroma, Redis) is unreachable.",
}


class ProblemItem(BaseModel):
    """One problem: the field, file or item it concerns (when there is one) and what is wrong."""

    model_config = ConfigDict(extra="allow")

    field: str | None = Field(None, description="Dotted path of the field (body.text, query.k), file name or item id.")
    message: str


class Problem(BaseModel):
    """The body of every error response."""

    detail: str = Field(description="What went wrong, in one sentence.")
    errors: list[ProblemItem] = Field(default_factory=list, description="Each problem, when there are several.")


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status with the Problem body and its standard description."""
    return {status: {"model": Problem, "description": DESCRIPTIONS[status]} for status in statuses}


def problem(status: int, detail: str, items: Iterable[dict[str, Any]] = (), headers: dict[str, str] | None = None,
            ) -> JSONResponse:
    """A Problem response."""
    body = Problem(detail=detail, errors=[ProblemItem.model_validate(i) for i in items])
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def allowed_methods(routes: list[BaseRoute], scope: Scope) -> set[str]:
    """The methods of the path template the request's path resolves to (the first that matches, in routing order,
    as the router picks it), for the Allow header of a 405."""
    contexts = list(iter_route_contexts(routes))
    template = next((r.path_format for r in contexts if r.matches({**scope, "method": "\0"})[0] is not Match.NONE), None)
    return {m for r in contexts if template is not None and r.path_format == template for m in (r.methods or ())}


def _items(value: Any) -> list[dict[str, Any]]:
    out = []
    for item in value or []:
        if isinstance(item, dict):
            out.append({"message": str(item.get("message") or item.get("msg") or item), **item})
        else:
            out.append({"message": str(item)})
    return out


def as_problem(detail: Any) -> tuple[str, list[dict[str, Any]]]:
    """Normalize an HTTPException detail (a string, a list of problems, or {"message", "errors"|"problems"})."""
    if isinstance(detail, dict):
        items = detail.get("errors") or detail.get("problems") or []
        return str(detail.get("message") or detail.get("detail") or "request failed"), _items(items)
    if isinstance(detail, list):
        items = _items(detail)
        return (items[0]["message"] if len(items) == 1 else f"{len(items)} problems"), items
    return str(detail), []


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """HTTPException -> Problem, keeping its headers (WWW-Authenticate); a 405 lists every method of the path; a JSON
    body that is not UTF-8 (FastAPI's "There was an error parsing the body") says so, with the first bad byte."""
    detail, items = as_problem(exc.detail)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        detail = not_utf8("request body", exc.__cause__, remedy="the body must be UTF-8 JSON")
    logger.info("%s %s -> %d: %s", request.method, request.url.path, exc.status_code, detail)
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(sorted(allowed_methods(request.app.routes, request.scope)))
    return problem(exc.status_code, detail, items, headers or None)


def _message(error: dict[str, Any]) -> str:
    """pydantic's message, except for the non-blank pattern (`\\S`), which it would spell as a regex."""
    if error.get("type") == "string_pattern_mismatch" and (error.get("ctx") or {}).get("pattern") == r"\S":
        return f"{error['loc'][-1]} is empty"
    return error["msg"]


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 with each problem spelled out (field path and message), never echoing huge inputs."""
    items = [{"field": ".".join(str(p) for p in e["loc"]), "message": _message(e)} for e in exc.errors()]
    detail = items[0]["field"] + ": " + items[0]["message"] if len(items) == 1 else f"{len(items)} invalid fields"
    return problem(422, detail, items)


def install(app: Any) -> None:
    """Register the handlers on a FastAPI app."""
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
