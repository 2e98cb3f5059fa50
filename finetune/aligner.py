"""Train /align's learned ranking on real lessons: a query-side linear adapter on the frozen embedder (multi-positive
contrastive loss over every standard, so sibling standards are the hard negatives) and a logistic ranker over
edurag.alignment.ranking's features, calibrated with isotonic regression on out-of-fold scores.

Only the dev split of the items file is used (edurag.datasets' group split); the held-out split is scored at the end
for the manifest and never touches a fitted number. The encoder stays frozen, so passages and standards are encoded
once and training runs on those vectors: seconds instead of the minutes a sentence-transformers fit would spend
re-encoding every step (the index is unchanged, the adapter only maps query vectors).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple, Sequence

import numpy as np

from edurag.alignment.ranking import (FEATURES, QUERY_ENCODER_DIR, AlignerModel, StandardTable, is_practice, keep_top,
                                      prior_class, read_model_manifest, standard_features, text_words, word_vectorizer)
from edurag.embedder import Embedder
from edurag.markup import plain_text
from edurag.standards import HS_GRADES, Catalog, Standard
from eval.retrieval import CodeNormalizer, RetrievalItem, item_metrics, reliability_table
from finetune.config import AlignerArgs
from vectorstore.lexical import LexicalIndex

logger = logging.getLogger(__name__)

METHOD = "aligner-ranker"
STATEMENT_WORDS = 4


@dataclass
class EncodedItem:
    """One lesson item ready for training: passage vectors, per passage the BM25 scores of the lexical index's best
    standards (max-normalized, 0 for those it did not return), gold standard columns, the text's length in words
    (text_words, for the adapter's length gate) and the text itself (for the word prior)."""

    id: str
    group: str
    vectors: np.ndarray
    lexical: np.ndarray
    gold: list[frozenset[int]]
    words: int
    text: str = ""
    named_grades: set[str] = field(default_factory=set)
    hint_grades: set[str] = field(default_factory=set)


@dataclass
class StandardsIndex:
    """The indexed standards as /align sees them: codes, metadata and unit vectors in one order, and their BM25 index
    (the tantivy LexicalIndex /align searches, in a scratch folder, ids = codes); `statements` are the (text, prior
    class) pairs the word prior learns a subject's and grade's words from besides the lessons (statement_classes)."""

    codes: list[str]
    metadatas: list[dict[str, Any]]
    vectors: np.ndarray
    lexical: LexicalIndex
    statements: list[tuple[str, str]] = field(default_factory=list)

    @cached_property
    def table(self) -> StandardTable:
        """The standards' grades, cluster, domain and subject keys for the features."""
        return StandardTable.of(self.metadatas)

    @cached_property
    def practice(self) -> np.ndarray:
        """True for practice standards (CCSS MP), which /align lists apart and the ranker never trains on."""
        return np.array([is_practice(c) for c in self.codes])

    @cached_property
    def ranked(self) -> dict[str, tuple[str, ...]]:
        """The lexical filter of the ranked standards: their frameworks, as /align's default scope filters them."""
        return {"framework": tuple(sorted({str(m.get("framework", "")) for m in self.metadatas}))}


def standards_index(catalog: Catalog, embedder: Embedder, folder: Path, frameworks: Sequence[Path] = ()) -> StandardsIndex:
    """Encode and BM25-index (a LexicalIndex in `folder`) the indexable standards exactly as ingestion does
    (Standard.document), beside the standards of the framework folders `frameworks` (the bundled state frameworks,
    which `make run` indexes too). Only the indexable standards are ranked (normalized_lexical searches their
    frameworks), but BM25's word statistics are those of the index /align searches: trained on the built-in standards'
    statistics alone, the ranker read lexical scores unlike /align's (its top 5 differed from /align's on 46% of dev
    lessons, 25% without the state frameworks in the index). The word prior's statements are both sets'
    (statement_classes)."""
    from ingestion.standards_docs import standard_document, standard_documents

    docs = standard_documents(catalog)
    texts = [d.page_content for d in docs]
    codes = [d.metadata["code"] for d in docs]
    lexical = LexicalIndex(folder)
    lexical.upsert(codes, texts, [d.metadata for d in docs])
    others = [standard_document(s, catalog) for s in framework_standards(frameworks)]
    lexical.upsert([f"{d.metadata['framework']}/{n}" for n, d in enumerate(others)], [d.page_content for d in others],
                   [d.metadata for d in others])
    statements = [(str(d.metadata.get("statement", "")), str(d.metadata.get("subject", "")), d.metadata.get("grades") or [])
                  for d in docs + others]
    return StandardsIndex(codes=codes, metadatas=[d.metadata for d in docs], vectors=embedder.encode(texts),
                          lexical=lexical, statements=statement_classes(statements))


def framework_standards(folders: Sequence[Path]) -> list[Standard]:
    """Every standard in the framework folders (CASE packages or CSP sets, read by edurag.frameworks.importer as
    `edurag ingest framework` reads them). FrameworkFormatError for an unreadable one."""
    from edurag.frameworks.importer import plan, read

    return [s for source in plan(list(folders)) for s in read(source)[1]]


def statement_classes(statements: Iterable[tuple[str, str, list[str]]]) -> list[tuple[str, str]]:
    """(text, prior class) of the statements a text-prior class fits (prior_class) and of at least STATEMENT_WORDS
    words (headings such as "Geometry" name no grade). A statement of some high-school grades counts as the HS band:
    CCSS writes its high-school standards for grades 9-12, where Texas writes Algebra I for grade 9."""
    out = []
    for text, subject, grades in statements:
        band = HS_GRADES if grades and set(grades) <= set(HS_GRADES) else grades
        label = prior_class(subject, band)
        if label and len(text.split()) >= STATEMENT_WORDS:
            out.append((text, label))
    return out


def normalized_lexical(index: StandardsIndex, passages: Sequence[str], candidates: int) -> np.ndarray:
    """(passages, standards) BM25 scores of each passage's `candidates` best standards from the lexical index, among
    the indexed standards' frameworks as /align's default scope filters them (0 elsewhere), each row divided by its
    maximum: what /align fuses."""
    column = {code: j for j, code in enumerate(index.codes)}
    lexical = np.zeros((len(passages), len(index.codes)), dtype=np.float32)
    for p, passage in enumerate(passages):
        for hit in index.lexical.search(passage, candidates, index.ranked):
            lexical[p, column[hit.id]] = hit.score
    return lexical / np.maximum(lexical.max(axis=1, keepdims=True), 1e-9)


def encode_items(items: Sequence[RetrievalItem], groups: dict[str, str], index: StandardsIndex, embedder: Embedder,
                 normalizer: CodeNormalizer, passage_tokens: int, passage_overlap: int, candidates: int,
                 progress: Callable[[Iterable], Iterable] = iter) -> list[EncodedItem]:
    """Split, encode and lexically score every item's plain text (edurag.markup, as /align reads it); tags become sets
    of acceptable standard columns."""
    from edurag.alignment.search import grade_cues

    column = {code: j for j, code in enumerate(index.codes)}
    out = []
    for item in progress(items):
        text = plain_text(item.text)
        split = embedder.passages(text, passage_tokens, passage_overlap)
        gold = [frozenset(column[c] for c in normalizer.group(code) if c in column) for code in item.standard_ids]
        out.append(EncodedItem(id=item.id, group=groups.get(item.id, item.id), vectors=embedder.encode_tokens(split.tokens),
                               lexical=normalized_lexical(index, split.texts, candidates), gold=[g for g in gold if g],
                               words=text_words(text), text=text, named_grades=grade_cues(text)))
    return out


def train_adapter(items: Sequence[EncodedItem], index: StandardsIndex, args: AlignerArgs) -> tuple[np.ndarray, list[float]]:
    """A (dim, dim) query adapter, initialized at identity. Each item contributes its passage closest to one of its
    tags (the one /align's max over passages would pick); a softmax over all content standards maximizes the tagged
    standards' mass, so sibling standards are the hard negatives; the L2 pull toward identity keeps the embedder's
    geometry for standards the dev lessons never tag. Full-batch Adam. Returns the adapter and the loss per step."""
    import torch

    torch.manual_seed(args.seed)
    usable = [it for it in items if it.gold]
    anchors = np.stack([_closest_passage(it, index) for it in usable])
    positives = torch.zeros(len(usable), len(index.codes), dtype=torch.bool)
    for row, item in enumerate(usable):
        for group in item.gold:
            positives[row, list(group)] = True
    content = torch.from_numpy(~index.practice)
    standards = torch.from_numpy(index.vectors)
    queries = torch.from_numpy(anchors)
    identity = torch.eye(standards.shape[1])
    weight = torch.nn.Parameter(identity.clone())
    optimizer = torch.optim.Adam([weight], lr=args.adapter_learning_rate)
    losses = []
    for _ in range(args.adapter_steps):
        optimizer.zero_grad()
        scores = torch.nn.functional.normalize(queries @ weight, dim=1) @ standards.T
        log_probs = (scores.masked_fill(~content, -1.0) / args.temperature).log_softmax(dim=1)
        loss = -(torch.logsumexp(log_probs.masked_fill(~positives, -1e4), dim=1)).mean()
        loss = loss + args.adapter_regularization * ((weight - identity) ** 2).sum() / len(identity)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return weight.detach().numpy().astype(np.float32), losses


def _closest_passage(item: EncodedItem, index: StandardsIndex) -> np.ndarray:
    """The item's passage vector most similar to any of its tagged standards."""
    gold = sorted(set().union(*item.gold))
    return item.vectors[int((item.vectors @ index.vectors[gold].T).max(axis=1).argmax())]


def item_features(item: EncodedItem, index: StandardsIndex, model: AlignerModel | None, candidates: int,
                  content_only: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(columns, features) of an item's candidate standards, as /align sees them: each passage's `candidates` nearest
    standards and `candidates` best BM25 standards (a score counts only where its search returned the standard),
    practices excluded. The model's adapter maps the passages and its text prior feeds the features."""
    vectors = model.adapt(item.vectors, item.words) if model is not None else item.vectors
    prior = model.prior(item.vectors, index.table.subjects) if model is not None else None
    words = model.word_prior(item.text, index.table.subjects, item.hint_grades) if model is not None else None
    dense = keep_top(vectors @ index.vectors.T, candidates)
    lexical = item.lexical
    keep = (dense.max(axis=0) > 0) | (lexical.max(axis=0) > 0)
    if content_only:
        keep &= ~index.practice
    columns = np.flatnonzero(keep)
    return columns, standard_features(dense[:, columns], lexical[:, columns], index.table.take(columns),
                                      item.named_grades, item.hint_grades, prior, words)


def fused_only(adapter: np.ndarray | None = None, prior: tuple | None = None, adapter_words: int = 0,
               word_prior: dict[str, Any] | None = None) -> AlignerModel:
    """A model that ranks by the fused score (feature 0) through an adapter (gated by text length, AlignerModel) and
    the text priors (fit_prior, fit_word_prior): the stage before the ranker."""
    size = len(FEATURES)
    classes, coef, intercept = prior or ((), None, None)
    return AlignerModel(weights=np.eye(size, dtype=np.float32)[0], bias=0.0, mean=np.zeros(size, np.float32),
                        scale=np.ones(size, np.float32), calibration_x=np.array([0.0, 1.0]),
                        calibration_y=np.array([0.0, 1.0]), adapter=adapter, prior_classes=tuple(classes),
                        prior_coef=coef, prior_intercept=intercept, adapter_words=adapter_words, **(word_prior or {}))


def fit_prior(items: Sequence[EncodedItem], index: StandardsIndex, c: float = 10.0) -> tuple:
    """The text prior: multinomial logistic regression (scikit-learn) from a text's mean passage vector to its
    `subject|grade` class (prior_class), fitted on the indexed standards' own vectors and the dev lessons (first tag)."""
    from sklearn.linear_model import LogisticRegression

    xs, ys = [], []
    for vector, metadata in zip(index.vectors, index.metadatas):
        label = prior_class(metadata.get("subject", ""), metadata.get("grades") or [])
        if label:
            xs.append(vector)
            ys.append(label)
    for item in items:
        if not item.gold:
            continue
        tagged = index.metadatas[min(item.gold[0])]
        label = prior_class(tagged.get("subject", ""), tagged.get("grades") or [])
        if label:
            mean = item.vectors.mean(axis=0)
            xs.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
            ys.append(label)
    classifier = LogisticRegression(C=c, max_iter=2000).fit(np.array(xs), np.array(ys))
    return tuple(str(x) for x in classifier.classes_), classifier.coef_.astype(np.float32), classifier.intercept_.astype(np.float32)


def fit_word_prior(items: Sequence[EncodedItem], index: StandardsIndex, c: float = 30.0) -> dict[str, Any]:
    """The word prior: multinomial logistic regression (scikit-learn) from a text's TF-IDF words and word pairs
    (word_vectorizer) to its `subject|grade` class (prior_class), fitted on the dev lessons (their first tag's class)
    and on index.statements; AlignerModel's word_* fields. Grade words ("tens and ones", "unit rate", "slope") tell a
    lesson's grade where the mean passage vector confuses neighbouring grades of one domain (dev-CV hit@5 0.728 ->
    0.740, MRR 0.539 -> 0.563). The statements of five states' frameworks and of CCSS and NGSS teach it words no
    single publisher uses, and the ELA and science classes (4-fold group CV of the first tag's class on the dev
    lessons: accuracy 0.510 -> 0.568, top-2 0.686 -> 0.768, log loss 1.50 -> 1.24)."""
    from sklearn.linear_model import LogisticRegression

    texts, labels = [text for text, _ in index.statements], [label for _, label in index.statements]
    for item in items:
        if item.gold:
            tagged = index.metadatas[min(item.gold[0])]
            label = prior_class(tagged.get("subject", ""), tagged.get("grades") or [])
            if label:
                texts.append(item.text)
                labels.append(label)
    vectorizer = word_vectorizer()
    classifier = LogisticRegression(C=c, max_iter=3000).fit(vectorizer.fit_transform(texts), labels)
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    coef, intercept = classifier.coef_, classifier.intercept_
    if len(classifier.classes_) == 2:  # one logit z for the second class: a softmax over (-z/2, z/2) gives sigmoid(z)
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.concatenate([-intercept / 2, intercept / 2])
    return {"word_classes": tuple(str(x) for x in classifier.classes_), "word_terms": tuple(terms),
            "word_idf": vectorizer.idf_.astype(np.float64), "word_coef": coef.astype(np.float32),
            "word_intercept": intercept.astype(np.float32)}


def _labels(item: EncodedItem, columns: np.ndarray) -> np.ndarray:
    gold = set().union(*item.gold) if item.gold else set()
    return np.array([j in gold for j in columns])


class Rows(NamedTuple):
    """Ranker rows (one per candidate standard of an item): features, labels, the item's group, and per row the item's
    position in its list, the candidate's column in the StandardsIndex and the cross-fitting fold (0 when not)."""

    x: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    item: np.ndarray
    column: np.ndarray
    fold: np.ndarray


def _rows(items: Sequence[EncodedItem], index: StandardsIndex, stage: AlignerModel | None, args: AlignerArgs,
          positions: Sequence[int] | None = None, fold: int = 0) -> Rows:
    """Training rows: each item's train_depth best candidates by fused score (0 = all), with labels and the item's
    group; `positions` are the items' places in the caller's list (default 0..n-1)."""
    xs, ys, groups, owners, columns = [], [], [], [], []
    for n, item in enumerate(items):
        candidates, features = item_features(item, index, stage, args.candidates)
        top = np.argsort(-features[:, 0])[:args.train_depth or None]
        xs.append(features[top])
        ys.append(_labels(item, candidates[top]))
        columns.append(candidates[top])
        groups += [item.group] * len(top)
        owners += [positions[n] if positions is not None else n] * len(top)
    x, y = np.concatenate(xs), np.concatenate(ys)
    return Rows(x, y, np.array(groups), np.array(owners), np.concatenate(columns), np.full(len(y), fold))


def fit_ranker(items: Sequence[EncodedItem], index: StandardsIndex, stage: AlignerModel | None,
               args: AlignerArgs, rows: tuple | None = None) -> AlignerModel:
    """Logistic regression on standardized features (scikit-learn), then isotonic calibration of its out-of-fold
    scores (GroupKFold by item group, so a lesson's items never calibrate each other). `rows` (features, labels,
    groups) replaces the items' features computed through `stage`, e.g. cross-fitted ones (train_aligner)."""
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    x, y, groups = (rows or _rows(items, index, stage, args))[:3]
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    folds = min(args.folds, len(set(groups)))
    out_of_fold = np.zeros(len(y))
    if folds >= 2 and y.any():
        for train, test in GroupKFold(n_splits=folds).split(z, y, groups):
            if y[train].any() and not y[train].all():
                fold = LogisticRegression(C=args.ranker_c, max_iter=1000).fit(z[train], y[train])
                out_of_fold[test] = fold.decision_function(z[test])
    if not (y.any() and not y.all()):
        raise ValueError("the training items give no positive (or no negative) candidates; use more items")
    ranker = LogisticRegression(C=args.ranker_c, max_iter=1000).fit(z, y)
    calibration = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(out_of_fold, y)
    return replace(stage or fused_only(), weights=ranker.coef_[0].astype(np.float32), bias=float(ranker.intercept_[0]),
                   mean=mean.astype(np.float32), scale=scale.astype(np.float32),
                   calibration_x=np.asarray(calibration.X_thresholds_, dtype=np.float64),
                   calibration_y=np.asarray(calibration.y_thresholds_, dtype=np.float64))


def rank_item(item: EncodedItem, index: StandardsIndex, model: AlignerModel | None, candidates: int, k: int = 10,
              content_only: bool = True) -> list[int]:
    """The k best content-standard columns for an item (model None = the fused score alone, as before the ranker)."""
    columns, features = item_features(item, index, model, candidates, content_only)
    scores = model.score(features) if model else features[:, 0]
    return [int(columns[i]) for i in np.argsort(-scores)[:k]]


def score_items(items: Sequence[EncodedItem], index: StandardsIndex, model: AlignerModel | None, candidates: int,
                normalizer: CodeNormalizer, content_only: bool = True) -> dict[str, float]:
    """Mean hit@1/5/10, recall@5/10 and MRR of rank_item over items."""
    return mean_metrics(items, [rank_item(item, index, model, candidates, 10, content_only) for item in items], index,
                        normalizer)


def mean_metrics(items: Sequence[EncodedItem], rankings: Sequence[Sequence[int]], index: StandardsIndex,
                 normalizer: CodeNormalizer) -> dict[str, float]:
    """Mean hit@1/5/10, recall@5/10 and MRR over items, each ranked as the standard columns in `rankings` (best
    first; a sub-standard counts as its standard)."""
    totals: dict[str, float] = {}
    for item, columns in zip(items, rankings):
        ranked = [normalizer.catalog.standard_of(index.codes[j]) for j in columns]
        groups = [frozenset(index.codes[j] for j in g) for g in item.gold]
        for name, value in item_metrics(ranked, groups, (1, 5, 10)).items():
            totals[name] = totals.get(name, 0.0) + value
    return {name: round(value / max(len(items), 1), 4) for name, value in totals.items()}


def reliability(items: Sequence[EncodedItem], index: StandardsIndex, model: AlignerModel, candidates: int,
                k: int = 5) -> list[dict[str, Any]]:
    """Reliability table (eval.retrieval.reliability_table) of the confidences of each item's top k standards."""
    confidences, tagged = [], []
    for item in items:
        columns, features = item_features(item, index, model, candidates)
        scores = model.score(features)
        top = np.argsort(-scores)[:k]
        confidences += list(model.confidence(scores[top]))
        tagged += list(_labels(item, columns[top]))
    return reliability_table(confidences, tagged)


def with_grade_hints(items: Sequence[EncodedItem], index: StandardsIndex, catalog: Catalog, seed: int,
                     share: float = 0.5) -> list[EncodedItem]:
    """Training copies of the items where a random share carries its first tag's grades as grade_hint, so the ranker
    learns what a teacher-given grade is worth (the lessons themselves rarely name one); scoring uses the originals."""
    rng = np.random.default_rng(seed)
    out = []
    for item in items:
        hinted = rng.random() < share and item.gold
        grades = set(catalog.get(index.codes[min(item.gold[0])]).grades) if hinted else set()
        out.append(replace(item, hint_grades=grades))
    return out


def _stage(items: Sequence[EncodedItem], index: StandardsIndex, args: AlignerArgs) -> tuple[AlignerModel, list[float]]:
    """Adapter and text priors fitted on items: what the ranker's features are computed through."""
    adapter, losses = train_adapter(items, index, args) if args.adapter_steps > 0 else (None, [])
    prior = fit_prior(items, index, args.prior_c) if args.prior_c > 0 else None
    words = fit_word_prior(items, index, args.word_prior_c) if args.word_prior_c > 0 else None
    return fused_only(adapter, prior, args.adapter_words, words), losses


def cross_fitted_rows(versions: Sequence[Sequence[EncodedItem]], index: StandardsIndex, args: AlignerArgs) -> list[Rows]:
    """Ranker rows of each version of the same items (e.g. with and without grade hints; same order and groups),
    whose features come from an adapter and prior fitted without the item's group (GroupKFold over the first
    version): features of items the adapter was trained on look better than any new lesson's would."""
    from sklearn.model_selection import GroupKFold

    items = versions[0]
    groups = np.array([item.group for item in items])
    folds = min(args.folds, len(set(groups)))
    if folds < 2:
        stage = _stage(items, index, args)[0]
        return [_rows(version, index, stage, args) for version in versions]
    fixed = _stage(items, index, args)[0] if args.adapter_steps == 0 and args.prior_c == 0 and args.word_prior_c == 0 else None
    parts: list[list[Rows]] = [[] for _ in versions]
    for fold, (train, test) in enumerate(GroupKFold(n_splits=folds).split(np.zeros(len(items)), groups=groups)):
        stage = fixed or _stage([items[i] for i in train], index, args)[0]
        for part, version in zip(parts, versions):
            part.append(_rows([version[i] for i in test], index, stage, args, positions=test, fold=fold))
    return [Rows(*(np.concatenate(column) for column in zip(*part))) for part in parts]


def cross_validated_metrics(train: Rows, test: Rows, items: Sequence[EncodedItem], index: StandardsIndex,
                            normalizer: CodeNormalizer, args: AlignerArgs) -> dict[str, float]:
    """Dev cross-validation of the whole recipe: each fold's items, ranked by their `test` rows' scores under a ranker
    fitted on the other folds' `train` rows (both cross-fitted: adapter and priors never saw the fold's groups), scored
    by mean_metrics as score_items is. What a variant is chosen by, so that the held-out
    split is read once. Empty when the rows have one fold."""
    from sklearn.linear_model import LogisticRegression

    folds = sorted(set(train.fold.tolist()))
    if len(folds) < 2:
        return {}
    mean, scale = train.x.mean(axis=0), train.x.std(axis=0) + 1e-6
    scores = np.full(len(test.y), -np.inf)
    for fold in folds:
        fit, scored = train.fold != fold, test.fold == fold
        if train.y[fit].any() and not train.y[fit].all():
            ranker = LogisticRegression(C=args.ranker_c, max_iter=1000).fit((train.x[fit] - mean) / scale, train.y[fit])
            scores[scored] = ranker.decision_function((test.x[scored] - mean) / scale)
    rankings = []
    for position in range(len(items)):
        mine = np.flatnonzero(test.item == position)
        rankings.append(test.column[mine[np.argsort(-scores[mine])][:10]])
    return mean_metrics(items, rankings, index, normalizer)


def train_aligner(dev: Sequence[EncodedItem], index: StandardsIndex, args: AlignerArgs,
                  normalizer: CodeNormalizer | None = None) -> tuple[AlignerModel, dict[str, Any]]:
    """Ranker on cross-fitted features, then the adapter and prior refitted on all dev items; returns the model and
    what the manifest records. With a normalizer, `dev_cv` holds cross_validated_metrics of the default call: the
    items without their grade hints (with_grade_hints' training copies) ranked by rankers trained on the copies."""
    started = time.perf_counter()
    plain = [replace(item, hint_grades=set()) for item in dev]
    rows, plain_rows = cross_fitted_rows([dev, plain], index, args)
    stage, losses = _stage(dev, index, args)
    model = fit_ranker(dev, index, stage, args, rows)
    dev_cv = cross_validated_metrics(rows, plain_rows, plain, index, normalizer, args) if normalizer else {}
    return model, {"steps": args.adapter_steps, "final_loss": round(losses[-1], 4) if losses else None,
                   "adapter_losses": [round(x, 4) for x in losses[::max(1, len(losses) // 10)]],
                   "wall_time_seconds": round(time.perf_counter() - started, 1), "hyperparameters": asdict(args),
                   "dev_cv": dev_cv}


def run_aligner_training(items_file: Path, out: Path, args: AlignerArgs, settings: Any,
                         progress: Callable[[Iterable], Iterable] = iter, query_encoder: Path | None = None) -> dict[str, Any]:
    """`edurag finetune aligner`: encode the items file's dev split with the configured embedder and backend, train,
    score dev and held-out before (fused score, practices apart) and after, write aligner.npz and the manifest.

    With `query_encoder` (a folder from `edurag finetune query-encoder`) the lessons' passages are encoded by it, as
    /align will encode them, and it is copied into out/QUERY_ENCODER_DIR; the standards stay encoded by the embedder."""
    from edurag.embedder import load_embedder
    from edurag.frameworks.importer import framework_folders
    from edurag.models import query_encoder_folder
    from edurag.standards import load_catalog
    from edurag.datasets import group_splits, item_groups
    from eval.items import load_items, read_item_rows
    from finetune.data import file_sha256, folders_sha256
    from finetune.manifest import library_versions, write_manifest

    catalog = load_catalog(settings.standards_dir)
    embedder = load_embedder(settings)
    passage_encoder = embedder
    if query_encoder is not None:
        built = query_encoder_folder(query_encoder, settings.resolved_onnx_dir, settings.allow_downloads)
        passage_encoder = load_embedder(settings.model_copy(update={"embedding_model": str(built)}))
    rows = read_item_rows(items_file)
    groups, splits = item_groups(rows), group_splits(rows)
    items = load_items(items_file, "all", catalog)
    dev = [i for i in items if splits[i.id] == "dev"][:args.limit]
    heldout = [i for i in items if splits[i.id] == "heldout"][:args.limit]
    if not dev:
        raise ValueError(f"{items_file} has no dev items")
    normalizer = CodeNormalizer(catalog)
    with tempfile.TemporaryDirectory(prefix="edurag-aligner-") as scratch:
        frameworks = framework_folders(settings.frameworks_dir)
        index = standards_index(catalog, embedder, Path(scratch) / "lexical", frameworks)
        encoded_dev, encoded_heldout = (encode_items(part, groups, index, passage_encoder, normalizer, settings.passage_tokens,
                                                     settings.passage_overlap, args.candidates, progress)
                                        for part in (dev, heldout))
    model, run = train_aligner(with_grade_hints(encoded_dev, index, catalog, args.seed), index, args, normalizer)
    model.save(out)
    copied = out / QUERY_ENCODER_DIR
    if query_encoder is not None and query_encoder.resolve() != copied.resolve():
        shutil.rmtree(copied, ignore_errors=True)
        shutil.copytree(query_encoder, copied)
    metrics = {split: {"before": score_items(part, index, None, args.candidates, normalizer),
                       "after": score_items(part, index, model, args.candidates, normalizer)}
               for split, part in (("dev", encoded_dev), ("heldout", encoded_heldout)) if part}
    metrics["dev_cv"] = run["dev_cv"]
    parameters = int(model.weights.size + 1 + (model.adapter.size if model.adapter is not None else 0))
    manifest = {
        "base": {"id": embedder.name, "backend": embedder.backend, "dim": embedder.dim},
        "query_encoder": (read_model_manifest(query_encoder) | {"folder": QUERY_ENCODER_DIR}) if query_encoder else None,
        "method": METHOD, "features": list(FEATURES),
        "hyperparameters": run["hyperparameters"],
        "data": {"items_file": items_file.name, "sha256": file_sha256(items_file), "dev_items": len(dev),
                 "heldout_items": len(heldout), "split_rule": "edurag.datasets.group_splits (dev only is trained on)",
                 "standards": len(index.codes),
                 "word_prior_statements": {"frameworks": [p.name for p in frameworks], "sha256": folders_sha256(frameworks),
                                           "statements": len(index.statements)}},
        "steps": run["steps"], "final_loss": run["final_loss"], "adapter_losses": run["adapter_losses"],
        "trainable_parameters": parameters, "total_parameters": parameters, "trainable_share": 1.0,
        "wall_time_seconds": run["wall_time_seconds"], "versions": library_versions(),
        "metrics": metrics,
        "reliability_heldout": reliability(encoded_heldout, index, model, args.candidates) if encoded_heldout else [],
        "rebuild": (f"EDURAG_EMBEDDING_BACKEND={embedder.backend} edurag finetune aligner --items {items_file} --out {out}"
                    + (f" --query-encoder {query_encoder}" if query_encoder else "")),
    }
    write_manifest(out, manifest)
    return manifest
