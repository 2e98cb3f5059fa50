"""`edurag finetune ...`: LoRA, prompt tuning, full fine-tune and PPO detox of the generator; the embedder, /align's
ranker and query encoder, and the lectures' sentence scorer, from the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from edurag.toxicity import DEFAULT_CLASSIFIER
from finetune.config import (AlignerArgs, DataArgs, EmbedderArgs, LoraArgs, PPOArgs, PromptTuningArgs, QueryEncoderArgs,
                             SummaryScorerArgs, TrainArgs, field_default, field_help)
from finetune.data import DataError

app = typer.Typer(help="Fine-tune the generator: LoRA, prompt tuning, full, PPO detox. Each run writes a manifest.",
                  no_args_is_help=True)
console = Console(stderr=True)

def _option(args: type, name: str, *flags: str) -> Any:
    """A typer option whose help is the run argument's own (finetune.config defines each default and help once)."""
    return typer.Option(*flags, help=field_help(args, name))


Base = Annotated[Optional[str], typer.Option("--base", help="HF id or local folder of the base model.")]
Data = Annotated[Path, _option(DataArgs, "path", "--data")]
Out = Annotated[Path, typer.Option("--out", help="Artifact folder (adapter or model, tokenizer, edurag_manifest.json).")]
DialogueField = Annotated[str, _option(DataArgs, "dialogue_field")]
SummaryField = Annotated[str, _option(DataArgs, "summary_field")]
Limit = Annotated[Optional[int], _option(DataArgs, "limit")]
MaxSteps = Annotated[int, _option(TrainArgs, "max_steps")]
Epochs = Annotated[float, _option(TrainArgs, "epochs")]
BatchSize = Annotated[int, _option(TrainArgs, "batch_size")]
GradAccum = Annotated[int, _option(TrainArgs, "grad_accum")]
LearningRate = Annotated[Optional[float], _option(TrainArgs, "learning_rate")]
WeightDecay = Annotated[Optional[float], _option(TrainArgs, "weight_decay")]
MaxSource = Annotated[int, _option(DataArgs, "max_source_tokens")]
MaxTarget = Annotated[int, _option(DataArgs, "max_target_tokens")]
Seed = Annotated[int, _option(TrainArgs, "seed")]
SaveSteps = Annotated[int, _option(TrainArgs, "save_steps")]
LoggingSteps = Annotated[int, _option(TrainArgs, "logging_steps")]
Resume = Annotated[bool, _option(TrainArgs, "resume", "--resume/--no-resume")]
D, T = DataArgs, TrainArgs  # short names for the defaults below


def _trained(train: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a training that writes an artifact and returns its manifest; bad data or a missing model exits 2."""
    try:
        return train()
    except (ValueError, FileNotFoundError, KeyError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


def _print_run(manifest: dict[str, Any], out: Path) -> None:
    """The method, steps and metrics of a finished training, as JSON on the console."""
    console.print_json(json.dumps({"method": manifest["method"], "steps": manifest["steps"], "metrics": manifest["metrics"],
                                   "out": str(out)}))


def _run(ctx: typer.Context, method: str, base: Optional[str], data: DataArgs, out: Path, train: TrainArgs,
         **extra: object) -> None:
    """Run a supervised method, turning input problems into a clear message and exit code 2."""
    from finetune.train import run_training

    settings = ctx.obj  # read once by the `edurag` entry point, which also set the offline flags
    try:
        manifest = run_training(method, base, data, out, train, allow_downloads=settings.allow_downloads, **extra)
    except (DataError, ValueError, FileNotFoundError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    keys = ("method", "steps", "final_loss", "trainable_parameters", "trainable_share", "wall_time_seconds")
    console.print_json(json.dumps({k: manifest[k] for k in keys} | {"out": str(out)}))


@app.command()
def lora(ctx: typer.Context, base: Base, data: Data, out: Out, dialogue_field: DialogueField = D.dialogue_field, summary_field: SummaryField = D.summary_field,
         limit: Limit = D.limit, max_steps: MaxSteps = T.max_steps, epochs: Epochs = T.epochs, batch_size: BatchSize = T.batch_size,
         grad_accum: GradAccum = T.grad_accum, learning_rate: LearningRate = T.learning_rate, weight_decay: WeightDecay = T.weight_decay,
         max_source_tokens: MaxSource = D.max_source_tokens, max_target_tokens: MaxTarget = D.max_target_tokens, seed: Seed = T.seed,
         save_steps: SaveSteps = T.save_steps, logging_steps: LoggingSteps = T.logging_steps, resume: Resume = T.resume,
         r: Annotated[int, _option(LoraArgs, "r")] = LoraArgs.r,
         alpha: Annotated[int, _option(LoraArgs, "alpha")] = LoraArgs.alpha,
         dropout: Annotated[float, _option(LoraArgs, "dropout")] = LoraArgs.dropout,
         target_modules: Annotated[Optional[str], _option(LoraArgs, "target_modules")] = None,
         ) -> None:
    """PEFT LoRA (paper defaults r=32, alpha=32, q/v, dropout 0.05, lr 1e-3)."""
    targets = [t.strip() for t in target_modules.split(",") if t.strip()] if target_modules else None
    _run(ctx, "lora", base, DataArgs(data, dialogue_field, summary_field, limit, max_source_tokens, max_target_tokens), out,
         TrainArgs(epochs, max_steps, batch_size, grad_accum, learning_rate, weight_decay, 0, seed, logging_steps, save_steps, resume),
         lora=LoraArgs(r, alpha, dropout, targets))


@app.command("prompt-tuning")
def prompt_tuning(ctx: typer.Context, base: Base, data: Data, out: Out, dialogue_field: DialogueField = D.dialogue_field,
                  summary_field: SummaryField = D.summary_field, limit: Limit = D.limit, max_steps: MaxSteps = T.max_steps,
                  epochs: Epochs = T.epochs, batch_size: BatchSize = T.batch_size, grad_accum: GradAccum = T.grad_accum,
                  learning_rate: LearningRate = T.learning_rate, weight_decay: WeightDecay = T.weight_decay, max_source_tokens: MaxSource = D.max_source_tokens,
                  max_target_tokens: MaxTarget = D.max_target_tokens, seed: Seed = T.seed, save_steps: SaveSteps = T.save_steps,
                  logging_steps: LoggingSteps = T.logging_steps, resume: Resume = T.resume,
                  num_virtual_tokens: Annotated[int, _option(PromptTuningArgs, "num_virtual_tokens")] = PromptTuningArgs.num_virtual_tokens,
                  init_text: Annotated[Optional[str], _option(PromptTuningArgs, "init_text")] = None,
                  ) -> None:
    """PEFT prompt tuning, virtual tokens initialised from the instruction text."""
    prompt = PromptTuningArgs(num_virtual_tokens, init_text or field_default(PromptTuningArgs, "init_text"))
    _run(ctx, "prompt-tuning", base, DataArgs(data, dialogue_field, summary_field, limit, max_source_tokens, max_target_tokens),
         out, TrainArgs(epochs, max_steps, batch_size, grad_accum, learning_rate, weight_decay, 0, seed, logging_steps,
                        save_steps, resume), prompt=prompt)


@app.command()
def full(ctx: typer.Context, data: Data, out: Out, base: Base = None, dialogue_field: DialogueField = D.dialogue_field,
         summary_field: SummaryField = D.summary_field, limit: Limit = D.limit, max_steps: MaxSteps = T.max_steps, epochs: Epochs = T.epochs,
         batch_size: BatchSize = T.batch_size, grad_accum: GradAccum = T.grad_accum, learning_rate: LearningRate = T.learning_rate,
         weight_decay: WeightDecay = T.weight_decay, max_source_tokens: MaxSource = D.max_source_tokens, max_target_tokens: MaxTarget = D.max_target_tokens,
         seed: Seed = T.seed, save_steps: SaveSteps = T.save_steps, logging_steps: LoggingSteps = T.logging_steps, resume: Resume = T.resume,
         init_from_config: Annotated[Optional[str], typer.Option(help="Build a new T5 from a preset (tiny|small) instead of --base.")] = None,
         ) -> None:
    """Full fine-tune (lr 1e-5, weight decay 0.01), or train a preset-sized T5 from scratch."""
    _run(ctx, "full", base, DataArgs(data, dialogue_field, summary_field, limit, max_source_tokens, max_target_tokens), out,
         TrainArgs(epochs, max_steps, batch_size, grad_accum, learning_rate, weight_decay, 0, seed, logging_steps, save_steps, resume),
         init_from_config=init_from_config)


@app.command()
def ppo(ctx: typer.Context, base: Annotated[str, typer.Option("--base", help="HF id or local folder of the base model.")],
        adapter: Annotated[Path, typer.Option("--adapter", help="LoRA adapter folder to detoxify (the policy).")],
        data: Data, out: Out,
        reward: Annotated[str, typer.Option("--reward", help="profanity-check or an HF hate-speech classifier id/path.")]
        = DEFAULT_CLASSIFIER,
        dialogue_field: DialogueField = D.dialogue_field, limit: Limit = D.limit,
        max_steps: Annotated[Optional[int], _option(PPOArgs, "max_steps")] = PPOArgs.max_steps,
        learning_rate: Annotated[float, _option(PPOArgs, "learning_rate")] = PPOArgs.learning_rate,
        ppo_epochs: Annotated[int, _option(PPOArgs, "ppo_epochs")] = PPOArgs.ppo_epochs,
        mini_batch_size: Annotated[int, _option(PPOArgs, "mini_batch_size")] = PPOArgs.mini_batch_size,
        batch_size: Annotated[int, _option(PPOArgs, "batch_size")] = PPOArgs.batch_size,
        init_kl_coef: Annotated[float, _option(PPOArgs, "init_kl_coef")] = PPOArgs.init_kl_coef,
        target_kl: Annotated[float, _option(PPOArgs, "target_kl")] = PPOArgs.target_kl,
        max_new_tokens: Annotated[int, _option(PPOArgs, "max_new_tokens")] = PPOArgs.max_new_tokens,
        max_source_tokens: MaxSource = D.max_source_tokens, seed: Seed = PPOArgs.seed,
        save_steps: Annotated[int, _option(PPOArgs, "save_steps")] = PPOArgs.save_steps, resume: Resume = PPOArgs.resume,
        ) -> None:
    """PPO detox (trl 0.11.4): policy = LoRA model + value head, reference = frozen copy of the LoRA model, reward = not-hate logit."""
    from finetune.ppo import run_ppo

    settings = ctx.obj
    args = PPOArgs(learning_rate=learning_rate, ppo_epochs=ppo_epochs, mini_batch_size=mini_batch_size,
                   batch_size=batch_size, init_kl_coef=init_kl_coef, target_kl=target_kl, max_steps=max_steps,
                   max_new_tokens=max_new_tokens, seed=seed, save_steps=save_steps, resume=resume)
    data_args = DataArgs(data, dialogue_field, D.summary_field, limit, max_source_tokens)
    try:
        manifest = run_ppo(base, adapter, reward, data_args, out, args, allow_downloads=settings.allow_downloads)
    except (DataError, ValueError, FileNotFoundError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    keys = ("steps", "reward_first_batch", "reward_last_batch", "trainable_parameters", "wall_time_seconds")
    console.print_json(json.dumps({k: manifest.get(k) for k in keys} | {"out": str(out)}))


@app.command()
def embedder(ctx: typer.Context, out: Out,
             base: Annotated[Optional[str], typer.Option("--base", help="Bi-encoder to tune (default: the packaged all-MiniLM-L6-v2).")] = None,
             epochs: Epochs = EmbedderArgs.epochs, batch_size: BatchSize = EmbedderArgs.batch_size,
             limit: Limit = EmbedderArgs.limit,
             learning_rate: Annotated[float, _option(EmbedderArgs, "learning_rate")] = EmbedderArgs.learning_rate,
             warmup_ratio: Annotated[float, _option(EmbedderArgs, "warmup_ratio")] = EmbedderArgs.warmup_ratio,
             dev_items: Annotated[Optional[Path], typer.Option("--dev-items", help="Teacher-annotated alignment CSV; only its dev half is used.")] = None,
             seed: Seed = EmbedderArgs.seed, logging_steps: LoggingSteps = EmbedderArgs.logging_steps,
             max_seq_length: Annotated[Optional[int], _option(EmbedderArgs, "max_seq_length")] = EmbedderArgs.max_seq_length,
             ) -> None:
    """Domain-tune the bi-encoder (MNRL) on standard ↔ examples/sub-standards, NGSS ↔ CCSS and dev alignment pairs."""
    from finetune.embedder import run_embedder_training

    settings = ctx.obj
    args = EmbedderArgs(epochs, batch_size, learning_rate, warmup_ratio, limit, seed, logging_steps, max_seq_length)
    manifest = _trained(lambda: run_embedder_training(settings.standards_dir, out, args, dev_items, base, settings.allow_downloads))
    keys = ("method", "steps", "final_loss", "wall_time_seconds")
    console.print_json(json.dumps({k: manifest[k] for k in keys} | {"pairs": manifest["data"]["pairs_used_by_source"], "out": str(out)}))


@app.command()
def aligner(ctx: typer.Context, items: Annotated[Path, typer.Option("--items", exists=True, dir_okay=False, help="Tagged lessons jsonl (text, standard_ids); only its dev split is trained on.")],
            out: Annotated[Path, typer.Option("--out", help="Folder for aligner.npz + edurag_manifest.json (the bundled one: edurag/data/aligner).")],
            adapter_steps: Annotated[int, _option(AlignerArgs, "adapter_steps")] = AlignerArgs.adapter_steps,
            limit: Limit = None, seed: Seed = 13,
            query_encoder: Annotated[Optional[Path], typer.Option("--query-encoder", exists=True, file_okay=False, help="Distilled query encoder (from `edurag finetune query-encoder`) that encodes the lessons' passages; copied into OUT.")] = None,
            ) -> None:
    """Train /align's ranker on real lessons: query adapter on the frozen embedder, logistic ranker, isotonic confidence."""
    from rich.progress import track

    from finetune.aligner import run_aligner_training

    settings = ctx.obj
    args = AlignerArgs(adapter_steps=adapter_steps, limit=limit, seed=seed)
    _print_run(_trained(lambda: run_aligner_training(
        items, out, args, settings, lambda seq: track(seq, description="encoding", console=console), query_encoder)), out)


@app.command("query-encoder")
def query_encoder(ctx: typer.Context,
                  items: Annotated[Path, typer.Option("--items", exists=True, dir_okay=False, help="Tagged lessons jsonl (text); only its dev split is read.")],
                  out: Annotated[Path, typer.Option("--out", help="Folder for the LoRA, edurag_query_encoder.json and the manifest (put it in an aligner folder as query_encoder/).")],
                  transcripts: Annotated[Optional[list[Path]], typer.Option("--transcripts", exists=True, dir_okay=False, help="Transcript jsonl files (Yale lectures, TalkMoves) whose passages are distilled on too; repeatable.")] = None,
                  max_steps: Annotated[int, _option(QueryEncoderArgs, "max_steps")] = QueryEncoderArgs.max_steps,
                  epochs: Annotated[float, _option(QueryEncoderArgs, "epochs")] = QueryEncoderArgs.epochs,
                  statements: Annotated[int, _option(QueryEncoderArgs, "statements")] = QueryEncoderArgs.statements,
                  per_transcript: Annotated[int, _option(QueryEncoderArgs, "per_transcript")] = QueryEncoderArgs.per_transcript,
                  limit: Limit = None, seed: Seed = QueryEncoderArgs.seed) -> None:
    """Distill /align's query encoder: 3 of MiniLM's 6 layers plus a LoRA, trained to give the full model's vectors of
    lesson passages (the standards index stays as it is). Then rebuild the ranker on it with `aligner --query-encoder`."""
    from finetune.query_encoder import run_query_encoder_training

    settings = ctx.obj
    args = QueryEncoderArgs(max_steps=max_steps, epochs=epochs, statements=statements, per_transcript=per_transcript,
                            limit=limit, seed=seed)
    _print_run(_trained(lambda: run_query_encoder_training(items, transcripts or [], out, args, settings)), out)


@app.command("summary-scorer")
def summary_scorer(ctx: typer.Context,
                   data: Annotated[Path, typer.Option("--data", exists=True, dir_okay=False, help="Open Yale dev lectures jsonl (transcript, lecture_description, lecture_title); only its tune split is trained on.")],
                   out: Annotated[Path, typer.Option("--out", help="Folder for scorer.npz + edurag_manifest.json (the bundled one: edurag/data/summary_scorer).")],
                   alpha: Annotated[float, _option(SummaryScorerArgs, "alpha")] = SummaryScorerArgs.alpha,
                   folds: Annotated[int, _option(SummaryScorerArgs, "folds")] = SummaryScorerArgs.folds,
                   limit: Annotated[Optional[int], _option(SummaryScorerArgs, "limit")] = None) -> None:
    """Train the lectures' sentence scorer: ridge over sentence features and embedder vectors, target = the share of a
    sentence's word pairs the human overview repeats."""
    from rich.progress import track

    from finetune.summary_scorer import run_summary_scorer_training

    manifest = _trained(lambda: run_summary_scorer_training(data, out, SummaryScorerArgs(alpha=alpha, folds=folds, limit=limit),
                                                            ctx.obj, lambda seq: track(seq, description="lectures", console=console)))
    console.print_json(json.dumps({"method": manifest["method"], "metrics": manifest["metrics"],
                                   "lectures": manifest["data"]["tune_lectures"], "out": str(out)}))
