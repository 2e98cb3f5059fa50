"""Request limits enforced on the ASGI stream, before FastAPI reads or parses a body.

FastAPI reads and parses a request body before it runs a route's dependencies, so a key checked in a dependency
comes too late: a malformed body got 422 instead of 401, and a 100 MB upload was read in full before the 401. This
pure ASGI middleware runs first, in this order:

1. admin routes (those depending on `service.auth.require_admin`): the key is checked from the headers, 401/403
   without reading a byte of the body;
2. `Content-Length` over the cap (EDURAG_MAX_JSON_BYTES for JSON, EDURAG_MAX_REQUEST_BYTES otherwise): 413 at once;
3. the body stream itself is counted, so a missing or lying `Content-Length` (chunked uploads) gets 413 as soon as
   the cap is passed, never after the whole body is buffered;
4. a body that does not arrive within EDURAG_BODY_TIMEOUT_SECONDS (a client that sends a few bytes and keeps the
   socket open) gets 408 and the connection is closed.

Deploy behind the reverse proxy of compose.yaml as well: it enforces the same size and timeouts at the edge, for
headers too, before a connection reaches a Python worker.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

from fastapi import HTTPException
from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edurag.settings import Settings
from service.auth import admin_rejection, require_admin
from service.errors import as_problem, problem


def dependency_calls(dependant: Any) -> set[Callable[..., Any]]:
    """Every callable a route's dependency tree runs."""
    out = {dependant.call} if dependant.call else set()
    for sub in dependant.dependencies:
        out |= dependency_calls(sub)
    return out


def is_admin_route(route: Any) -> bool:
    """Whether a route (an APIRoute or FastAPI's effective route context) depends on the admin key."""
    dependant = getattr(route, "dependant", None)
    return dependant is not None and require_admin in dependency_calls(dependant)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class RequestLimits:
    """Admin key before the body, body size cap on the stream, body-read timeout (see the module docstring)."""

    def __init__(self, app: ASGIApp, settings: Settings, routes: list[BaseRoute]) -> None:
        self.app = app
        self.settings = settings
        self.routes = routes

    def _admin(self, scope: Scope) -> bool:
        return any(is_admin_route(r) and r.matches(scope)[0] is Match.FULL for r in iter_route_contexts(self.routes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        s = self.settings
        if self._admin(scope):
            rejection = admin_rejection(s, _header(scope, b"authorization"))
            if rejection:
                await self._reject(rejection, scope, receive, send)
                return
        is_json = "json" in (_header(scope, b"content-type") or "").lower()
        limit = s.max_json_bytes if is_json else s.max_request_bytes
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.strip().isdigit() or int(declared) > limit):
            status = 413 if declared.strip().isdigit() else 400
            message = (f"request body of {int(declared):,} bytes is over the {limit:,}-byte limit "
                       f"({'EDURAG_MAX_JSON_BYTES' if is_json else 'EDURAG_MAX_REQUEST_BYTES'})"
                       if status == 413 else "Content-Length is not a number")
            await self._reject(HTTPException(status, message), scope, receive, send)
            return
        await self.app(scope, self._limited(receive, limit, is_json), send)

    def _limited(self, receive: Receive, limit: int, is_json: bool) -> Receive:
        """`receive` that counts body bytes and bounds the time the body takes to arrive."""
        timeout = self.settings.body_timeout_seconds
        state = {"received": 0, "done": False, "deadline": time.monotonic() + timeout}

        async def limited() -> Message:
            if state["done"]:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(state["deadline"] - time.monotonic(), 0.001))
            except asyncio.TimeoutError:
                state["done"] = True
                raise HTTPException(408, f"the request body did not arrive within {timeout:g} s "
                                         "(EDURAG_BODY_TIMEOUT_SECONDS)", headers={"Connection": "close"}) from None
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["done"] = True
                    raise HTTPException(413, f"request body is over the {limit:,}-byte limit "
                                             f"({'EDURAG_MAX_JSON_BYTES' if is_json else 'EDURAG_MAX_REQUEST_BYTES'})",
                                        headers={"Connection": "close"})
                state["done"] = not message.get("more_body", False)
            else:
                state["done"] = True
            return message

        return limited

    async def _reject(self, exc: HTTPException, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer without reading the body; the connection is closed so the unread body is never consumed."""
        detail, items = as_problem(exc.detail)
        headers = {**(exc.headers or {}), "Connection": "close"}
        await problem(exc.status_code, detail, items, headers)(scope, receive, send)
