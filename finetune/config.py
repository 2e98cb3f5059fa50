"""Run arguments as dataclasses with help text; defaults are the paper's recipe (see shared README §1)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edurag.prompts import zero_shot_prompt

METHODS: tuple[str, ...] = ("lora", "prompt-tuning", "full")
SEQ2SEQ_LORA_TARGETS = ["q", "v"]
CAUSAL_LORA_TARGETS = ["q_proj", "v_proj"]


def instruction_text() -> str:
    """The zero-shot prompt's instruction line, used to initialise prompt-tuning virtual tokens."""
    return zero_shot_prompt("").split("\n\n")[0]


@dataclass
class DataArgs:
    """Where the pairs come from and how they are cut to the model's window."""

    path: Path = field(metadata={"help": "jsonl file with one dialogue/summary pair per line"})
    dialogue_field: str = field(default="dialogue", metadata={"help": "name of the dialogue/transcript field"})
    summary_field: str = field(default="summary", metadata={"help": "name of the reference-summary field"})
    limit: int | None = field(default=None, metadata={"help": "use only the first N rows (smoke runs)"})
    max_source_tokens: int = field(default=512, metadata={"help": "prompt tokens kept (truncation, as in the paper)"})
    max_target_tokens: int = field(default=128, metadata={"help": "summary tokens kept"})


@dataclass
class TrainArgs:
    """Trainer settings shared by every method; learning rate and weight decay default per method."""

    epochs: float = field(default=1.0, metadata={"help": "passes over the data (the paper: 1)"})
    max_steps: int = field(default=-1, metadata={"help": "stop after N optimizer steps; -1 = run all epochs"})
    batch_size: int = field(default=8, metadata={"help": "examples per device step"})
    grad_accum: int = field(default=1, metadata={"help": "gradient accumulation steps"})
    learning_rate: float | None = field(default=None, metadata={"help": "None = method default (LoRA 1e-3, full 1e-5, prompt tuning 3e-2)"})
    weight_decay: float | None = field(default=None, metadata={"help": "None = method default (full 0.01, else 0)"})
    warmup_steps: int = field(default=0, metadata={"help": "linear warm-up steps"})
    seed: int = field(default=42, metadata={"help": "random seed for data order and initialisation"})
    logging_steps: int = field(default=10, metadata={"help": "log the loss every N steps"})
    save_steps: int = field(default=200, metadata={"help": "checkpoint every N steps (resume picks up the last one)"})
    resume: bool = field(default=True, metadata={"help": "continue from the last checkpoint in OUT/checkpoints"})


@dataclass
class LoraArgs:
    """The paper's LoraConfig: r=32, alpha=32, q/v projections, dropout 0.05, no bias."""

    r: int = field(default=32, metadata={"help": "LoRA rank"})
    alpha: int = field(default=32, metadata={"help": "LoRA alpha (scaling = alpha / r)"})
    dropout: float = field(default=0.05, metadata={"help": "dropout on the LoRA input"})
    target_modules: list[str] | None = field(default=None, metadata={"help": "None = q,v (T5) or q_proj,v_proj (decoder-only)"})


@dataclass
class PromptTuningArgs:
    """PEFT prompt tuning: soft virtual tokens initialised from the instruction text."""

    num_virtual_tokens: int = field(default=20, metadata={"help": "number of trainable virtual tokens"})
    init_text: str = field(default_factory=instruction_text, metadata={"help": "text whose embeddings initialise them"})


@dataclass
class PPOArgs:
    """The paper's PPOConfig (lr 1.41e-5, ppo_epochs 1, mini batch 4, batch 16) plus KL control and sampling."""

    learning_rate: float = field(default=1.41e-5, metadata={"help": "policy learning rate"})
    ppo_epochs: int = field(default=1, metadata={"help": "optimisation passes per batch"})
    mini_batch_size: int = field(default=4, metadata={"help": "examples per PPO minibatch"})
    batch_size: int = field(default=16, metadata={"help": "rollouts per PPO step"})
    init_kl_coef: float = field(default=0.2, metadata={"help": "initial KL penalty coefficient against the reference"})
    adap_kl_ctrl: bool = field(default=True, metadata={"help": "adapt the KL coefficient toward target_kl"})
    target_kl: float = field(default=6.0, metadata={"help": "KL target of the adaptive controller"})
    max_steps: int | None = field(default=None, metadata={"help": "PPO steps; None = one pass over the data"})
    min_new_tokens: int = field(default=5, metadata={"help": "shortest sampled summary"})
    max_new_tokens: int = field(default=64, metadata={"help": "longest sampled summary"})
    seed: int = field(default=42, metadata={"help": "seed for sampling and PPO"})
    save_steps: int = field(default=10, metadata={"help": "checkpoint every N PPO steps"})
    resume: bool = field(default=True, metadata={"help": "continue from the last checkpoint in OUT/checkpoints"})


METHOD_DEFAULTS: dict[str, dict[str, float]] = {
    "lora": {"learning_rate": 1e-3, "weight_decay": 0.0},
    "prompt-tuning": {"learning_rate": 3e-2, "weight_decay": 0.0},
    "full": {"learning_rate": 1e-5, "weight_decay": 0.01},
}


def check_method(method: str) -> str:
    """Return the method or fail with the list of known ones."""
    if method not in METHODS:
        raise ValueError(f"unknown fine-tuning method {method!r}; choose one of {', '.join(METHODS)}")
    return method


def resolved_optimizer(method: str, train: TrainArgs) -> tuple[float, float]:
    """Learning rate and weight decay: explicit values win, else the method's paper default."""
    defaults = METHOD_DEFAULTS[check_method(method)]
    lr = train.learning_rate if train.learning_rate is not None else defaults["learning_rate"]
    wd = train.weight_decay if train.weight_decay is not None else defaults["weight_decay"]
    return lr, wd


def as_json(*args: Any) -> dict[str, Any]:
    """Merge dataclasses into one JSON-ready dict (paths as strings)."""
    merged: dict[str, Any] = {}
    for arg in args:
        merged |= {k: str(v) if isinstance(v, Path) else v for k, v in asdict(arg).items()}
    return merged
