"""Bearer-key checks: admin key for writes, optional user keys for reads."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def matches_key(given: str, keys: list[str]) -> bool:
    """Constant-time check that `given` is one of `keys`."""
    return any(secrets.compare_digest(given.encode(), key.encode()) for key in keys)


def require_admin(request: Request, credentials: Credentials) -> None:
    """401 without a bearer key, 403 with a wrong one (or when no admin key is configured)."""
    settings = request.app.state.settings
    if credentials is None:
        raise HTTPException(401, "admin key required: send Authorization: Bearer <EDURAG_ADMIN_KEY>",
                            headers={"WWW-Authenticate": "Bearer"})
    if settings.admin_key is None:
        raise HTTPException(403, "admin endpoints are disabled: EDURAG_ADMIN_KEY is not set on the server")
    if not matches_key(credentials.credentials, [settings.admin_key.get_secret_value()]):
        raise HTTPException(403, "wrong admin key")


def require_user(request: Request, credentials: Credentials) -> None:
    """When EDURAG_API_KEYS is set, reads need one of them (or the admin key)."""
    settings = request.app.state.settings
    if not settings.api_keys:
        return
    if credentials is None:
        raise HTTPException(401, "API key required: send Authorization: Bearer <key>", headers={"WWW-Authenticate": "Bearer"})
    keys = settings.api_keys + ([settings.admin_key.get_secret_value()] if settings.admin_key else [])
    if not matches_key(credentials.credentials, keys):
        raise HTTPException(403, "wrong API key")


AdminDep = Depends(require_admin)
UserDep = Depends(require_user)
