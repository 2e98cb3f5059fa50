"""Tiny real models built locally from fixture text: a T5 (seq2seq) and a Llama-style causal LM."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).parent.parent / "fixtures"


def fixture_texts() -> list[str]:
    """Dialogues and summaries from the DialogSum fixture slice plus the bundled shots."""
    texts: list[str] = []
    for line in (FIXTURES / "dialogsum_dev40.jsonl").read_text().splitlines():
        row = json.loads(line)
        texts += [row["dialogue"], row["summary"]]
    from edurag.prompts import ZERO_SHOT_TEMPLATE, FLAN_TEMPLATE, RAG_TEMPLATE

    return texts + [ZERO_SHOT_TEMPLATE, FLAN_TEMPLATE, RAG_TEMPLATE] * 5


def build_tiny_t5(out: Path, seed: int = 0) -> Path:
    """The finetune package's `tiny` T5 preset (random weights) with a tokenizer trained on fixture text."""
    from finetune.scratch import init_seq2seq

    return init_seq2seq("tiny", fixture_texts(), out, seed=seed)


def build_tiny_causal(out: Path, seed: int = 0) -> Path:
    """A 2-layer Llama-style decoder-only LM (q_proj/v_proj like SmolLM2) with the fixture tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from finetune.scratch import train_tokenizer

    out.mkdir(parents=True, exist_ok=True)
    tok = train_tokenizer(fixture_texts(), 600, out)
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, bos_token_id=tok.eos_token_id)
    LlamaForCausalLM(config).save_pretrained(out)
    return out
