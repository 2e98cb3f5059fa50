"""Generators: tiny real T5 / causal LM through the same loader as FLAN-T5, auto selection, map-reduce."""

from __future__ import annotations

import json

import pytest

from edurag.generators import ExtractiveGenerator, HFGenerator, build_generator, fit_budget, text_units
from edurag.models import has_local_weights, load_language_model
from edurag.prompts import load_shots
from edurag.settings import BUNDLED_SHOTS_FILE, Settings
from edurag.summarization.mapreduce import split_for, summarize_text
from tests.conftest import FIXTURES

SHOTS = load_shots(BUNDLED_SHOTS_FILE)


def dialogues(n: int) -> list[str]:
    return [json.loads(line)["dialogue"] for line in (FIXTURES / "dialogsum_dev40.jsonl").read_text().splitlines()[:n]]


def test_auto_picks_extractive_when_weights_are_missing(embedder, tmp_path):
    settings = Settings(data_dir=tmp_path, generator="auto", generator_model="google/flan-t5-base")
    assert not has_local_weights("google/flan-t5-base")
    assert isinstance(build_generator(settings, embedder, SHOTS), ExtractiveGenerator)


def test_auto_picks_hf_when_the_model_resolves_locally(embedder, tmp_path, tiny_t5_dir):
    settings = Settings(data_dir=tmp_path, generator="auto", generator_model=str(tiny_t5_dir), max_new_tokens=8)
    generator = build_generator(settings, embedder, SHOTS)
    assert isinstance(generator, HFGenerator) and generator.info()["architecture"] == "seq2seq"


def test_missing_hf_model_fails_clearly(embedder, tmp_path):
    with pytest.raises(FileNotFoundError, match="not available locally"):
        build_generator(Settings(data_dir=tmp_path, generator="hf", generator_model="no/such-model"), embedder, SHOTS)


@pytest.mark.parametrize("strategy", ["zero_shot", "one_shot", "few_shot"])
def test_tiny_t5_generates_for_every_strategy(tiny_t5_dir, strategy):
    generator = HFGenerator(lm=load_language_model(str(tiny_t5_dir)), shots=SHOTS, max_new_tokens=12)
    outputs = generator.summarize(dialogues(2), strategy)
    assert len(outputs) == 2 and all(isinstance(o, str) and o for o in outputs)


def test_tiny_t5_is_deterministic_and_input_dependent(tiny_t5_dir):
    generator = HFGenerator(lm=load_language_model(str(tiny_t5_dir)), max_new_tokens=12)
    a = generator.summarize(dialogues(3), "zero_shot")
    assert a == generator.summarize(dialogues(3), "zero_shot")
    assert len(set(a)) > 1


def test_tiny_causal_uses_the_causal_path(tiny_causal_dir):
    lm = load_language_model(str(tiny_causal_dir))
    assert not lm.is_encoder_decoder and lm.tokenizer.padding_side == "left"
    outputs = HFGenerator(lm=lm, max_new_tokens=6).summarize(dialogues(2), "zero_shot")
    assert len(outputs) == 2 and all(outputs)


def test_long_text_is_map_reduced_within_the_window(tiny_t5_dir):
    generator = HFGenerator(lm=load_language_model(str(tiny_t5_dir)), shots=SHOTS, max_new_tokens=12)
    text = "\n".join(dialogues(12))
    chunks = split_for(generator, text, "zero_shot")
    budget = generator.window_tokens() - generator.prompt_overhead("zero_shot")
    assert len(chunks) > 1 and all(generator.count_tokens(c) <= budget for c in chunks)
    result = summarize_text(generator, text, "zero_shot")
    assert result.chunks == len(chunks) and result.summary


def test_extractive_units_keep_speakers_and_dialogsum_tags(embedder):
    units = text_units("#Person1#: Hi there. How are you?\nT: Open your books.")
    assert [(u.speaker, u.text) for u in units] == [
        ("#Person1#", "Hi there."), ("#Person1#", "How are you?"), ("T", "Open your books.")]
    dialogue = dialogues(1)[0]
    summary = ExtractiveGenerator(embedder, sentences=2).summarize([dialogue], "zero_shot")[0]
    assert summary.startswith("#Person") and set(summary.split()) <= set(dialogue.split())


def test_extractive_refuses_adapters(embedder):
    with pytest.raises(ValueError, match="no adapters"):
        ExtractiveGenerator(embedder).summarize(["a. b."], "zero_shot", adapter="lora")


def test_fit_budget_keeps_whole_sentences_within_the_budget():
    text = "Water evaporates from the ocean. Vapor condenses into clouds high above. Rain falls back to the land."
    assert fit_budget(text, 12) == "Water evaporates from the ocean. Vapor condenses into clouds high above."
    assert fit_budget(text, 3) == "Water evaporates from…"
    assert fit_budget(text, 100) == text
