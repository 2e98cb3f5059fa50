"""LoRA, prompt tuning and full fine-tunes on tiny real models: loss goes down, artifacts load with plain PEFT."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from finetune.config import DataArgs, PromptTuningArgs, TrainArgs
from finetune.data import DataError, load_pairs
from edurag.adapters import read_manifest
from finetune.manifest import MANIFEST_KEYS
from finetune.train import build_features, make_collator, run_training
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow  # trains tiny models with the transformers Trainer

FIXTURE = FIXTURES / "dialogsum_dev40.jsonl"
DATA = DataArgs(FIXTURE, limit=8, max_source_tokens=96, max_target_tokens=32)


def batch_loss(model: Any, model_dir: Path) -> float:
    """Loss of `model` on the fixed tiny batch (the first 8 fixture rows), in eval mode."""
    import torch
    from transformers import AutoConfig, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    tok.padding_side = "right"
    pairs = load_pairs(FIXTURE, limit=8).pairs
    batch = make_collator(tok)(build_features(pairs, tok, AutoConfig.from_pretrained(model_dir).is_encoder_decoder, DATA))
    model.eval()
    with torch.no_grad():
        return float(model(**batch).loss)


def test_lora_seq2seq_lowers_loss_and_loads_with_plain_peft(tiny_t5_dir: Path, tmp_path: Path) -> None:
    """Six LoRA steps lower the loss on the fixed batch; PeftModel.from_pretrained loads and generates; manifest is complete."""
    from peft import PeftModel
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    before = batch_loss(AutoModelForSeq2SeqLM.from_pretrained(tiny_t5_dir), tiny_t5_dir)
    manifest = run_training("lora", str(tiny_t5_dir), DATA, tmp_path,
                            TrainArgs(max_steps=6, batch_size=8, learning_rate=1e-2, logging_steps=1), progress=False)
    tuned = PeftModel.from_pretrained(AutoModelForSeq2SeqLM.from_pretrained(tiny_t5_dir), str(tmp_path))
    assert batch_loss(tuned, tiny_t5_dir) < before - 0.05
    tok = AutoTokenizer.from_pretrained(tmp_path)
    assert tuned.generate(**tok(["Summarize the following conversation."], return_tensors="pt"), max_new_tokens=4).shape[1] > 1

    assert (tmp_path / "adapter_config.json").exists() and (tmp_path / "adapter_model.safetensors").exists()
    assert manifest == read_manifest(tmp_path) and all(k in manifest for k in MANIFEST_KEYS)
    assert manifest["data"] == {"file": FIXTURE.name, "sha256": hashlib.sha256(FIXTURE.read_bytes()).hexdigest(),
                                "rows_in_file": 40, "rows_used": 8}
    lora = manifest["hyperparameters"]["lora"]
    assert (lora["r"], lora["alpha"], lora["dropout"], lora["target_modules"]) == (32, 32, 0.05, ["q", "v"])
    assert manifest["steps"] == 6 and manifest["final_loss"] < manifest["first_loss"]
    assert manifest["base"]["model_type"] == "t5" and manifest["base"]["path"] == str(tiny_t5_dir.resolve())
    assert 0 < manifest["trainable_parameters"] < manifest["total_parameters"]
    assert manifest["trainable_share"] == pytest.approx(manifest["trainable_parameters"] / manifest["total_parameters"])
    assert {"torch", "transformers", "peft", "trl"} <= set(manifest["versions"])


def test_lora_causal_trains_on_summary_tokens_only(tiny_causal_dir: Path, tmp_path: Path) -> None:
    """Decoder-only: prompt tokens are masked with -100, targets are q_proj/v_proj, and the loss goes down."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_causal_dir)
    pair = load_pairs(FIXTURE, limit=1).pairs[0]
    feature = build_features([pair], tok, False, DATA)[0]
    summary_ids = [i for i in feature["labels"] if i != -100]
    assert summary_ids == tok(pair.summary, add_special_tokens=False)["input_ids"][:31] + [tok.eos_token_id]
    assert feature["labels"][:len(feature["labels"]) - len(summary_ids)] == [-100] * (len(feature["labels"]) - len(summary_ids))

    before = batch_loss(AutoModelForCausalLM.from_pretrained(tiny_causal_dir), tiny_causal_dir)
    manifest = run_training("lora", str(tiny_causal_dir), DATA, tmp_path,
                            TrainArgs(max_steps=6, batch_size=8, learning_rate=1e-2, logging_steps=1), progress=False)
    assert manifest["hyperparameters"]["lora"]["target_modules"] == ["q_proj", "v_proj"]
    tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_causal_dir), str(tmp_path))
    assert batch_loss(tuned, tiny_causal_dir) < before - 0.05


def test_prompt_tuning_lowers_loss(tiny_t5_dir: Path, tmp_path: Path) -> None:
    """Prompt tuning (virtual tokens initialised from the instruction) lowers the loss and reloads with PEFT."""
    from peft import PeftModel
    from transformers import AutoModelForSeq2SeqLM

    before = batch_loss(AutoModelForSeq2SeqLM.from_pretrained(tiny_t5_dir), tiny_t5_dir)
    manifest = run_training("prompt-tuning", str(tiny_t5_dir), DATA, tmp_path,
                            TrainArgs(max_steps=6, batch_size=8, learning_rate=0.5, logging_steps=1),
                            prompt=PromptTuningArgs(num_virtual_tokens=8), progress=False)
    assert manifest["hyperparameters"]["prompt_tuning"]["init_text"] == "Summarize the following conversation."
    assert json.loads((tmp_path / "adapter_config.json").read_text())["peft_type"] == "PROMPT_TUNING"
    tuned = PeftModel.from_pretrained(AutoModelForSeq2SeqLM.from_pretrained(tiny_t5_dir), str(tmp_path))
    assert batch_loss(tuned, tiny_t5_dir) < before - 0.02
    assert manifest["trainable_parameters"] == 8 * 32 * 2  # PEFT keeps virtual tokens for encoder and decoder


def test_full_from_tiny_config_via_cli_then_resume(tmp_path: Path) -> None:
    """`edurag finetune full --init-from-config tiny` trains a new T5 end to end; a longer rerun resumes."""
    from transformers import AutoModelForSeq2SeqLM

    from edurag.cli import app

    out = tmp_path / "full"
    common = ["finetune", "full", "--init-from-config", "tiny", "--data", str(FIXTURE), "--out", str(out), "--limit", "8",
              "--batch-size", "8", "--learning-rate", "3e-3", "--save-steps", "3", "--logging-steps", "1",
              "--max-source-tokens", "96", "--max-target-tokens", "32"]
    result = CliRunner().invoke(app, common + ["--max-steps", "3"])
    assert result.exit_code == 0, result.output
    first = read_manifest(out)
    assert first["base"]["id"] == "init-from-config:tiny" and first["hyperparameters"]["weight_decay"] == 0.01
    assert first["trainable_parameters"] == first["total_parameters"] and first["final_loss"] < first["first_loss"]
    result = CliRunner().invoke(app, common + ["--max-steps", "6"])
    assert result.exit_code == 0, result.output
    second = read_manifest(out)
    assert second["resumed_from"].endswith("checkpoint-3") and second["steps"] == 6
    assert second["final_loss"] < first["first_loss"]
    assert batch_loss(AutoModelForSeq2SeqLM.from_pretrained(out), out / "init") < first["first_loss"]


@pytest.mark.parametrize(("content", "message"), [
    ("", "has no rows"),
    ('{"dialogue": "A: hi"}\n', "line 1: missing or empty field(s) 'summary' (fields present: dialogue)"),
    ('{"dialogue": "A: hi", "summary": "  "}\n', "missing or empty field(s) 'summary'"),
    ('{"dialogue": "A: hi", "summary": "x"}\nnot json\n', "line 2: not valid JSON"),
    ('["a list"]\n', "line 1: expected a JSON object"),
])
def test_bad_data_fails_before_any_model_loads(content: str, message: str, tmp_path: Path) -> None:
    """Empty files, missing fields and broken lines raise DataError naming the line (the base does not even exist)."""
    path = tmp_path / "train.jsonl"
    path.write_text(content)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_training("lora", "/nonexistent/base", DataArgs(path), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_custom_field_names_are_accepted(tmp_path: Path) -> None:
    """A school's own jsonl with other field names loads with --dialogue-field/--summary-field."""
    path = tmp_path / "school.jsonl"
    path.write_text(json.dumps({"transcript": "T: Today we add fractions.", "notes": "Adding fractions."}) + "\n")
    data = load_pairs(path, dialogue_field="transcript", summary_field="notes")
    assert data.pairs[0].summary == "Adding fractions." and data.describe()["rows_in_file"] == 1


def test_unknown_method_and_misused_options_fail_clearly(tiny_t5_dir: Path, tmp_path: Path) -> None:
    """Unknown methods, --init-from-config outside full, and an unknown CLI command are refused before training."""
    from edurag.cli import app

    with pytest.raises(ValueError, match="unknown fine-tuning method 'qlora'; choose one of lora, prompt-tuning, full"):
        run_training("qlora", str(tiny_t5_dir), DATA, tmp_path / "a")
    with pytest.raises(ValueError, match="only applies to the full method"):
        run_training("lora", str(tiny_t5_dir), DATA, tmp_path / "b", init_from_config="tiny")
    result = CliRunner().invoke(app, ["finetune", "lora", "--base", str(tiny_t5_dir), "--data", str(tmp_path / "none.jsonl"),
                                      "--out", str(tmp_path / "c")])
    assert result.exit_code == 2 and "does not exist" in " ".join(result.output.split())
    assert CliRunner().invoke(app, ["finetune", "qlora"]).exit_code == 2
    assert not any((tmp_path / d).exists() for d in "abc")
