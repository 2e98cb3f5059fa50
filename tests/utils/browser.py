"""Playwright on the system Chromium (Debian's `chromium` package; Playwright's own browser download is unavailable)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = os.environ.get("EDURAG_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason="system Chromium is not installed (apt-get install chromium)")
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def is_loopback(url: str) -> bool:
    """Whether a request stays on this machine (data: and blob: URLs never leave it)."""
    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob", "about") or (parsed.hostname or "") in LOOPBACK


def block_outside(context, blocked: list[str]) -> None:
    """Abort every request to a host that is not loopback and record its URL (the app must never need one)."""
    def handle(route) -> None:
        if is_loopback(route.request.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("blockedbyclient")

    context.route("**/*", handle)
