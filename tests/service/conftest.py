"""Fixtures shared by the HTTP tests: the full bundled standards, ingested once per run, served by a real uvicorn."""

from __future__ import annotations

import httpx
import pytest

from edurag.components import build_components
from edurag.settings import Settings
from ingestion.service import ingest_standards
from service.app import create_app
from tests.utils.servers import serve_app


@pytest.fixture(scope="session")
def full_components(tmp_path_factory, embedder):
    """Components over every bundled standard (CCSS, NGSS, the state frameworks), extractive generator, admin key
    "admin-secret". Tests that change the standards collection build their own."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("full-standards"), generator="extractive",
                        admin_key="admin-secret")
    c = build_components(settings, embedder=embedder)
    ingest_standards(c)
    return c


@pytest.fixture(scope="session")
def full_api(full_components):
    """An httpx client of the app over full_components, served on a free loopback port."""
    with serve_app(create_app(components=full_components)) as url, httpx.Client(base_url=url, timeout=120) as client:
        yield client
