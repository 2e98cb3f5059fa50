"""Distill /align's query encoder: a few of all-MiniLM-L6-v2's layers plus a LoRA, trained so that its vectors of
lesson passages match the full model's. The standards stay indexed by the full model (nothing is re-indexed); only the
passages of the texts /align reads go through the smaller encoder, at about half the cost per word piece.

Training (sentence-transformers' distillation recipe): MSELoss between the student's and the teacher's unit vectors of
the same passage, over the dev split's lesson passages (at /align's passage size and at half of it), standards
statements and classroom and lecture transcript passages. A group-split share of the dev lessons is held out of
training and scores the result (cosine to the teacher); the held-out split of the items file is never read.
"""

from __future__ import annotations

import json
import logging
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from edurag.datasets import group_splits, item_groups, read_jsonl
from edurag.embedder import DEFAULT_EMBEDDER_NAME, Embedder
from edurag.models import QUERY_ENCODER_CONFIG, keep_layers, load_sentence_transformer
from edurag.standards import load_catalog
from edurag.transcript_text import clean_text
from finetune.config import QueryEncoderArgs
from finetune.data import file_sha256
from finetune.manifest import library_versions, write_manifest

logger = logging.getLogger(__name__)

METHOD = "distilled-query-encoder"
# LoRA on every linear map of the kept layers (not BERT's unused pooler).
LORA_TARGETS = r".*encoder\.layer\.\d+\.(attention\.self\.(query|key|value)|attention\.output\.dense|intermediate\.dense|output\.dense)"


def transcript_passages(path: Path, embedder: Embedder, size: int, per_text: int) -> list[str]:
    """Up to per_text passages of each row's text: `transcript` (Yale lectures), `turns[].sentence` (TalkMoves),
    `dialogue` (DialogSum) or `text`."""
    out: list[str] = []
    for row in read_jsonl(path):
        if row.get("turns"):
            text = "\n".join(str(t.get("sentence") or "") for t in row["turns"])
        else:
            text = str(row.get("transcript") or row.get("dialogue") or row.get("text") or "")
        if text.strip():
            out += embedder.passages(clean_text(text), size, 0).texts[:per_text]
    return out


def distillation_texts(items_file: Path, transcripts: Sequence[Path], standards_dir: Path, embedder: Embedder,
                       args: QueryEncoderArgs) -> tuple[list[str], list[str], dict[str, int]]:
    """(train passages, check passages, count per source). Check passages: /align-sized passages of a group-split
    `check_share` of the dev lessons; the items file's held-out split is not read."""
    rows = read_jsonl(items_file)
    splits, groups = group_splits(rows), item_groups(rows)
    dev = [r for r in rows if splits[r["id"]] == "dev"][:args.limit]
    names = sorted({groups[r["id"]] for r in dev})
    random.Random(args.seed).shuffle(names)
    check_groups = set(names[:round(len(names) * args.check_share)])
    lessons, check = [], []
    for row in dev:
        if groups[row["id"]] in check_groups:
            check += embedder.passages(row["text"], args.passage_tokens, 0).texts
        else:
            for size in (args.passage_tokens, args.passage_tokens // 2):
                lessons += embedder.passages(row["text"], size, 0).texts
    catalog = load_catalog(standards_dir)
    statements = sorted({node.document(catalog) for node in catalog.by_code.values() if node.text})
    random.Random(args.seed).shuffle(statements)
    statements = statements[:args.statements]
    spoken = [p for path in transcripts for p in transcript_passages(path, embedder, args.passage_tokens, args.per_transcript)]
    counts = {"lesson_passages": len(lessons), "statements": len(statements), "transcript_passages": len(spoken),
              "check_passages": len(check)}
    return lessons + statements + spoken, check, counts


def student_model(base: str, layers: list[int], args: QueryEncoderArgs, allow_downloads: bool) -> Any:
    """The base encoder with only `layers` kept and a fresh LoRA on their linear maps (trainable)."""
    from peft import LoraConfig, get_peft_model

    student = load_sentence_transformer(base, allow_downloads)
    keep_layers(student, layers)
    config = LoraConfig(r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0.0, target_modules=LORA_TARGETS)
    student[0].model = get_peft_model(student[0].model, config)  # sentence-transformers' Transformer.model
    return student


def save_adapter(peft_model: Any, out: Path) -> None:
    """adapter_config.json and the LoRA weights in float16 (half the bytes to commit; PEFT loads them into the float32
    encoder as float32)."""
    from safetensors.torch import load_file, save_file

    peft_model.save_pretrained(str(out))
    (out / "README.md").unlink(missing_ok=True)  # PEFT's blank model card
    weights = out / "adapter_model.safetensors"
    save_file({name: tensor.half() for name, tensor in load_file(str(weights)).items()}, str(weights))


def length_grouped_batches(lengths: list[int]) -> Any:
    """A sentence-transformers batch sampler (the trainer's `batch_sampler` callable) that draws batches of passages of
    about the same length (transformers' LengthGroupedSampler: shuffled, sorted within mega-batches of 50 batches),
    reshuffled every epoch. Statements (~30 word pieces) batched with 200-piece passages were padded to 200."""
    import torch
    from sentence_transformers import DefaultBatchSampler
    from transformers.trainer_pt_utils import LengthGroupedSampler

    class LengthGroupedBatchSampler(DefaultBatchSampler):
        def __iter__(self) -> Any:
            generator = torch.Generator()
            generator.manual_seed(self.seed + self.epoch)
            order = list(LengthGroupedSampler(self.batch_size, lengths=lengths, generator=generator))
            stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
            for start in range(0, stop, self.batch_size):
                yield order[start:start + self.batch_size]

        def __len__(self) -> int:
            full, rest = divmod(len(lengths), self.batch_size)
            return full + (0 if self.drop_last or not rest else 1)

    return LengthGroupedBatchSampler


def cosine_to(model: Any, texts: list[str], targets: np.ndarray) -> np.ndarray:
    """Cosine of the model's unit vectors of texts to the target unit vectors, one per text."""
    vectors = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    return (vectors * targets).sum(axis=1)


def run_query_encoder_training(items_file: Path, transcripts: Sequence[Path], out: Path, args: QueryEncoderArgs,
                               settings: Any) -> dict[str, Any]:
    """`edurag finetune query-encoder`: teacher vectors, student training, the LoRA + QUERY_ENCODER_CONFIG + manifest
    in `out`. Raises ValueError when the items file has no dev lessons."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.losses import MSELoss

    base = settings.embedding_model or ""
    teacher = load_sentence_transformer(base, settings.allow_downloads)
    embedder = Embedder(model=teacher, name=base or DEFAULT_EMBEDDER_NAME)
    texts, check, counts = distillation_texts(items_file, transcripts, settings.standards_dir, embedder, args)
    if not texts:
        raise ValueError(f"{items_file} has no dev lessons to distill on")
    logger.info("distilling on %s", counts)
    started = time.time()
    targets = teacher.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    check_targets = teacher.encode(check, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    student = student_model(base, args.layers, args, settings.allow_downloads)
    before = cosine_to(student, check, check_targets) if check else np.zeros(0)
    data = Dataset.from_dict({"text": texts, "label": [v.tolist() for v in targets]})
    lengths = [len(ids) for ids in student.tokenizer(texts, truncation=True, max_length=student.max_seq_length)["input_ids"]]
    with tempfile.TemporaryDirectory(prefix="edurag-query-encoder-") as scratch:
        training = SentenceTransformerTrainingArguments(
            output_dir=scratch, num_train_epochs=args.epochs, max_steps=args.max_steps,
            per_device_train_batch_size=args.batch_size, learning_rate=args.learning_rate, warmup_ratio=args.warmup_ratio,
            lr_scheduler_type="linear", seed=args.seed, logging_steps=args.logging_steps, save_strategy="no",
            report_to=[], use_cpu=True, batch_sampler=length_grouped_batches(lengths))
        trainer = SentenceTransformerTrainer(model=student, args=training, train_dataset=data, loss=MSELoss(student))
        result = trainer.train()
        losses = [round(h["loss"], 6) for h in trainer.state.log_history if "loss" in h]
    after = cosine_to(student, check, check_targets) if check else np.zeros(0)
    out.mkdir(parents=True, exist_ok=True)
    save_adapter(student[0].model, out)
    (out / QUERY_ENCODER_CONFIG).write_text(json.dumps({"base": base, "layers": list(args.layers)}) + "\n", encoding="utf-8")
    trainable = sum(p.numel() for p in student.parameters() if p.requires_grad)
    total = sum(p.numel() for p in student.parameters())

    def summary(cos: np.ndarray) -> dict[str, float]:
        return {"mean": round(float(cos.mean()), 4), "p5": round(float(np.percentile(cos, 5)), 4)} if cos.size else {}

    manifest = {
        "method": METHOD,
        "base": {"id": embedder.name, "layers": list(args.layers)},
        "hyperparameters": asdict(args),
        "data": {"items_file": items_file.name, "sha256": file_sha256(items_file),
                 "transcripts": {p.name: file_sha256(p) for p in transcripts}, "passages": counts,
                 "split_rule": "edurag.datasets.group_splits dev only; check_share of its groups held out of training"},
        "steps": int(result.global_step), "final_loss": losses[-1] if losses else None, "losses": losses,
        "trainable_parameters": int(trainable), "total_parameters": int(total),
        "trainable_share": round(trainable / max(total, 1), 4), "wall_time_seconds": round(time.time() - started, 1),
        "versions": library_versions(),
        "metrics": {"check_cosine_to_teacher": {"before": summary(before), "after": summary(after)}},
        "rebuild": (f"edurag finetune query-encoder --items {items_file} "
                    + " ".join(f"--transcripts {p}" for p in transcripts) + f" --out {out}"),
    }
    write_manifest(out, manifest)
    return manifest
