"""`edurag eval` end to end through the real CLI: ROUGE and toxicity runs, shot-leak refusal, items, report charts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edurag.cli import app
from tests.conftest import FIXTURES, SHARED_DATA

DEV40 = FIXTURES / "dialogsum_dev40.jsonl"


@pytest.fixture()
def runs_dir(tmp_path: Path) -> Path:
    """A runs folder of this test's own (no test reads what another wrote)."""
    (tmp_path / "runs").mkdir()
    return tmp_path / "runs"


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("EDURAG_DATA_DIR", str(tmp_path / "data"))
    return {"EDURAG_DATA_DIR": str(tmp_path / "data"), "EDURAG_MAX_NEW_TOKENS": "8"}


def test_rouge_limit_5_extractive(runs_dir: Path, env: dict[str, str]) -> None:
    out = runs_dir / "rouge.json"
    result = CliRunner().invoke(app, ["eval", "rouge", "--data", str(DEV40), "--limit", "5", "--generator", "extractive",
                                      "--strategy", "all", "--oracle", "--json", str(out)], env=env)
    assert result.exit_code == 0, result.output
    run = json.loads(out.read_text())
    assert run["kind"] == "rouge" and run["config"]["items"] == 5 and run["config"]["strategy"] == "zero_shot"
    assert set(run["metrics"]) == {"rouge1", "rouge2", "rougeL", "rougeLsum"}
    assert 0.05 < run["metrics"]["rouge1"] < 1
    assert "rouge1" in result.output and "oracle-L" in result.output
    # the ROUGE-L oracle picks from the same sentences within the same budgets, knowing the reference
    assert run["baselines"]["oracle-L"]["rougeL"] > run["metrics"]["rougeL"]
    assert [r["id"] for r in run["baselines_per_item"]["oracle-L"]] == [r["id"] for r in run["per_item"]]


def test_toxicity_with_the_offline_scorer(runs_dir: Path, env: dict[str, str]) -> None:
    out = runs_dir / "toxicity.json"
    result = CliRunner().invoke(app, ["eval", "toxicity", "--data", str(DEV40), "--limit", "3", "--generator", "extractive",
                                      "--classifier", "profanity-check", "--json", str(out)], env=env)
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())["metrics"]
    assert 0 <= metrics["toxicity_mean"] <= 1 and metrics["toxicity_std"] >= 0 and metrics["items"] == 3


def test_hf_few_shot_run_and_shots_from_the_scored_split_refused(tiny_t5_dir: Path, runs_dir: Path, env: dict[str, str],
                                                                 tmp_path: Path) -> None:
    rows = DEV40.read_text().splitlines()
    scored, shots = tmp_path / "scored.jsonl", tmp_path / "shots.jsonl"
    scored.write_text("\n".join(rows[:2]) + "\n")
    shots.write_text("\n".join(rows[2:6]) + "\n")
    base = ["eval", "rouge", "--data", str(scored), "--generator", "hf", "--model", str(tiny_t5_dir), "--strategy", "few_shot"]
    ok = CliRunner().invoke(app, [*base, "--shots-file", str(shots), "--json", str(runs_dir / "tiny.json"), "--label", "tiny-t5"], env=env)
    assert ok.exit_code == 0, ok.output
    assert json.loads((runs_dir / "tiny.json").read_text())["config"]["strategy"] == "few_shot"
    leaked = CliRunner().invoke(app, [*base, "--shots-file", str(DEV40)], env=env)
    assert leaked.exit_code != 0 and "shot" in leaked.output


def test_items_from_the_alignment_csv(tmp_path: Path, env: dict[str, str]) -> None:
    csv = SHARED_DATA / "alignment" / "allenai_generated_problems_teacher_annotations.csv"
    if not csv.exists():
        pytest.skip("shared alignment data not present")
    out = tmp_path / "items.jsonl"
    result = CliRunner().invoke(app, ["eval", "items", "--alignment-csv", str(csv), "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 106 and {r["split"] for r in rows} == {"dev", "heldout"}
    assert all(r["standard_ids"] and "create a problem aligned to" not in r["text"] for r in rows)
    assert rows[0]["filters"] == {"subject": "math"}


def test_report_writes_non_empty_charts(runs_dir: Path, tmp_path: Path) -> None:
    """Runs as the eval commands write them (one of each kind, two ROUGE labels) -> charts and a Markdown report."""
    rouge = {"rouge1": 0.3, "rouge2": 0.1, "rougeL": 0.25, "rougeLsum": 0.25}
    for label, items in (("extractive/zero_shot", 5), ("tiny-t5", 2)):
        run = {"kind": "rouge", "label": label, "config": {"items": items}, "metrics": rouge}
        (runs_dir / f"{label.replace('/', '_')}.json").write_text(json.dumps(run))
    toxicity = {"kind": "toxicity", "label": "extractive", "metrics": {"toxicity_mean": 0.02, "toxicity_std": 0.01, "items": 3}}
    (runs_dir / "toxicity.json").write_text(json.dumps(toxicity))
    retrieval = {"kind": "retrieval", "label": "fake", "metrics": {"hit@1": 0.2, "hit@5": 0.6, "hit@10": 0.8, "recall@5": 0.6,
                                                                    "recall@10": 0.7, "recall@1": 0.2, "mrr": 0.4, "items": 5},
                 "breakdown": {"grade": {"6": {"hit@1": 0.3, "hit@5": 1.0, "hit@10": 1.0, "recall@5": 1.0, "mrr": 0.6, "items": 3}}}}
    (runs_dir / "retrieval.json").write_text(json.dumps(retrieval))
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["eval", "report", "--runs", str(runs_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("rouge.png", "toxicity.png", "retrieval_hit_at_k.png"):
        data = (out / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 5000
    report = (out / "report.md").read_text()
    assert "tiny-t5" in report and "extractive/zero_shot" in report and "| 6 |" in report
