"""Bearer-key checks: the admin key for writes, optional user keys for reads.

`admin_rejection` is the one admin check: `service.limits.RequestLimits` calls it before the body is read, and the
`AdminDep` dependency (which also declares the bearer scheme in OpenAPI) calls it again inside the route.
Read routes declare no security in OpenAPI unless EDURAG_API_KEYS is set (`service.openapi`).
"""

from __future__ import annotations

import secrets
from typing import Annotated, Callable

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from edurag.settings import Settings

bearer = HTTPBearer(auto_error=False, description="EDURAG_ADMIN_KEY (admin routes) or one of EDURAG_API_KEYS (reads, when set)")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def matches_key(given: str, keys: list[str]) -> bool:
    """Constant-time check that `given` is one of `keys`."""
    return any(secrets.compare_digest(given.encode(), key.encode()) for key in keys)


def bearer_token(authorization: str | None) -> str | None:
    """The key of an `Authorization: Bearer <key>` header, or None."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def admin_rejection(settings: Settings, authorization: str | None) -> HTTPException | None:
    """401 without a bearer key, 403 with a wrong one (or when no admin key is configured); None when allowed."""
    token = bearer_token(authorization)
    if token is None:
        return HTTPException(401, "admin key required: send Authorization: Bearer <EDURAG_ADMIN_KEY>", headers=CHALLENGE)
    if settings.admin_key is None:
        return HTTPException(403, "admin endpoints are disabled: EDURAG_ADMIN_KEY is not set on the server")
    if not matches_key(token, [settings.admin_key.get_secret_value()]):
        return HTTPException(403, "wrong admin key")
    return None


AdminCheck = Callable[[], HTTPException | None]


def bearer_admin_check(request: Request) -> AdminCheck:
    """A deferred admin check of this request's bearer key, for routes where only some resources are the admin's
    (a job of an admin operation): calling it gives admin_rejection's answer."""
    return lambda: admin_rejection(request.app.state.settings, request.headers.get("authorization"))


def require_admin(request: Request, credentials: Credentials) -> None:
    """Admin routes: the same check the request-limits middleware made before reading the body."""
    if rejection := bearer_admin_check(request)():
        raise rejection


def require_user(request: Request) -> None:
    """When EDURAG_API_KEYS is set, reads need one of them (or the admin key)."""
    settings = request.app.state.settings
    if not settings.api_keys:
        return
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise HTTPException(401, "API key required: send Authorization: Bearer <key>", headers=CHALLENGE)
    keys = settings.api_keys + ([settings.admin_key.get_secret_value()] if settings.admin_key else [])
    if not matches_key(token, keys):
        raise HTTPException(403, "wrong API key")


AdminDep = Depends(require_admin)
AdminCheckDep = Annotated[AdminCheck, Depends(bearer_admin_check)]
UserDep = Depends(require_user)
