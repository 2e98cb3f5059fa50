"""Serving adapters over real HTTP (TestClient): listing, per-request hot-swap under concurrency, admin reload."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import pytest
from fastapi.testclient import TestClient

from finetune.config import DataArgs, TrainArgs
from finetune.train import run_training
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow  # trains LoRA and prompt-tuning adapters before serving them

FIXTURE = FIXTURES / "dialogsum_dev40.jsonl"
ADMIN = {"Authorization": "Bearer test-admin-key"}


def _train(base: Path, rows: list[dict[str, str]], out: Path, seed: int) -> Path:
    """A LoRA adapter trained briefly (high lr) on `rows`, so its greedy outputs are its own."""
    data = out.parent / f"{out.name}.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run_training("lora", str(base), DataArgs(data, max_source_tokens=64, max_target_tokens=16), out,
                 TrainArgs(max_steps=8, batch_size=8, learning_rate=5e-2, seed=seed, logging_steps=1), progress=False)
    shutil.rmtree(out / "checkpoints")
    return out


@pytest.fixture(scope="module")
def adapters_dir(tiny_t5_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two adapters: `plain` learns the fixture summaries, `tagged` learns one fixed sentence."""
    folder = tmp_path_factory.mktemp("adapters")
    rows = [json.loads(line) for line in FIXTURE.read_text().splitlines()][:8]
    _train(tiny_t5_dir, rows, folder / "plain", seed=1)
    _train(tiny_t5_dir, [r | {"summary": "#Person2# agrees to go to the movie."} for r in rows], folder / "tagged", seed=2)
    return folder


@pytest.fixture(scope="module")
def client(tiny_t5_dir: Path, adapters_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app (one embedder load) for the module, generator = the tiny T5 with the adapters folder."""
    from edurag.components import build_components
    from edurag.settings import Settings
    from service.app import create_app

    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), generator="hf", generator_model=str(tiny_t5_dir),
                        adapters_dir=adapters_dir, admin_key="test-admin-key", max_new_tokens=12)
    with TestClient(create_app(components=build_components(settings))) as test_client:
        yield test_client


DIALOGUE = json.loads(FIXTURE.read_text().splitlines()[20])["dialogue"]


def _summary(client: TestClient, adapter: str | None) -> str:
    response = client.post("/summarize", json={"text": DIALOGUE} | ({"adapter": adapter} if adapter else {}))
    assert response.status_code == 200, response.text
    return response.json()["summary"]


def test_lists_adapters_with_manifests(client: TestClient) -> None:
    """GET /adapters names both adapters and returns their manifests."""
    body = client.get("/adapters").json()
    assert body["generator"] == "hf"
    assert [a["name"] for a in body["adapters"]] == ["plain", "tagged"]
    assert all(a["manifest"]["method"] == "lora" and a["manifest"]["steps"] == 8 for a in body["adapters"])


def test_hot_swap_never_mixes_adapters_under_concurrency(client: TestClient) -> None:
    """Two adapters give different outputs; 20 concurrent mixed requests each get their own adapter's output."""
    expected = {name: _summary(client, name) for name in ("plain", "tagged", None)}
    assert expected["plain"] != expected["tagged"]
    order = ["plain", "tagged", None, "tagged", "plain"] * 4
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda name: _summary(client, name), order))
    assert results == [expected[name] for name in order]
    assert {a["name"] for a in client.get("/adapters").json()["adapters"] if a["loaded"]} == {"plain", "tagged"}


def test_unknown_adapter_is_404(client: TestClient) -> None:
    """An adapter that is not in the folder is refused with the available names."""
    response = client.post("/summarize", json={"text": DIALOGUE, "adapter": "nope"})
    assert response.status_code == 404 and "plain, tagged" in response.json()["detail"]


def test_reload_picks_up_retrained_adapters(client: TestClient, adapters_dir: Path) -> None:
    """Overwriting an adapter's files changes nothing until the admin reload; afterwards the new weights serve."""
    tagged = _summary(client, "tagged")
    before = _summary(client, "plain")
    assert client.post("/admin/adapters/reload").status_code == 401
    backup = adapters_dir.parent / "plain-backup"
    shutil.copytree(adapters_dir / "plain", backup)
    try:
        shutil.copy(adapters_dir / "tagged" / "adapter_model.safetensors", adapters_dir / "plain" / "adapter_model.safetensors")
        assert _summary(client, "plain") == before
        response = client.post("/admin/adapters/reload", headers=ADMIN)
        assert response.status_code == 200
        assert set(response.json()["dropped"]) >= {"plain"} and response.json()["available"] == ["plain", "tagged"]
        assert _summary(client, "plain") == tagged
    finally:
        shutil.rmtree(adapters_dir / "plain")
        shutil.copytree(backup, adapters_dir / "plain")
        client.post("/admin/adapters/reload", headers=ADMIN)
    assert _summary(client, "plain") == before
