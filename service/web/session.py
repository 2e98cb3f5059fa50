"""The web app's browser session: admin sign-in and CSRF tokens, kept in Starlette's signed session cookie.

The cookie (SessionMiddleware, itsdangerous-signed) is HttpOnly, SameSite=strict and lives for the browser session.
It holds a random CSRF token and the role the browser signed in with (admin key or an API key); the key itself never leaves the
sign-in form. CSRF uses the synchronizer-token pattern on that session (starlette-csrf's double-submit cookie reads
only a header, so plain HTML forms without JavaScript could not send it): every form carries the token in a hidden
field and htmx sends it as the X-CSRF-Token header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import FastAPI, HTTPException, Request
from starlette.middleware.sessions import SessionMiddleware

from edurag.settings import Settings
from service.auth import AdminCheck, matches_key

SESSION_COOKIE = "edurag_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def session_secret(settings: Settings) -> str:
    """Signing key: derived from the admin key (stable across workers and restarts; a new admin key signs everyone
    out), or random per process when no admin key is configured."""
    if settings.admin_key is None:
        return secrets.token_urlsafe(32)
    key = settings.admin_key.get_secret_value().encode()
    return hmac.new(key, b"edurag web session", hashlib.sha256).hexdigest()


def add_session(app: FastAPI, settings: Settings) -> None:
    """Install the session cookie: HttpOnly (Starlette always sets it), SameSite=strict, no max-age (browser session)."""
    app.add_middleware(SessionMiddleware, secret_key=session_secret(settings), session_cookie=SESSION_COOKIE,
                       max_age=None, same_site="strict", https_only=False)


def csrf_token(request: Request) -> str:
    """This browser session's CSRF token (created on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, form_token: str | None = None) -> None:
    """403 unless the header or the form field carries this session's token."""
    expected = request.session.get("csrf")
    given = request.headers.get(CSRF_HEADER) or form_token
    if not expected or not given or not secrets.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(403, "the form expired or did not come from this site: reload the page and try again")


def is_admin(request: Request) -> bool:
    """Whether this browser signed in with the admin key."""
    return request.session.get("role") == "admin"


def session_admin_check(request: Request) -> AdminCheck:
    """The web pages' admin check (the signed-in session) in the form the API's job routes take (AdminCheck)."""
    return lambda: None if is_admin(request) else HTTPException(401, "sign in with the admin key first (Admin page)")


def require_admin_session(request: Request) -> None:
    """401 before any body is read when this browser has not signed in as admin."""
    if rejection := session_admin_check(request)():
        raise rejection


def require_reader(request: Request) -> None:
    """When EDURAG_API_KEYS protects the reads, the teacher pages need a signed-in browser too (401 before any body)."""
    if request.app.state.settings.api_keys and not request.session.get("role"):
        raise HTTPException(401, "this server needs a key: sign in on the Admin page with your API key")


def sign_in(request: Request, key: str) -> str | None:
    """Mark the session "admin" (admin key) or "user" (one of EDURAG_API_KEYS); None for a wrong key.

    The session is cleared first and gets a fresh CSRF token, so a token planted before sign-in is worthless.
    """
    settings: Settings = request.app.state.settings
    admin = [settings.admin_key.get_secret_value()] if settings.admin_key else []
    role = "admin" if admin and matches_key(key, admin) else "user" if matches_key(key, settings.api_keys) else None
    if role:
        request.session.clear()
        request.session["role"] = role
        csrf_token(request)
    return role


def sign_out(request: Request) -> None:
    """Forget the sign-in and the CSRF token."""
    request.session.clear()
