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


def build_tokenizer(out: Path, vocab_size: int = 600):
    """Train a Unigram tokenizer (SentencePiece-style Metaspace) on fixture text and wrap it for transformers."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>")
    tok.train_from_iterator(fixture_texts(), trainer)
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                       special_tokens=[("</s>", tok.token_to_id("</s>"))])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                   model_max_length=512)
    fast.save_pretrained(out)
    return fast


def build_tiny_t5(out: Path, seed: int = 0) -> Path:
    """A 2-layer T5 with a fixture-trained tokenizer, saved with save_pretrained (random weights)."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    out.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(out)
    torch.manual_seed(seed)
    config = T5Config(vocab_size=len(tok), d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=4,
                      pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, decoder_start_token_id=tok.pad_token_id)
    T5ForConditionalGeneration(config).save_pretrained(out)
    return out


def build_tiny_causal(out: Path, seed: int = 0) -> Path:
    """A 2-layer Llama-style decoder-only LM (q_proj/v_proj like SmolLM2) with the fixture tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    out.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(out)
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, bos_token_id=tok.eos_token_id)
    LlamaForCausalLM(config).save_pretrained(out)
    return out
