"""`edurag finetune query-encoder`: the distilled /align query encoder's rebuild command, and the shipped one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from edurag.alignment.ranking import BUNDLED_MODEL_DIR, QUERY_ENCODER_DIR, read_model_manifest
from edurag.cli import app
from edurag.embedder import Embedder
from edurag.models import load_sentence_transformer, query_encoder_folder
from tests.conftest import FIXTURES

SLICE = FIXTURES / "im_lessons_slice.jsonl"
LECTURES = FIXTURES / "yale_lectures_slice.jsonl"
SHIPPED = BUNDLED_MODEL_DIR / QUERY_ENCODER_DIR


def _lesson_passages(embedder: Embedder) -> list[str]:
    rows = [json.loads(line) for line in SLICE.read_text(encoding="utf-8").splitlines()]
    return [p for row in rows for p in embedder.passages(row["text"], 200, 0).texts]


@pytest.mark.slow
def test_rebuild_command_distills_a_few_steps_on_a_tiny_slice(standards_subset_dir: Path, tmp_path: Path) -> None:
    """The command on 16 lessons, a trimmed catalog and one lecture file writes a LoRA that builds a 3-layer encoder."""
    out = tmp_path / "query_encoder"
    result = CliRunner().invoke(app, ["finetune", "query-encoder", "--items", str(SLICE), "--transcripts", str(LECTURES),
                                      "--out", str(out), "--max-steps", "3", "--statements", "20", "--per-transcript", "2"],
                                env={"EDURAG_STANDARDS_DIR": str(standards_subset_dir)})
    assert result.exit_code == 0, result.output
    manifest = read_model_manifest(out)
    assert manifest["steps"] == 3 and manifest["base"]["layers"] == [0, 4, 5]
    passages = manifest["data"]["passages"]
    assert passages["lesson_passages"] > 0 and passages["statements"] == 20 and 0 < passages["transcript_passages"] <= 2 * 3
    assert passages["check_passages"] > 0 and manifest["metrics"]["check_cosine_to_teacher"]["after"]["mean"] > 0
    built = load_sentence_transformer(str(query_encoder_folder(out, tmp_path / "cache")))
    assert built[0].auto_model.config.num_hidden_layers == 3
    assert built.encode(["Students compare unit rates."]).shape == (1, 384)


def test_shipped_query_encoder_loads_offline_and_stays_in_the_embedders_vector_space(tmp_path: Path,
                                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The committed LoRA builds from the packaged MiniLM with no network, and its vectors of real lesson passages are
    the full model's (cosine >= 0.9 each; the same three layers untrained give ~0.6)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    teacher = load_sentence_transformer("")
    student = load_sentence_transformer(str(query_encoder_folder(SHIPPED, tmp_path)))
    assert student[0].auto_model.config.num_hidden_layers == 3
    passages = _lesson_passages(Embedder(model=teacher, name="teacher"))
    cosine = (student.encode(passages, normalize_embeddings=True) * teacher.encode(passages, normalize_embeddings=True)).sum(1)
    assert len(passages) >= 16 and cosine.min() >= 0.9, np.round(np.sort(cosine)[:5], 3)
    manifest = read_model_manifest(SHIPPED)
    assert manifest["data"]["sha256"] and manifest["rebuild"].startswith("edurag finetune query-encoder")
