"""Supervised fine-tuning (LoRA, prompt tuning, full) with the transformers Trainer; writes adapter/model + manifest."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from edurag.models import LanguageModel, load_language_model, model_input, resolve_model_path
from edurag.prompts import zero_shot_prompt
from finetune.config import (CAUSAL_LORA_TARGETS, SEQ2SEQ_LORA_TARGETS, DataArgs, LoraArgs, PromptTuningArgs, TrainArgs,
                             as_json, check_method, resolved_optimizer)
from finetune.data import Pair, TrainingData, load_pairs
from finetune.manifest import describe_base, library_versions, write_manifest
from finetune.scratch import init_seq2seq

logger = logging.getLogger(__name__)


def model_prompt(tokenizer: Any, dialogue: str, is_encoder_decoder: bool) -> str:
    """The exact text the served generator feeds the model: the zero-shot prompt (chat-wrapped for decoder-only)."""
    return model_input(tokenizer, zero_shot_prompt(dialogue), is_encoder_decoder)


def fit_dialogue(tokenizer: Any, dialogue: str, is_encoder_decoder: bool, max_tokens: int) -> str:
    """Shorten the dialogue (not the instruction or the `Summary:` cue) so the whole prompt fits max_tokens."""
    overhead = len(tokenizer(model_prompt(tokenizer, "", is_encoder_decoder))["input_ids"])
    ids = tokenizer(dialogue, add_special_tokens=False)["input_ids"]
    budget = max(max_tokens - overhead, 1)
    return dialogue if len(ids) <= budget else tokenizer.decode(ids[:budget])


def build_features(pairs: list[Pair], tokenizer: Any, is_encoder_decoder: bool, data: DataArgs) -> list[dict[str, list[int]]]:
    """Token ids and labels; decoder-only labels cover the summary (+EOS) only, the prompt is masked with -100."""
    features = []
    for pair in pairs:
        dialogue = fit_dialogue(tokenizer, pair.dialogue, is_encoder_decoder, data.max_source_tokens)
        prompt = tokenizer(model_prompt(tokenizer, dialogue, is_encoder_decoder), truncation=True,
                           max_length=data.max_source_tokens)["input_ids"]
        if is_encoder_decoder:
            labels = tokenizer(text_target=pair.summary, truncation=True, max_length=data.max_target_tokens)["input_ids"]
            features.append({"input_ids": prompt, "attention_mask": [1] * len(prompt), "labels": labels})
            continue
        summary = tokenizer(pair.summary, add_special_tokens=False, truncation=True,
                            max_length=data.max_target_tokens - 1)["input_ids"] + [tokenizer.eos_token_id]
        ids = prompt + summary
        features.append({"input_ids": ids, "attention_mask": [1] * len(ids), "labels": [-100] * len(prompt) + summary})
    return features


def make_collator(tokenizer: Any) -> Any:
    """Dynamic padding; labels padded with -100 so padding never counts in the loss (DataCollatorForSeq2Seq does both kinds)."""
    from transformers import DataCollatorForSeq2Seq

    return DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100, padding=True)


def peft_model(method: str, lm: LanguageModel, base_path: Path, lora: LoraArgs, prompt: PromptTuningArgs) -> Any:
    """Wrap the base in the method's PEFT config (or return it as is for a full fine-tune)."""
    from peft import LoraConfig, PromptTuningConfig, PromptTuningInit, TaskType, get_peft_model

    task = TaskType.SEQ_2_SEQ_LM if lm.is_encoder_decoder else TaskType.CAUSAL_LM
    if method == "lora":
        targets = lora.target_modules or (SEQ2SEQ_LORA_TARGETS if lm.is_encoder_decoder else CAUSAL_LORA_TARGETS)
        config = LoraConfig(r=lora.r, lora_alpha=lora.alpha, target_modules=targets, lora_dropout=lora.dropout,
                            bias="none", task_type=task)
    elif method == "prompt-tuning":
        config = PromptTuningConfig(task_type=task, num_virtual_tokens=prompt.num_virtual_tokens,
                                    prompt_tuning_init=PromptTuningInit.TEXT, prompt_tuning_init_text=prompt.init_text,
                                    tokenizer_name_or_path=str(base_path))
    else:
        return lm.model
    return get_peft_model(lm.model, config)


def count_parameters(model: Any) -> tuple[int, int]:
    """(trainable, total) parameters; PEFT's own count for PEFT models (virtual tokens included)."""
    if hasattr(model, "get_nb_trainable_parameters"):
        return model.get_nb_trainable_parameters()
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


def _trainer(model: Any, lm: LanguageModel, features: list[dict[str, list[int]]], out: Path, method: str,
             train: TrainArgs, progress: bool) -> Any:
    from datasets import Dataset
    from transformers import Seq2SeqTrainer, Seq2SeqTrainingArguments, Trainer, TrainingArguments

    lr, wd = resolved_optimizer(method, train)
    args_cls, trainer_cls = (Seq2SeqTrainingArguments, Seq2SeqTrainer) if lm.is_encoder_decoder else (TrainingArguments, Trainer)
    args = args_cls(
        output_dir=str(out / "checkpoints"), per_device_train_batch_size=train.batch_size,
        gradient_accumulation_steps=train.grad_accum, learning_rate=lr, weight_decay=wd, num_train_epochs=train.epochs,
        max_steps=train.max_steps, warmup_steps=train.warmup_steps, logging_steps=train.logging_steps,
        save_steps=train.save_steps, save_total_limit=2, report_to=[], use_cpu=True, seed=train.seed,
        remove_unused_columns=False, disable_tqdm=not progress, dataloader_num_workers=0,
    )
    return trainer_cls(model=model, args=args, train_dataset=Dataset.from_list(features),
                       data_collator=make_collator(lm.tokenizer), processing_class=lm.tokenizer)


def run_training(method: str, base: str | None, data: DataArgs, out: Path, train: TrainArgs | None = None,
                 lora: LoraArgs | None = None, prompt: PromptTuningArgs | None = None, init_from_config: str | None = None,
                 allow_downloads: bool = False, progress: bool = True) -> dict[str, Any]:
    """Validate inputs, fine-tune, save the adapter (or model) + tokenizer + manifest to `out`; return the manifest."""
    from transformers.trainer_utils import get_last_checkpoint

    check_method(method)
    train, lora, prompt = train or TrainArgs(), lora or LoraArgs(), prompt or PromptTuningArgs()
    if init_from_config and method != "full":
        raise ValueError("--init-from-config builds a new model, so it only applies to the full method")
    if not init_from_config and not base:
        raise ValueError("give a base model (--base) or, for the full method, --init-from-config PRESET")
    training_data: TrainingData = load_pairs(data.path, data.dialogue_field, data.summary_field, data.limit)
    out.mkdir(parents=True, exist_ok=True)
    if init_from_config:
        texts = [zero_shot_prompt(p.dialogue) for p in training_data.pairs] + [p.summary for p in training_data.pairs]
        base = str(init_seq2seq(init_from_config, texts, out / "init", seed=train.seed))
    base_path = resolve_model_path(base, allow_downloads)
    if base_path is None:
        raise FileNotFoundError(f"base model {base!r} is not available locally or in the HF cache")
    lm = load_language_model(str(base_path), allow_downloads)
    lm.tokenizer.padding_side = "right"
    model = peft_model(method, lm, base_path, lora, prompt)
    trainable, total = count_parameters(model)
    logger.info("%s on %s: %s of %s parameters trainable (%.2f%%)", method, base, f"{trainable:,}", f"{total:,}",
                100 * trainable / total)
    features = build_features(training_data.pairs, lm.tokenizer, lm.is_encoder_decoder, data)
    trainer = _trainer(model, lm, features, out, method, train, progress)
    checkpoints = out / "checkpoints"
    last = get_last_checkpoint(str(checkpoints)) if train.resume and checkpoints.is_dir() else None
    if last:
        logger.info("resuming from %s", last)
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=last)
    wall = time.perf_counter() - started
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    model.save_pretrained(out)
    lm.tokenizer.save_pretrained(out)
    lr, wd = resolved_optimizer(method, train)
    hyper = as_json(train, data) | {"learning_rate": lr, "weight_decay": wd}
    if method == "lora":
        hyper |= {"lora": as_json(lora) | {"target_modules": sorted(model.peft_config["default"].target_modules)}}
    elif method == "prompt-tuning":
        hyper |= {"prompt_tuning": as_json(prompt)}
    manifest = {
        "base": describe_base(f"init-from-config:{init_from_config}" if init_from_config else str(base), base_path,
                              lm.model.config),
        "method": method, "hyperparameters": hyper, "data": training_data.describe(),
        "steps": trainer.state.global_step, "final_loss": losses[-1] if losses else result.training_loss,
        "first_loss": losses[0] if losses else None, "mean_train_loss": result.training_loss,
        "resumed_from": last, "trainable_parameters": trainable, "total_parameters": total,
        "trainable_share": trainable / total, "wall_time_seconds": round(wall, 2), "versions": library_versions(),
    }
    write_manifest(out, manifest)
    logger.info("saved %s artifact to %s (%d steps, final loss %.4f)", method, out, manifest["steps"], manifest["final_loss"])
    return manifest
