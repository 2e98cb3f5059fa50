"""`edurag finetune query-encoder`: the distilled /align query encoder's command, and /align's use of one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edurag.alignment.ranking import BUNDLED_MODEL_DIR, QUERY_ENCODER_DIR, read_model_manifest
from edurag.alignment.search import passage_encoder
from edurag.cli import app
from edurag.components import build_components
from edurag.embedder import Embedder
from edurag.models import load_sentence_transformer, query_encoder_folder
from edurag.settings import Settings
from tests.conftest import FIXTURES

SLICE = FIXTURES / "im_lessons_slice.jsonl"
LECTURES = FIXTURES / "yale_lectures_slice.jsonl"


@pytest.fixture(scope="module")
def distilled(standards_subset_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A query encoder distilled for 3 steps on 16 lessons, a trimmed catalog and one lecture file (the command)."""
    out = tmp_path_factory.mktemp("query-encoder") / "query_encoder"
    result = CliRunner().invoke(app, ["finetune", "query-encoder", "--items", str(SLICE), "--transcripts", str(LECTURES),
                                      "--out", str(out), "--max-steps", "3", "--statements", "20", "--per-transcript", "2"],
                                env={"EDURAG_STANDARDS_DIR": str(standards_subset_dir)})
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.slow
def test_command_distills_a_few_steps_into_a_lora_of_three_layers(distilled: Path, tmp_path: Path) -> None:
    """The LoRA, its layers and a manifest (data sha256, hyperparameters, cosine to the teacher) are written, and the
    encoder it builds offline is three layers of the packaged MiniLM in its 384-d space, nearer the teacher than
    before training on the dev lessons held out of it."""
    manifest = read_model_manifest(distilled)
    assert manifest["steps"] == 3 and manifest["base"]["layers"] == [0, 4, 5]
    assert manifest["data"]["sha256"] and manifest["rebuild"].startswith("edurag finetune query-encoder")
    passages = manifest["data"]["passages"]
    assert passages["lesson_passages"] > 0 and passages["statements"] == 20 and 0 < passages["transcript_passages"] <= 2 * 3
    cosine = manifest["metrics"]["check_cosine_to_teacher"]
    assert passages["check_passages"] > 0 and cosine["after"]["mean"] > cosine["before"]["mean"]
    assert (distilled / "adapter_model.safetensors").stat().st_size < 3_000_000  # float16 LoRA
    built = load_sentence_transformer(str(query_encoder_folder(distilled, tmp_path)))
    assert built[0].auto_model.config.num_hidden_layers == 3
    assert built.encode(["Students compare unit rates."]).shape == (1, 384)


@pytest.mark.slow
def test_align_encodes_passages_with_its_aligners_query_encoder_of_the_same_vector_space(
        distilled: Path, embedder: Embedder, tmp_path: Path) -> None:
    """An aligner folder carrying a query encoder makes /align encode passages with it; without one, or when it was
    distilled from another model than the standards index's, /align encodes with the index's own embedder."""
    folder = tmp_path / "aligner"
    shutil.copytree(BUNDLED_MODEL_DIR, folder, ignore=shutil.ignore_patterns(QUERY_ENCODER_DIR))
    plain = build_components(Settings(data_dir=tmp_path / "data", aligner_model=str(folder)), embedder=embedder)
    assert passage_encoder(plain, embedder) is embedder
    shutil.copytree(distilled, folder / QUERY_ENCODER_DIR)
    query = passage_encoder(plain, embedder)
    assert query is not embedder and query.model[0].auto_model.config.num_hidden_layers == 3
    other = Embedder(model=embedder.model, name="someone/else-minilm")
    assert passage_encoder(plain, other) is other


@pytest.mark.slow
def test_the_bundled_aligners_query_encoder_loads_offline_and_stays_in_the_embedders_space(
        embedder: Embedder, tmp_path: Path) -> None:
    """The default /align encodes passages with the committed LoRA (edurag/data/aligner/query_encoder, with its
    manifest) merged into three MiniLM layers, built offline from the repo; its vectors of real lesson passages stay
    near the full model's (the standards index's)."""
    import json

    import numpy as np

    manifest = read_model_manifest(BUNDLED_MODEL_DIR / QUERY_ENCODER_DIR)
    assert manifest["data"]["sha256"] and manifest["rebuild"].startswith("edurag finetune query-encoder")
    c = build_components(Settings(data_dir=tmp_path / "data", allow_downloads=False), embedder=embedder)
    query = passage_encoder(c, embedder)
    assert query is not embedder and query.model[0].auto_model.config.num_hidden_layers == 3
    rows = [json.loads(line) for line in SLICE.read_text(encoding="utf-8").splitlines()]
    passages = [p for row in rows for p in embedder.passages(row["text"], 200, 0).texts][:40]
    cosine = (query.encode(passages) * embedder.encode(passages)).sum(axis=1)
    assert cosine.mean() >= 0.88 and cosine.min() >= 0.7, (cosine.mean(), cosine.min())


def test_length_grouped_batches_cover_every_passage_once_with_similar_lengths_and_reshuffle_each_epoch() -> None:
    """The distillation's batch sampler: every index once per epoch, batches of similar length (a mix of 30-piece
    statements and 200-piece passages is not padded to 200 in most batches), another order the next epoch."""
    from finetune.query_encoder import length_grouped_batches

    lengths = [30 if i % 3 else 200 for i in range(1000)]
    sampler = length_grouped_batches(lengths)(list(range(len(lengths))), batch_size=16, drop_last=False, seed=13)
    first = list(sampler)
    assert len(first) == len(sampler) == 63
    assert sorted(i for batch in first for i in batch) == list(range(len(lengths)))
    mixed = sum(len({lengths[i] for i in batch}) > 1 for batch in first)
    assert mixed < len(first) / 5  # at most one per mega-batch; drawn at random, nearly every batch would mix
    sampler.set_epoch(1)
    assert list(sampler) != first
