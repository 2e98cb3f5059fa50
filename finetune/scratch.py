"""`full --init-from-config`: a seq2seq (T5) model built from a preset config with a tokenizer trained on the data."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

logger = logging.getLogger(__name__)

PRESETS: dict[str, dict[str, int]] = {
    "tiny": {"vocab_size": 800, "d_model": 32, "d_kv": 8, "d_ff": 64, "num_layers": 2, "num_decoder_layers": 2, "num_heads": 4},
    "small": {"vocab_size": 8000, "d_model": 256, "d_kv": 32, "d_ff": 1024, "num_layers": 4, "num_decoder_layers": 4, "num_heads": 8},
}


def train_tokenizer(texts: Iterable[str], vocab_size: int, out: Path) -> object:
    """A SentencePiece-style Unigram tokenizer (as T5 uses) trained on `texts`, saved for transformers."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>")
    tok.train_from_iterator(texts, trainer)
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                       special_tokens=[("</s>", tok.token_to_id("</s>"))])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                   model_max_length=512)
    fast.save_pretrained(out)
    return fast


def init_seq2seq(preset: str, texts: list[str], out: Path, seed: int = 42) -> Path:
    """Save a randomly initialised T5 of the preset's size plus its data-trained tokenizer to `out`."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    sizes = dict(PRESETS[preset])
    out.mkdir(parents=True, exist_ok=True)
    tok = train_tokenizer(texts, sizes.pop("vocab_size"), out)
    torch.manual_seed(seed)
    config = T5Config(vocab_size=len(tok), pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                      decoder_start_token_id=tok.pad_token_id, **sizes)
    T5ForConditionalGeneration(config).save_pretrained(out)
    logger.info("initialised a %s T5 (%d-token vocabulary) in %s", preset, len(tok), out)
    return out
