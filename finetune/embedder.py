"""Domain-tune the MiniLM bi-encoder with MultipleNegativesRankingLoss on pairs built from the standards data."""

from __future__ import annotations

import logging
import random
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from edurag.codes import canonical
from edurag.datasets import ALIGNED, read_alignment_csv, read_jsonl, split_of
from edurag.embedder import DEFAULT_EMBEDDER_NAME
from edurag.models import default_embedding_model, load_sentence_transformer, resolve_model_path
from edurag.standards import Catalog, load_catalog
from finetune.config import EmbedderArgs
from finetune.data import file_sha256
from finetune.manifest import describe_base, library_versions, write_manifest

logger = logging.getLogger(__name__)

METHOD = "mnrl-embedder"
DEFAULT_BASE = DEFAULT_EMBEDDER_NAME
DEV_SPLIT_RULE = "edurag.datasets.split_of(alignment_item_id(row_index)) == 'dev' (the split `edurag eval retrieval` uses)"


@dataclass(frozen=True)
class TextPair:
    """A training pair: a text and the indexed document of the standard it belongs to."""

    anchor: str
    positive: str
    source: str


def catalog_pairs(catalog: Catalog, standards_dir: Path) -> list[TextPair]:
    """Sub-standard texts and examples → their standard; NGSS PE ↔ connected CCSS (as quoted in NGSS)."""
    pairs: list[TextPair] = []
    for node in catalog.by_code.values():
        target = catalog.indexed_standard(node.code) if node.level in ("Standard", "Sub-standard") else None
        if target is None:
            continue
        doc = target.document(catalog)
        if node.level == "Sub-standard" and node.text:
            pairs.append(TextPair(node.text, doc, "sub-standard"))
        if node.details:
            pairs.append(TextPair(node.details, doc, "details"))
        if node.framework == "ngss":
            for code in node.connections:
                connected = catalog.indexed_standard(code)
                if connected:
                    pairs.append(TextPair(node.text, connected.document(catalog), "ngss-to-ccss"))
    for row in read_jsonl(standards_dir / "ngss_ccss_connections.jsonl"):
        pe = catalog.get(row["ngss_pe"])
        quoted = (row.get("ccss_text_as_quoted_in_ngss") or "").strip()
        if pe and quoted:
            pairs.append(TextPair(quoted, pe.document(catalog), "ccss-to-ngss"))
    return pairs


def dev_item_pairs(path: Path, catalog: Catalog) -> list[TextPair]:
    """Aligned (Full-intent/Partial) problems of the dev half of the teacher-annotated CSV → their standard."""
    pairs: list[TextPair] = []
    for row in read_alignment_csv(path):
        if split_of(row.item_id) != "dev" or row.label not in ALIGNED:
            continue
        target = catalog.indexed_standard(canonical(row.standard))
        if target and row.text.strip():
            pairs.append(TextPair(row.text.strip(), target.document(catalog), "dev-items"))
    return pairs


def select_pairs(pairs: list[TextPair], limit: int | None, seed: int) -> list[TextPair]:
    """Drop duplicates, shuffle with the seed and keep the first `limit` pairs."""
    unique = list(dict.fromkeys(pairs))
    random.Random(seed).shuffle(unique)
    return unique[:limit] if limit else unique


def _train(model: Any, pairs: list[TextPair], args: EmbedderArgs) -> tuple[int, float]:
    """Run the sentence-transformers trainer with MNRL (no duplicate texts in a batch); return steps and last loss."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    dataset = Dataset.from_dict({"anchor": [p.anchor for p in pairs], "positive": [p.positive for p in pairs]})
    with tempfile.TemporaryDirectory(prefix="edurag-mnrl-") as scratch:
        training_args = SentenceTransformerTrainingArguments(
            output_dir=scratch, num_train_epochs=args.epochs, per_device_train_batch_size=args.batch_size,
            learning_rate=args.learning_rate, warmup_steps=args.warmup_ratio, seed=args.seed, use_cpu=True,
            batch_sampler="no_duplicates", save_strategy="no", report_to="none", logging_steps=args.logging_steps,
            logging_first_step=True, dataloader_num_workers=0, disable_tqdm=True,
        )
        trainer = SentenceTransformerTrainer(model=model, args=training_args, train_dataset=dataset,
                                             loss=MultipleNegativesRankingLoss(model))
        trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    return trainer.state.global_step, float(losses[-1])


def run_embedder_training(standards_dir: Path, out: Path, args: EmbedderArgs, dev_items: Path | None = None,
                          base: str | None = None, allow_downloads: bool = False) -> dict[str, Any]:
    """Build pairs, fine-tune the bi-encoder, save it and its manifest to `out`; return the manifest."""
    catalog = load_catalog(standards_dir)
    built = catalog_pairs(catalog, standards_dir) + (dev_item_pairs(dev_items, catalog) if dev_items else [])
    pairs = select_pairs(built, args.limit, args.seed)
    if not pairs:
        raise ValueError(f"no training pairs could be built from {standards_dir}")
    model = load_sentence_transformer(base or "", allow_downloads)
    base_path = resolve_model_path(base or default_embedding_model(), allow_downloads)
    serving_length = int(model.max_seq_length)
    model.max_seq_length = args.max_seq_length or serving_length
    start = time.perf_counter()
    steps, final_loss = _train(model, pairs, args)
    wall = time.perf_counter() - start
    model.max_seq_length = serving_length
    out.mkdir(parents=True, exist_ok=True)
    model.save(str(out))
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    data: dict[str, Any] = {
        "standards_dir": str(standards_dir.resolve()),
        "pairs_built_by_source": dict(Counter(p.source for p in built)),
        "pairs_used_by_source": dict(Counter(p.source for p in pairs)), "pairs_used": len(pairs),
    }
    if dev_items:
        data["dev_items"] = {"file": dev_items.name, "sha256": file_sha256(dev_items), "split": DEV_SPLIT_RULE}
    manifest = {
        "base": describe_base(base or DEFAULT_BASE, base_path, model[0].auto_model.config),
        "method": METHOD,
        "hyperparameters": asdict(args) | {"loss": "MultipleNegativesRankingLoss", "batch_sampler": "no_duplicates",
                                           "serving_max_seq_length": serving_length},
        "data": data, "steps": steps, "final_loss": final_loss, "trainable_parameters": trainable,
        "total_parameters": total, "trainable_share": trainable / total, "wall_time_seconds": round(wall, 2),
        "versions": library_versions() | {"sentence-transformers": version("sentence-transformers")},
    }
    write_manifest(out, manifest)
    logger.info("saved %s to %s (%d pairs, %d steps, final loss %.4f)", METHOD, out, len(pairs), steps, final_loss)
    return manifest
