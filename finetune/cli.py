"""`edurag finetune ...`: LoRA, prompt tuning, full fine-tune and PPO detox from the command line."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from finetune.config import DataArgs, LoraArgs, PPOArgs, PromptTuningArgs, TrainArgs
from finetune.data import DataError

app = typer.Typer(help="Fine-tune the generator: LoRA, prompt tuning, full, PPO detox. Each run writes a manifest.",
                  no_args_is_help=True)
console = Console(stderr=True)

Base = Annotated[Optional[str], typer.Option("--base", help="HF id or local folder of the base model.")]
Data = Annotated[Path, typer.Option("--data", help="jsonl with dialogue/summary pairs.")]
Out = Annotated[Path, typer.Option("--out", help="Artifact folder (adapter or model, tokenizer, edurag_manifest.json).")]
DialogueField = Annotated[str, typer.Option(help="Dialogue field name in the jsonl.")]
SummaryField = Annotated[str, typer.Option(help="Summary field name in the jsonl.")]
Limit = Annotated[Optional[int], typer.Option(help="Use only the first N rows.")]
MaxSteps = Annotated[int, typer.Option(help="Stop after N optimizer steps (-1 = all epochs).")]
Epochs = Annotated[float, typer.Option(help="Passes over the data.")]
BatchSize = Annotated[int, typer.Option(help="Examples per step.")]
GradAccum = Annotated[int, typer.Option(help="Gradient accumulation steps.")]
LearningRate = Annotated[Optional[float], typer.Option(help="Learning rate (default: the method's paper value).")]
WeightDecay = Annotated[Optional[float], typer.Option(help="Weight decay (default: full 0.01, else 0).")]
MaxSource = Annotated[int, typer.Option(help="Prompt tokens kept.")]
MaxTarget = Annotated[int, typer.Option(help="Summary tokens kept.")]
Seed = Annotated[int, typer.Option(help="Random seed.")]
SaveSteps = Annotated[int, typer.Option(help="Checkpoint every N steps.")]
LoggingSteps = Annotated[int, typer.Option(help="Log the loss every N steps.")]
Resume = Annotated[bool, typer.Option("--resume/--no-resume", help="Continue from the last checkpoint in OUT/checkpoints.")]


def _setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _run(method: str, base: Optional[str], data: DataArgs, out: Path, train: TrainArgs, **extra: object) -> None:
    """Run a supervised method, turning input problems into a clear message and exit code 2."""
    from edurag.models import set_offline
    from edurag.settings import Settings
    from finetune.train import run_training

    _setup_logging()
    settings = Settings()
    set_offline(settings.allow_downloads)
    try:
        manifest = run_training(method, base, data, out, train, allow_downloads=settings.allow_downloads, **extra)
    except (DataError, ValueError, FileNotFoundError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    keys = ("method", "steps", "final_loss", "trainable_parameters", "trainable_share", "wall_time_seconds")
    console.print_json(json.dumps({k: manifest[k] for k in keys} | {"out": str(out)}))


@app.command()
def lora(base: Base, data: Data, out: Out, dialogue_field: DialogueField = "dialogue", summary_field: SummaryField = "summary",
         limit: Limit = None, max_steps: MaxSteps = -1, epochs: Epochs = 1.0, batch_size: BatchSize = 8,
         grad_accum: GradAccum = 1, learning_rate: LearningRate = None, weight_decay: WeightDecay = None,
         max_source_tokens: MaxSource = 512, max_target_tokens: MaxTarget = 128, seed: Seed = 42,
         save_steps: SaveSteps = 200, logging_steps: LoggingSteps = 10, resume: Resume = True,
         r: Annotated[int, typer.Option(help="LoRA rank.")] = 32,
         alpha: Annotated[int, typer.Option(help="LoRA alpha.")] = 32,
         dropout: Annotated[float, typer.Option(help="LoRA dropout.")] = 0.05,
         target_modules: Annotated[Optional[str], typer.Option(help="Comma-separated modules (default q,v or q_proj,v_proj).")] = None,
         ) -> None:
    """PEFT LoRA (paper defaults r=32, alpha=32, q/v, dropout 0.05, lr 1e-3)."""
    targets = [t.strip() for t in target_modules.split(",") if t.strip()] if target_modules else None
    _run("lora", base, DataArgs(data, dialogue_field, summary_field, limit, max_source_tokens, max_target_tokens), out,
         TrainArgs(epochs, max_steps, batch_size, grad_accum, learning_rate, weight_decay, 0, seed, logging_steps, save_steps, resume),
         lora=LoraArgs(r, alpha, dropout, targets))


@app.command("prompt-tuning")
def prompt_tuning(base: Base, data: Data, out: Out, dialogue_field: DialogueField = "dialogue",
                  summary_field: SummaryField = "summary", limit: Limit = None, max_steps: MaxSteps = -1,
                  epochs: Epochs = 1.0, batch_size: BatchSize = 8, grad_accum: GradAccum = 1,
                  learning_rate: LearningRate = None, weight_decay: WeightDecay = None, max_source_tokens: MaxSource = 512,
                  max_target_tokens: MaxTarget = 128, seed: Seed = 42, save_steps: SaveSteps = 200,
                  logging_steps: LoggingSteps = 10, resume: Resume = True,
                  num_virtual_tokens: Annotated[int, typer.Option(help="Trainable virtual tokens.")] = 20,
                  init_text: Annotated[Optional[str], typer.Option(help="Initialisation text (default: the instruction).")] = None,
                  ) -> None:
    """PEFT prompt tuning, virtual tokens initialised from the instruction text."""
    prompt = PromptTuningArgs(num_virtual_tokens) if init_text is None else PromptTuningArgs(num_virtual_tokens, init_text)
    _run("prompt-tuning", base, DataArgs(data, dialogue_field, summary_field, limit, max_source_tokens, max_target_tokens),
         out, TrainArgs(epochs, max_steps, batch_size, grad_accum, learning_rate, weight_decay, 0, seed, logging_steps,
                        save_steps, resume), prompt=prompt)


@app.command()
def full(data: Data, out: Out, base: Base = None, dialogue_field: DialogueField = "dialogue",
         summary_field: SummaryField = "summary", limit: Limit = None, max_steps: MaxSteps = -1, epochs: Epochs = 1.0,
         batch_size: BatchSize = 8, grad_accum: GradAccum = 1, learning_rate: LearningRate = None,
         weight_decay: WeightDecay = None, max_source_tokens: MaxSource = 512, max_target_tokens: MaxTarget = 128,
         seed: Seed = 42, save_steps: SaveSteps = 200, logging_steps: LoggingSteps = 10, resume: Resume = True,
         init_from_config: Annotated[Optional[str], typer.Option(help="Build a new T5 from a preset (tiny|small) instead of --base.")] = None,
         ) -> None:
    """Full fine-tune (lr 1e-5, weight decay 0.01), or train a preset-sized T5 from scratch."""
    _run("full", base, DataArgs(data, dialogue_field, summary_field, limit, max_source_tokens, max_target_tokens), out,
         TrainArgs(epochs, max_steps, batch_size, grad_accum, learning_rate, weight_decay, 0, seed, logging_steps, save_steps, resume),
         init_from_config=init_from_config)


@app.command()
def ppo(base: Annotated[str, typer.Option("--base", help="HF id or local folder of the base model.")],
        adapter: Annotated[Path, typer.Option("--adapter", help="LoRA adapter folder to detoxify (the policy).")],
        data: Data, out: Out,
        reward: Annotated[str, typer.Option("--reward", help="profanity-check or an HF hate-speech classifier id/path.")]
        = "facebook/roberta-hate-speech-dynabench-r4-target",
        dialogue_field: DialogueField = "dialogue", limit: Limit = None,
        max_steps: Annotated[Optional[int], typer.Option(help="PPO steps (default: one pass over the data).")] = None,
        learning_rate: Annotated[float, typer.Option(help="Policy learning rate.")] = 1.41e-5,
        ppo_epochs: Annotated[int, typer.Option(help="Optimisation passes per batch.")] = 1,
        mini_batch_size: Annotated[int, typer.Option(help="PPO minibatch size.")] = 4,
        batch_size: Annotated[int, typer.Option(help="Rollouts per PPO step.")] = 16,
        init_kl_coef: Annotated[float, typer.Option(help="Initial KL coefficient.")] = 0.2,
        target_kl: Annotated[float, typer.Option(help="Adaptive KL target.")] = 6.0,
        max_new_tokens: Annotated[int, typer.Option(help="Longest sampled summary.")] = 64,
        max_source_tokens: MaxSource = 512, seed: Seed = 42,
        save_steps: Annotated[int, typer.Option(help="Checkpoint every N PPO steps.")] = 10, resume: Resume = True,
        ) -> None:
    """PPO detox (trl 0.11.4): policy = LoRA model + value head, reference = frozen copy of the LoRA model, reward = not-hate logit."""
    from edurag.models import set_offline
    from edurag.settings import Settings
    from finetune.ppo import run_ppo

    _setup_logging()
    settings = Settings()
    set_offline(settings.allow_downloads)
    args = PPOArgs(learning_rate=learning_rate, ppo_epochs=ppo_epochs, mini_batch_size=mini_batch_size,
                   batch_size=batch_size, init_kl_coef=init_kl_coef, target_kl=target_kl, max_steps=max_steps,
                   max_new_tokens=max_new_tokens, seed=seed, save_steps=save_steps, resume=resume)
    data_args = DataArgs(data, dialogue_field, "summary", limit, max_source_tokens)
    try:
        manifest = run_ppo(base, adapter, reward, data_args, out, args, allow_downloads=settings.allow_downloads)
    except (DataError, ValueError, FileNotFoundError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    keys = ("steps", "reward_first_batch", "reward_last_batch", "trainable_parameters", "wall_time_seconds")
    console.print_json(json.dumps({k: manifest.get(k) for k in keys} | {"out": str(out)}))


@app.command()
def embedder(out: Out,
             base: Annotated[Optional[str], typer.Option("--base", help="Bi-encoder to tune (default: the packaged all-MiniLM-L6-v2).")] = None,
             epochs: Epochs = 1.0, batch_size: BatchSize = 32, limit: Limit = None,
             learning_rate: Annotated[float, typer.Option(help="Learning rate.")] = 2e-5,
             warmup_ratio: Annotated[float, typer.Option(help="Share of steps spent warming up the learning rate.")] = 0.1,
             dev_items: Annotated[Optional[Path], typer.Option("--dev-items", help="Teacher-annotated alignment CSV; only its dev half is used.")] = None,
             seed: Seed = 42, logging_steps: LoggingSteps = 10,
             max_seq_length: Annotated[Optional[int], typer.Option(help="Word pieces read per text while training (default: the model's; serving keeps it).")] = None,
             ) -> None:
    """Domain-tune the bi-encoder (MNRL) on standard ↔ examples/sub-standards, NGSS ↔ CCSS and dev alignment pairs."""
    from edurag.models import set_offline
    from edurag.settings import Settings
    from finetune.embedder import EmbedderArgs, run_embedder_training

    _setup_logging()
    settings = Settings()
    set_offline(settings.allow_downloads)
    args = EmbedderArgs(epochs, batch_size, learning_rate, warmup_ratio, limit, seed, logging_steps, max_seq_length)
    try:
        manifest = run_embedder_training(settings.standards_dir, out, args, dev_items, base, settings.allow_downloads)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    keys = ("method", "steps", "final_loss", "wall_time_seconds")
    console.print_json(json.dumps({k: manifest[k] for k in keys} | {"pairs": manifest["data"]["pairs_used_by_source"], "out": str(out)}))


@app.command()
def aligner(items: Annotated[Path, typer.Option("--items", exists=True, dir_okay=False, help="Tagged lessons jsonl (text, standard_ids); only its dev split is trained on.")],
            out: Annotated[Path, typer.Option("--out", help="Folder for aligner.npz + edurag_manifest.json (the bundled one: edurag/data/aligner).")],
            adapter_steps: Annotated[int, typer.Option(help="Full-batch steps of the query adapter (0 = no adapter).")] = 200,
            limit: Limit = None, seed: Seed = 13) -> None:
    """Train /align's ranker on real lessons: query adapter on the frozen embedder, logistic ranker, isotonic confidence."""
    from rich.progress import track

    from edurag.models import set_offline
    from edurag.settings import Settings
    from finetune.aligner import AlignerArgs, run_aligner_training

    _setup_logging()
    settings = Settings()
    set_offline(settings.allow_downloads)
    args = AlignerArgs(adapter_steps=adapter_steps, limit=limit, seed=seed)
    try:
        manifest = run_aligner_training(items, out, args, settings, lambda seq: track(seq, description="encoding", console=console))
    except (ValueError, FileNotFoundError, KeyError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    console.print_json(json.dumps({"method": manifest["method"], "steps": manifest["steps"], "metrics": manifest["metrics"],
                                   "out": str(out)}))
