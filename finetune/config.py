"""Run arguments as dataclasses: each hyperparameter's default and help are defined here once (`edurag finetune` builds its
options from them); defaults are the paper's recipe (see shared README §1)."""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields
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

    path: Path = field(metadata={"help": "jsonl with dialogue/summary pairs."})
    dialogue_field: str = field(default="dialogue", metadata={"help": "Dialogue field name in the jsonl."})
    summary_field: str = field(default="summary", metadata={"help": "Summary field name in the jsonl."})
    limit: int | None = field(default=None, metadata={"help": "Use only the first N rows."})
    max_source_tokens: int = field(default=512, metadata={"help": "Prompt tokens kept."})
    max_target_tokens: int = field(default=128, metadata={"help": "Summary tokens kept."})


@dataclass
class TrainArgs:
    """Trainer settings shared by every method; learning rate and weight decay default per method."""

    epochs: float = field(default=1.0, metadata={"help": "Passes over the data."})
    max_steps: int = field(default=-1, metadata={"help": "Stop after N optimizer steps (-1 = all epochs)."})
    batch_size: int = field(default=8, metadata={"help": "Examples per step."})
    grad_accum: int = field(default=1, metadata={"help": "Gradient accumulation steps."})
    learning_rate: float | None = field(default=None, metadata={"help": "Learning rate (default: the method's paper value)."})
    weight_decay: float | None = field(default=None, metadata={"help": "Weight decay (default: full 0.01, else 0)."})
    warmup_steps: int = field(default=0, metadata={"help": "Linear warm-up steps."})
    seed: int = field(default=42, metadata={"help": "Random seed."})
    logging_steps: int = field(default=10, metadata={"help": "Log the loss every N steps."})
    save_steps: int = field(default=200, metadata={"help": "Checkpoint every N steps."})
    resume: bool = field(default=True, metadata={"help": "Continue from the last checkpoint in OUT/checkpoints."})


@dataclass
class LoraArgs:
    """The paper's LoraConfig: r=32, alpha=32, q/v projections, dropout 0.05, no bias."""

    r: int = field(default=32, metadata={"help": "LoRA rank."})
    alpha: int = field(default=32, metadata={"help": "LoRA alpha."})
    dropout: float = field(default=0.05, metadata={"help": "LoRA dropout."})
    target_modules: list[str] | None = field(default=None, metadata={"help": "Comma-separated modules (default q,v or q_proj,v_proj)."})


@dataclass
class PromptTuningArgs:
    """PEFT prompt tuning: soft virtual tokens initialised from the instruction text."""

    num_virtual_tokens: int = field(default=20, metadata={"help": "Trainable virtual tokens."})
    init_text: str = field(default_factory=instruction_text, metadata={"help": "Initialisation text (default: the instruction)."})


@dataclass
class PPOArgs:
    """The paper's PPOConfig (lr 1.41e-5, ppo_epochs 1, mini batch 4, batch 16) plus KL control and sampling."""

    learning_rate: float = field(default=1.41e-5, metadata={"help": "Policy learning rate."})
    ppo_epochs: int = field(default=1, metadata={"help": "Optimisation passes per batch."})
    mini_batch_size: int = field(default=4, metadata={"help": "PPO minibatch size."})
    batch_size: int = field(default=16, metadata={"help": "Rollouts per PPO step."})
    init_kl_coef: float = field(default=0.2, metadata={"help": "Initial KL coefficient."})
    adap_kl_ctrl: bool = field(default=True, metadata={"help": "Adapt the KL coefficient toward target_kl."})
    target_kl: float = field(default=6.0, metadata={"help": "Adaptive KL target."})
    max_steps: int | None = field(default=None, metadata={"help": "PPO steps (default: one pass over the data)."})
    min_new_tokens: int = field(default=5, metadata={"help": "Shortest sampled summary."})
    max_new_tokens: int = field(default=64, metadata={"help": "Longest sampled summary."})
    seed: int = field(default=42, metadata={"help": "Random seed."})
    save_steps: int = field(default=10, metadata={"help": "Checkpoint every N PPO steps."})
    resume: bool = field(default=True, metadata={"help": "Continue from the last checkpoint in OUT/checkpoints."})


@dataclass
class EmbedderArgs:
    """Hyperparameters of an MNRL fine-tune of the bi-encoder."""

    epochs: float = field(default=1.0, metadata={"help": "Passes over the data."})
    batch_size: int = field(default=32, metadata={"help": "Examples per step."})
    learning_rate: float = field(default=2e-5, metadata={"help": "Learning rate."})
    warmup_ratio: float = field(default=0.1, metadata={"help": "Share of steps spent warming up the learning rate."})
    limit: int | None = field(default=None, metadata={"help": "Use only the first N rows."})
    seed: int = field(default=42, metadata={"help": "Random seed."})
    logging_steps: int = field(default=10, metadata={"help": "Log the loss every N steps."})
    max_seq_length: int | None = field(default=None, metadata={
        "help": "Word pieces read per text while training (default: the model's; serving keeps it)."})


def field_help(args: type, name: str) -> str:
    """The help text of one run argument."""
    return next(f for f in fields(args) if f.name == name).metadata["help"]


@dataclass
class AlignerArgs:
    """The /align ranker's recipe (finetune.aligner). The adapter's learning rate and steps and the length gate
    (adapter_words) were chosen by 3-fold group cross-validation on the dev split only, 3 seeds each (issue #14 note):
    at lr 0.01 the full-batch Adam loss jumped (0.24 -> 1.6 -> 0.25) and two retrains differed by 0.19 held-out hit@5;
    lr 0.001 for 150 steps descends smoothly. The gate keeps short texts nearer the embedder's own geometry. The ranker
    trains on every candidate /align would score (it trained on each lesson's 30 best by fused score: dev-CV hit@5
    0.707 -> 0.728, MRR 0.539 -> 0.541, with ranker_c 1 -> 0.003, chosen the same way)."""

    adapter_steps: int = field(default=150, metadata={"help": "Full-batch Adam steps of the query adapter (0 = no adapter)."})
    adapter_learning_rate: float = field(default=0.001, metadata={"help": "Adam learning rate of the query adapter."})
    adapter_regularization: float = field(default=1.0, metadata={"help": "L2 pull of the adapter toward identity."})
    adapter_words: int = field(default=200, metadata={
        "help": "Texts shorter than this many words get a proportionally weaker adapter (0 = full adapter for all)."})
    temperature: float = field(default=0.05, metadata={"help": "Softmax temperature of the adapter's contrastive loss."})
    candidates: int = field(default=100, metadata={
        "help": "Standards per passage and signal (nearest by embedding, best by BM25), as /align's settings fetch."})
    train_depth: int = field(default=0, metadata={
        "help": "Best candidates per lesson (fused score) the ranker trains on; 0 = all, as /align scores them all."})
    ranker_c: float = field(default=0.003, metadata={"help": "Inverse L2 strength of the logistic ranker."})
    prior_c: float = field(default=10.0, metadata={"help": "Inverse L2 strength of the text prior (0 = no prior)."})
    word_prior_c: float = field(default=30.0, metadata={
        "help": "Inverse L2 strength of the word prior (TF-IDF words of the lesson -> subject|grade; 0 = none)."})
    folds: int = field(default=4, metadata={"help": "GroupKFold folds of the cross-fitted ranker rows and calibration."})
    seed: int = field(default=13, metadata={"help": "Seed of the adapter and of which lessons carry a grade hint."})
    limit: int | None = field(default=None, metadata={"help": "Use only the first N dev and held-out items."})


@dataclass
class QueryEncoderArgs:
    """The distilled /align query encoder's recipe (finetune.query_encoder). Layers 0, 4 and 5 of the six: of the
    three-layer choices tried untrained (0-1-2, 0-2-4, 0-2-5, 0-3-5, 0-4-5, 2-4-5, 0-1-5), keeping the last layers
    started nearest the teacher (cosine 0.63 vs 0.23-0.60 on dev lesson passages)."""

    layers: list[int] = field(default_factory=lambda: [0, 4, 5], metadata={"help": "Base transformer layers kept, in order."})
    rank: int = field(default=64, metadata={"help": "LoRA rank on every linear map of the kept layers."})
    epochs: float = field(default=4.0, metadata={"help": "Passes over the passages."})
    max_steps: int = field(default=-1, metadata={"help": "Stop after N optimizer steps (-1 = all epochs)."})
    batch_size: int = field(default=16, metadata={"help": "Passages per step."})
    learning_rate: float = field(default=1e-3, metadata={"help": "Peak AdamW learning rate (linear decay)."})
    warmup_ratio: float = field(default=0.05, metadata={"help": "Share of the steps spent warming up."})
    passage_tokens: int = field(default=200, metadata={"help": "Passage size in word pieces (/align's EDURAG_PASSAGE_TOKENS)."})
    statements: int = field(default=3000, metadata={"help": "Standards statements distilled on (a seeded sample)."})
    per_transcript: int = field(default=30, metadata={"help": "Passages taken from each transcript."})
    check_share: float = field(default=0.2, metadata={"help": "Share of dev lesson groups held out of training to check on."})
    seed: int = field(default=13, metadata={"help": "Seed of the sample, the check split and training."})
    logging_steps: int = field(default=50, metadata={"help": "Log the loss every N steps."})
    limit: int | None = field(default=None, metadata={"help": "Use only the first N dev lessons."})


def field_default(args: type, name: str) -> Any:
    """The default of one run argument (calling its factory when it has one)."""
    found = next(f for f in fields(args) if f.name == name)
    return found.default_factory() if found.default is MISSING else found.default


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


@dataclass
class SummaryScorerArgs:
    """The lectures' learned sentence scorer (finetune.summary_scorer): ridge over sentence features and MiniLM vectors.
    alpha, the target (bigram precision against the overview) and the lectures' budget share were chosen by 4-fold
    cross-validation over the 28 tune lectures only (bench/summary_length.md, session 8: alpha 300 / 1,000 / 3,000 /
    10,000 gave ROUGE-L 0.181 / 0.184 / 0.181 / 0.177 at 0.85 of the budget)."""

    alpha: float = field(default=1000.0, metadata={"help": "Ridge L2 strength (features standardized first)."})
    folds: int = field(default=4, metadata={"help": "Cross-validation folds over the tune lectures for the manifest's metrics."})
    limit: int | None = field(default=None, metadata={"help": "Train on the first N tune lectures only (tests)."})
