"""The layering rule of README "Architecture", checked by import-linter with the contracts in pyproject.toml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """Run every import contract of pyproject.toml over the packages in `tree` (no cache, so edits always count)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT_IMPORTS), str(tree / "pyproject.toml"), "--no-cache"], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=300)


def test_import_contracts_are_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONFIG['contracts'])} kept, 0 broken." in result.stdout
    assert all(contract_status(result.stdout, c["name"]) == "KEPT" for c in CONFIG["contracts"])


@pytest.mark.parametrize(("module", "forbidden_import", "contract"), [
    ("vectorstore/chroma.py", "import service.app", "One-way layers"),
    ("edurag/settings.py", "import edurag.components", "One-way layers"),
    ("service/routes/align.py", "import eval.retrieval", "Serving never imports evaluation or training code"),
    ("vectorstore/lexical.py", "import fastapi", "Only service speaks HTTP"),
])
def test_a_forbidden_import_breaks_a_contract(tmp_path: Path, module: str, forbidden_import: str, contract: str) -> None:
    """The same contracts fail on a copy of the tree with one import that the architecture forbids."""
    for name in [*CONFIG["root_packages"], "pyproject.toml"]:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "fixtures", "data"))
        else:
            shutil.copy(source, tmp_path / name)
    target = tmp_path / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{forbidden_import}  # added by the test\n", encoding="utf-8")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert contract_status(result.stdout, contract) == "BROKEN", result.stdout


def contract_status(report: str, contract: str) -> str:
    """KEPT or BROKEN: the word after the contract's name in the lint-imports summary (names may wrap lines)."""
    words = " ".join(report.split())
    start = words.index(contract)
    return min((words.find(w, start), w) for w in ("KEPT", "BROKEN") if words.find(w, start) >= 0)[1]


def test_readme_architecture_names_every_layer_module() -> None:
    """README "Architecture" is the written form of the layers contract: it names every module the contract lists."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    layers = next(c for c in CONFIG["contracts"] if c["type"] == "layers")["layers"]
    modules = [m.strip() for layer in layers for m in layer.replace("|", ":").split(":")]
    missing = [m for m in modules if f"`{m.replace('.', '/')}" not in section and f"`{m}" not in section]
    assert not missing, f"README Architecture does not mention {missing}"


def test_package_data_ships_every_bundled_data_file() -> None:
    """A non-editable install (the Dockerfile's `pip install .`) carries every file under edurag/data the repo tracks:
    setuptools' package-data patterns are globs whose `*` stops at `/`, so a new subfolder (the aligner's
    query_encoder/, the summary scorer) is left out of the image unless a pattern names it."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]["edurag"]
    shipped = {path for pattern in patterns for path in (ROOT / "edurag").glob(pattern) if path.is_file()}
    tracked = subprocess.run(["git", "ls-files", "edurag/data"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    bundled = {ROOT / name for name in tracked if not name.endswith(".py")}
    assert bundled and not bundled - shipped, sorted(str(p.relative_to(ROOT)) for p in bundled - shipped)
