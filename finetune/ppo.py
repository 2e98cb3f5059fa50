"""PPO detoxification (the paper's recipe) with trl 0.11.4: LoRA policy + value head, frozen copy of the LoRA model as reference.

trl is pinned to 0.11.4 on purpose: it is the last release with `PPOTrainer` and
`AutoModelForSeq2SeqLMWithValueHead` (trl 1.x has no seq2seq PPO); tests/test_finetune_ppo.py breaks if that changes.
"""

from __future__ import annotations

import json
import logging
import random
import time
from pathlib import Path
from typing import Any

from edurag.models import load_language_model, resolve_model_path
from edurag.toxicity import load_toxicity_scorer
from finetune.config import DataArgs, PPOArgs, as_json
from finetune.data import load_pairs
from finetune.manifest import check_adapter_matches, describe_base, library_versions, write_manifest
from finetune.train import fit_dialogue, model_prompt

logger = logging.getLogger(__name__)

VALUE_HEAD_FILE = "value_head.pt"
OPTIMIZER_FILE = "optimizer.pt"
STATE_FILE = "ppo_state.json"


def _last_checkpoint(out: Path) -> Path | None:
    """The newest complete PPO checkpoint folder in OUT/checkpoints."""
    found = sorted((out / "checkpoints").glob("step-*"))
    complete = [p for p in found if (p / STATE_FILE).exists()]
    return complete[-1] if complete else None


def _save_checkpoint(folder: Path, policy: Any, trainer: Any, state: dict[str, Any]) -> None:
    """Adapter, value head, optimizer and KL-controller state: enough to continue where the run stopped."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    policy.pretrained_model.save_pretrained(folder)
    torch.save(policy.v_head.state_dict(), folder / VALUE_HEAD_FILE)
    torch.save(trainer.optimizer.state_dict(), folder / OPTIMIZER_FILE)
    (folder / STATE_FILE).write_text(json.dumps(state | {"kl_coef": float(trainer.kl_ctl.value)}), encoding="utf-8")


def encode_queries(lm: Any, dialogues: list[str], max_source_tokens: int) -> list[Any]:
    """Query tensors: the served zero-shot prompt (chat-wrapped for decoder-only), dialogue shortened to fit."""
    import torch

    tok = lm.tokenizer
    return [torch.tensor(tok(model_prompt(tok, fit_dialogue(tok, d, lm.is_encoder_decoder, max_source_tokens),
                                          lm.is_encoder_decoder), truncation=True, max_length=max_source_tokens)["input_ids"])
            for d in dialogues]


def generation_kwargs(tokenizer: Any, args: PPOArgs) -> dict[str, Any]:
    """Pure sampling for rollouts (top_k 0, top_p 1.0, as in the paper's notebook)."""
    return {"min_new_tokens": args.min_new_tokens, "max_new_tokens": args.max_new_tokens, "top_k": 0, "top_p": 1.0,
            "do_sample": True, "pad_token_id": tokenizer.pad_token_id}


def build_trainer(lm: Any, adapter: Path, args: PPOArgs, model_name: str, reference_adapter: Path | None = None) -> tuple[Any, Any]:
    """(policy, PPOTrainer): the trainable LoRA model with a value head, and as reference a frozen copy of the base with
    `reference_adapter` (default: `adapter`), as in the paper's `create_reference_model(ppo_model)`."""
    import copy

    from peft import PeftModel
    from trl import AutoModelForCausalLMWithValueHead, AutoModelForSeq2SeqLMWithValueHead, PPOConfig, PPOTrainer, create_reference_model

    value_cls = AutoModelForSeq2SeqLMWithValueHead if lm.is_encoder_decoder else AutoModelForCausalLMWithValueHead
    reference_base = copy.deepcopy(lm.model)
    policy = value_cls.from_pretrained(PeftModel.from_pretrained(lm.model, str(adapter), is_trainable=True), is_trainable=True)
    reference = create_reference_model(value_cls.from_pretrained(
        PeftModel.from_pretrained(reference_base, str(reference_adapter or adapter))))
    # trl 0.11.4 ignores ref_model for a PEFT policy and compares with the adapter disabled, i.e. the untuned base: the
    # KL penalty would then pull the summarizer back to the base model. Clearing the flag makes trl use `reference`.
    policy.is_peft_model = False
    config = PPOConfig(model_name=model_name, learning_rate=args.learning_rate, ppo_epochs=args.ppo_epochs,
                       mini_batch_size=args.mini_batch_size, batch_size=args.batch_size, init_kl_coef=args.init_kl_coef,
                       adap_kl_ctrl=args.adap_kl_ctrl, target=args.target_kl, seed=args.seed)
    return policy, PPOTrainer(config=config, model=policy, ref_model=reference, tokenizer=lm.tokenizer)


def run_ppo(base: str, adapter: Path, reward: str, data: DataArgs, out: Path, args: PPOArgs | None = None,
            allow_downloads: bool = False, progress: bool = True) -> dict[str, Any]:
    """Validate, then detoxify the adapter with PPO; save the new adapter + tokenizer + manifest to `out`."""
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoConfig

    args = args or PPOArgs()
    if args.batch_size % args.mini_batch_size:
        raise ValueError(f"batch size {args.batch_size} must be a multiple of the mini batch size {args.mini_batch_size}")
    training = load_pairs(data.path, data.dialogue_field, data.summary_field, data.limit, require_summary=False)
    if len(training.pairs) < args.batch_size:
        raise ValueError(f"PPO needs at least one batch of {args.batch_size} dialogues; {data.path} has {len(training.pairs)}")
    base_path = resolve_model_path(base, allow_downloads)
    if base_path is None:
        raise FileNotFoundError(f"base model {base!r} is not available locally or in the HF cache")
    check_adapter_matches(adapter, AutoConfig.from_pretrained(base_path))
    scorer = load_toxicity_scorer(reward, allow_downloads)

    resume_from = _last_checkpoint(out) if args.resume else None
    state = json.loads((resume_from / STATE_FILE).read_text()) if resume_from else {"step": 0, "history": []}
    lm = load_language_model(str(base_path), allow_downloads)
    torch.manual_seed(args.seed)
    policy, trainer = build_trainer(lm, resume_from or adapter, args, str(base), reference_adapter=adapter)
    if resume_from:
        policy.v_head.load_state_dict(torch.load(resume_from / VALUE_HEAD_FILE))
        trainer.optimizer.load_state_dict(torch.load(resume_from / OPTIMIZER_FILE))
        trainer.kl_ctl.value = state["kl_coef"]
        logger.info("resuming PPO from %s (step %d)", resume_from, state["step"])

    dialogues = [p.dialogue for p in training.pairs]
    random.Random(args.seed).shuffle(dialogues)
    queries = encode_queries(lm, dialogues, data.max_source_tokens)
    batches = len(queries) // args.batch_size
    total = args.max_steps or batches
    gen = generation_kwargs(lm.tokenizer, args)
    trainable = sum(p.numel() for p in policy.parameters() if p.requires_grad)
    every = sum(p.numel() for p in policy.parameters())
    started = time.perf_counter() - state.get("wall_seconds", 0.0)  # a resumed run counts the time already spent
    for step in tqdm(range(state["step"], total), desc="ppo", disable=not progress, initial=state["step"], total=total):
        first = (step % batches) * args.batch_size
        batch = queries[first:first + args.batch_size]
        responses = trainer.generate(batch, return_prompt=False, batch_size=args.mini_batch_size, **gen)
        texts = lm.tokenizer.batch_decode(responses, skip_special_tokens=True)
        rewards = [torch.tensor(r, dtype=torch.float32) for r in scorer.reward(texts)]
        logger.debug("ppo step %d samples: %s", step + 1, list(zip(texts[:4], [float(r) for r in rewards[:4]])))
        stats = trainer.step(batch, responses, rewards)
        record = {"step": step + 1, "reward_mean": float(torch.stack(rewards).mean()),
                  "kl": float(stats["objective/kl"]), "loss": float(stats["ppo/loss/total"]),
                  "kl_coef": float(stats["objective/kl_coef"])}
        state = {"step": step + 1, "history": state["history"] + [record], "wall_seconds": time.perf_counter() - started}
        logger.info("ppo step %d: reward %.4f kl %.4f loss %.4f", record["step"], record["reward_mean"], record["kl"], record["loss"])
        if (step + 1) % args.save_steps == 0:
            _save_checkpoint(out / "checkpoints" / f"step-{step + 1:06d}", policy, trainer, state)
    wall = time.perf_counter() - started

    out.mkdir(parents=True, exist_ok=True)
    policy.pretrained_model.save_pretrained(out)
    lm.tokenizer.save_pretrained(out)
    history = state["history"]
    manifest = {
        "base": describe_base(str(base), base_path, lm.model.config), "method": "ppo",
        "hyperparameters": as_json(args, data) | {"reward_model": reward, "source_adapter": str(adapter),
                                                   "reference": "frozen copy of the source adapter"},
        "data": training.describe(), "steps": state["step"], "final_loss": history[-1]["loss"] if history else None,
        "reward_first_batch": history[0]["reward_mean"] if history else None,
        "reward_last_batch": history[-1]["reward_mean"] if history else None, "history": history,
        "resumed_from": str(resume_from) if resume_from else None, "trainable_parameters": trainable,
        "total_parameters": every, "trainable_share": trainable / every, "wall_time_seconds": round(wall, 2),
        "versions": library_versions(),
    }
    write_manifest(out, manifest)
    logger.info("saved PPO adapter to %s after %d steps", out, state["step"])
    return manifest
