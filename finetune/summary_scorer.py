"""`edurag finetune summary-scorer`: train the lectures' sentence scorer (edurag.summarization.sentence_scorer).

Data: Open Yale dev lectures (jsonl with transcript, lecture_description, lecture_title); only the tune split
(edurag.datasets.lecture_split) is read. Each lecture goes through the summarizer's own preparation and analysis
(summarization.service.prepare_text / analyse: the same units, vectors, sections and key terms the summarizer sees).
Target of a sentence = the share of its word pairs (rouge-score tokens, stemmed) that the lecture's overview contains:
a per-sentence proxy for what ROUGE-L rewards, smoother than the 0/1 labels of a greedy oracle (which scored lower
in cross-validation, bench/summary_length.md). Model = scikit-learn Ridge on standardized features.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
from rouge_score.tokenizers import DefaultTokenizer
from scipy.stats import spearmanr
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

from edurag.datasets import lecture_split, read_jsonl
from edurag.summarization.sentence_scorer import FEATURES, SentenceScorer
from finetune.config import SummaryScorerArgs

METHOD = "lecture-sentence-ridge"
TEXT_FIELD, SUMMARY_FIELD, TITLE_FIELD = "transcript", "lecture_description", "lecture_title"


def bigram_precision(sentences: list[str], reference: str) -> np.ndarray:
    """(n,) share of each sentence's adjacent token pairs found in the reference (rouge-score's stemmed tokens)."""
    tokenizer = DefaultTokenizer(use_stemmer=True)
    target = tokenizer.tokenize(reference)
    pairs = set(zip(target, target[1:]))
    out = []
    for sentence in sentences:
        tokens = tokenizer.tokenize(sentence)
        out.append(sum(p in pairs for p in zip(tokens, tokens[1:])) / max(len(tokens) - 1, 1))
    return np.array(out)


def fit(features: list[np.ndarray], targets: list[np.ndarray], alpha: float) -> tuple[StandardScaler, Ridge]:
    """Standardize, then ridge-regress the targets of all lectures' sentences."""
    x, y = np.vstack(features), np.concatenate(targets)
    scaler = StandardScaler().fit(x)
    return scaler, Ridge(alpha=alpha).fit(scaler.transform(x), y)


def rank_agreement(scaler: StandardScaler, model: Ridge, features: list[np.ndarray], targets: list[np.ndarray]) -> float:
    """Mean over lectures of Spearman's rho between predicted and true sentence targets."""
    rhos = [spearmanr(model.predict(scaler.transform(x)), y).statistic for x, y in zip(features, targets)]
    return round(float(np.nanmean(rhos)), 4)


def run_summary_scorer_training(data: Path, out: Path, args: SummaryScorerArgs, settings: Any,
                                progress: Callable[[Iterable], Iterable] = iter) -> dict[str, Any]:
    """Encode the tune lectures with the configured embedder, fit the scorer, write scorer.npz and the manifest
    (base embedder, data sha256, hyperparameters, cross-validated and in-sample rank agreement). ValueError when the
    file holds no tune lecture."""
    from edurag.embedder import load_embedder
    from edurag.summarization.service import SummaryOptions, analyse, prepare_text
    from finetune.data import file_sha256
    from finetune.manifest import library_versions, write_manifest

    started = time.perf_counter()
    rows = [r for r in read_jsonl(data) if lecture_split(r[TITLE_FIELD]) == "tune"][:args.limit]
    if not rows:
        raise ValueError(f"{data} has no tune lectures (edurag.datasets.lecture_split)")
    embedder = load_embedder(settings)
    features, targets = [], []
    for row in progress(rows):
        table = analyse(embedder, prepare_text(row[TEXT_FIELD], SummaryOptions()))
        features.append(table.features(table.lexical()))
        targets.append(bigram_precision([u.text for u in table.prepared.units], row[SUMMARY_FIELD]))
    folds = [list(range(k, len(rows), args.folds)) for k in range(min(args.folds, len(rows)))]
    cross_validated = [rank_agreement(*fit([features[i] for i in range(len(rows)) if i not in fold],
                                           [targets[i] for i in range(len(rows)) if i not in fold], args.alpha),
                                      [features[i] for i in fold], [targets[i] for i in fold])
                       for fold in folds if len(fold) < len(rows)]
    scaler, model = fit(features, targets, args.alpha)
    scorer = SentenceScorer(weights=model.coef_, bias=float(model.intercept_), mean=scaler.mean_, scale=scaler.scale_,
                            embedder=embedder.name, dim=embedder.dim)
    scorer.save(out)
    parameters = int(model.coef_.size + 1)
    manifest = {
        "base": {"id": embedder.name, "backend": embedder.backend, "dim": embedder.dim},
        "method": METHOD, "features": list(FEATURES) + [f"vector_{i}" for i in range(embedder.dim)]
        + [f"vector_offset_{i}" for i in range(embedder.dim)],
        "hyperparameters": {"alpha": args.alpha, "folds": args.folds, "limit": args.limit,
                            "target": "bigram precision against lecture_description (rouge-score tokens, stemmed)"},
        "data": {"file": data.name, "sha256": file_sha256(data), "tune_lectures": len(rows),
                 "sentences": int(sum(len(t) for t in targets)),
                 "split_rule": "edurag.datasets.lecture_split (tune only is trained on)"},
        "steps": 1, "final_loss": round(float(np.mean((model.predict(scaler.transform(np.vstack(features)))
                                                       - np.concatenate(targets)) ** 2)), 6),
        "trainable_parameters": parameters, "total_parameters": parameters, "trainable_share": 1.0,
        "wall_time_seconds": round(time.perf_counter() - started, 1), "versions": library_versions(),
        "metrics": {"spearman_in_sample": rank_agreement(scaler, model, features, targets),
                    "spearman_cross_validated": round(float(np.mean(cross_validated)), 4) if cross_validated else None},
        "rebuild": f"EDURAG_EMBEDDING_BACKEND={embedder.backend} edurag finetune summary-scorer --data {data} --out {out}",
    }
    write_manifest(out, manifest)
    return manifest
