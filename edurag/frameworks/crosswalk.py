"""Crosswalks between frameworks: for a standard (or any text) of framework A, the closest standards of framework B,
with a score, a label (exact / close / partial / none), the key terms both share, and the exact-match links of the
source data (CSP `exactMatch`, CASE `exactMatchOf`) taken as exact when present.

Score = cosine of the two statements (all-MiniLM-L6-v2, no codes; the best pair of views: the statement alone, and
with its heading and sub-standards) + `lexical_weight` x max-normalized BM25 of the source statement against B +
`grade_weight` x grade-span overlap (Jaccard). The candidates are B's standards, not its headings (an imported item
with items below it ranks only through an exact link, or when B has nothing else). Labels come from the cosine:
>= EXACT_COSINE exact, >= CLOSE_COSINE close, >= PARTIAL_COSINE partial (on the dev pairs, 90% of correct top-1
matches have cosine >= 0.81), and a match is never labelled better than one ranked above it, so labels fall with the
ranking. The weights were chosen on the dev split of eval/crosswalk.py, never on its heldout split (lexical 0 / 0.15
/ 0.3 / 0.5 / 0.7 / 1.0 x grade 0 / 0.1 / 0.2 / 0.3 / 0.5; 0.5 / 0.3 tied best with 0.5 / 0.5). With the views above,
0.5 / 0.3, 0.5 / 0.5 and 0.5 / 0.7 tie best on dev (CA 1.000, NY 0.997); 0.5 / 0.5 is kept: in the TEKS grade 6 ->
CCSS report 0.5 / 0.3 shows 9 grade shifts, most of them topics CCSS also teaches in grade 6 (percents 6.4.E-G ->
7.RP.A.3 where 6.RP.A.3c has them), 0.5 / 0.5 one, and 0.7 would hide real shifts. Statement vectors are cached per framework and model under $EDURAG_DATA_DIR/crosswalk.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
import weakref
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import bm25s
from defusedcsv import csv
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from edurag.codes import corestandards_uri_code
from edurag.components import Components
from edurag.embedder import Embedder
from edurag.standards import BUILTIN_FRAMEWORKS, Catalog, Standard
from vectorstore.lexical import tokenize

LABELS = ("exact", "close", "partial", "none")  # best first
EXACT_COSINE = 0.95
CLOSE_COSINE = 0.80
PARTIAL_COSINE = 0.60
LEXICAL_WEIGHT = 0.5
GRADE_WEIGHT = 0.5
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_STEMMER = Stemmer.Stemmer("english")  # the lexical index's stemmer and stop words, so evidence reads like its matches


@dataclass
class CrosswalkMatch:
    """One standard of the target framework matched to the source."""

    code: str
    framework: str
    text: str
    grades: list[str]
    score: float
    cosine: float
    label: str
    evidence: list[str] = field(default_factory=list)
    exact_link: bool = False
    licence: dict[str, str] | None = None

    def as_dict(self) -> dict:
        """Plain dict (JSON)."""
        return asdict(self)


def statement(s: Standard, catalog: Catalog, children: bool = True) -> str:
    """What a crosswalk compares: the cluster heading and the statement, with the sub-standards' text when `children`
    (a built-in standard's sub-standards are folded into it); never the code, so codes cannot decide a match."""
    parts = [s.cluster, s.text]
    if children:
        parts += [catalog.get(c, s.framework).text for c in s.children if catalog.get(c, s.framework)]
    return " ".join(p for p in parts if p)


def views(s: Standard, catalog: Catalog) -> list[str]:
    """The statement alone, and with its heading and sub-standards; each pair is compared on its best view.

    Frameworks split a standard differently (NY states 6.NS.7 and its parts as separate items, CCSS folds 6.NS.C.7a-d
    into 6.NS.C.7), hence the view with the sub-standards. The first view leaves the heading out: a TEKS student
    expectation's heading is its knowledge-and-skills statement ("Proportionality. The student applies mathematical
    process standards to develop an understanding of proportional relationships..."), shared by all of 6.4.A-H, and
    with it in every view each of them matched CCSS 7.RP.A.2 ("Analyze proportional relationships") instead of the
    grade 6 ratio standard its own words name."""
    return [s.text, statement(s, catalog, children=True)]


def grade_overlap(a: list[str], b: list[str]) -> float:
    """Jaccard overlap of two grade spans (0 when either is unknown)."""
    left, right = set(a), set(b)
    return len(left & right) / len(left | right) if left and right else 0.0


def label_for(cosine: float, exact_link: bool = False) -> str:
    """exact (a source link, or a near-identical statement), close, partial or none."""
    if exact_link or cosine >= EXACT_COSINE:
        return "exact"
    if cosine >= CLOSE_COSINE:
        return "close"
    return "partial" if cosine >= PARTIAL_COSINE else "none"


def monotone(matches: list[CrosswalkMatch]) -> list[CrosswalkMatch]:
    """Labels that never rise down a ranked list: a match is labelled no better than the one ranked above it (the
    cosine labels it, the score with BM25 and grade overlap ranks it, so a "close" by cosine can rank below a
    "partial"; it then reads "partial", and its own cosine stays in `cosine`)."""
    cap = 0
    for m in matches:
        cap = max(cap, LABELS.index(m.label))
        m.label = LABELS[cap]
    return matches


def _stemmed_words(text: str) -> list[tuple[str, str]]:
    """(stem, word) of each non-stop word, with the stemmer and stop words of the lexical index."""
    words = [w.lower() for w in _WORD.findall(text) if w.lower() not in STOPWORDS_EN]
    return list(zip(_STEMMER.stemWords(words), words))


def shared_terms(source: str, target: str, limit: int = 8) -> list[str]:
    """Key terms of the source that the target also uses (stemmed, stop words dropped), as the source spells them."""
    target_stems = {stem for stem, _ in _stemmed_words(target)}
    seen: dict[str, str] = {}
    for stem, word in _stemmed_words(source):
        if stem in target_stems:
            seen.setdefault(stem, word)
    return list(seen.values())[:limit]


def is_heading(s: Standard) -> bool:
    """An imported item with items of its own below it (a TEKS knowledge-and-skills statement "(4) Proportionality.
    The student applies ...", a CSP cluster): crosswalks land on the items below it. Built-in standards list their
    sub-standards as children but are the standards crosswalks land on (their sub-standards are folded in)."""
    return bool(s.children) and s.framework not in BUILTIN_FRAMEWORKS


@dataclass
class _Target:
    standards: list[Standard]
    texts: list[str]
    vectors: np.ndarray  # (views, standards, dim): statement alone, with heading and sub-standards
    bm25: bm25s.BM25
    links: dict[str, list[int]]
    headings: np.ndarray  # True for the heading items ranked only by an exact link, or when nothing else exists
    overlaps: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict)

    def grade_overlap(self, span: list[str]) -> np.ndarray:
        """grade_overlap of a span with every target standard (memoized per span: spans repeat)."""
        key = tuple(span)
        if key not in self.overlaps:
            self.overlaps[key] = np.array([grade_overlap(span, s.grades) for s in self.standards], dtype=np.float32)
        return self.overlaps[key]


class Crosswalker:
    """Crosswalks over one catalog; target frameworks' vectors and BM25 indexes are built once and cached."""

    def __init__(self, catalog: Catalog, embedder: Embedder, cache_dir: Path | None = None,
                 lexical_weight: float = LEXICAL_WEIGHT, grade_weight: float = GRADE_WEIGHT) -> None:
        self.catalog = catalog
        self.embedder = embedder
        self.cache_dir = cache_dir
        self.lexical_weight = lexical_weight
        self.grade_weight = grade_weight
        self._targets: dict[tuple[str, str], _Target] = {}
        self._catalog_version = catalog.version
        self._vectors: dict[str, np.ndarray] | None = None
        self._building = threading.Lock()  # one target built at a time: requests share the walker (crosswalker_for)

    def candidates(self, framework: str, subject: str | None = None) -> list[Standard]:
        """The standards a crosswalk can land on: the framework's indexable standards, of one subject if it has it."""
        pool = self.catalog.indexable(framework)
        if subject and any(s.subject == subject for s in pool):
            pool = [s for s in pool if s.subject == subject]
        return pool

    def prepare(self, framework: str) -> int:
        """Build (and cache on disk) the crosswalk targets of `framework`, one per subject it has, so that the first
        crosswalk to it does not encode its statements (~10 s for Common Core here). Returns the standards prepared."""
        subjects = sorted({s.subject for s in self.candidates(framework) if s.subject}) or [None]
        return sum(len(self._target(framework, subject).standards) for subject in subjects)

    def _target(self, framework: str, subject: str | None) -> _Target:
        with self._building:
            return self._built_target(framework, subject)

    def _built_target(self, framework: str, subject: str | None) -> _Target:
        self.catalog.frameworks()  # reads the store's version: an import by another process refreshes the catalog
        if self.catalog.version != self._catalog_version:  # a framework was imported or removed: rebuild targets
            self._targets.clear()
            self._catalog_version = self.catalog.version
        key = (framework, subject or "")
        if key not in self._targets:
            pool = self.candidates(framework, subject)
            texts = [statement(s, self.catalog) for s in pool]
            bm25 = bm25s.BM25()
            bm25.index(tokenize(texts), show_progress=False)
            both = [views(s, self.catalog) for s in pool]
            vectors = np.stack([self.encode([v[0] for v in both]), self.encode([v[1] for v in both])])
            links: dict[str, list[int]] = {}
            for i, s in enumerate(pool):
                for link in _link_keys(s):
                    links.setdefault(link, []).append(i)
            headings = np.array([is_heading(s) for s in pool], dtype=bool)
            if headings.all():
                headings[:] = False
            self._targets[key] = _Target(pool, texts, vectors, bm25, links, headings)
        return self._targets[key]

    def encode(self, texts: list[str], cache: bool = True) -> np.ndarray:
        """Unit vectors of texts; standards' statements go through the in-memory and on-disk cache, free text not."""
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        if not cache:
            return self.embedder.encode(texts)
        memory = self._cache()
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest()[:16] for t in texts]
        missing = sorted({k: i for i, k in enumerate(keys) if k not in memory}.values())
        if missing:
            fresh = self.embedder.encode([texts[i] for i in missing])
            memory.update({keys[i]: v.astype(np.float32) for i, v in zip(missing, fresh)})
            self._save()
        return np.stack([memory[k] for k in keys])

    def _cache_path(self) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"vectors-{hashlib.sha1(self.embedder.name.encode()).hexdigest()[:8]}.npz"

    def _cache(self) -> dict[str, np.ndarray]:
        if self._vectors is None:
            self._vectors = {}
            path = self._cache_path()
            if path is not None and path.exists():
                with np.load(path) as data:
                    self._vectors = dict(zip(data["keys"].tolist(), data["vectors"]))
        return self._vectors

    def _save(self) -> None:
        path = self._cache_path()
        if path is None or not self._vectors:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.stem + ".tmp.npz")
        np.savez(tmp, keys=np.array(list(self._vectors)), vectors=np.stack(list(self._vectors.values())))
        tmp.replace(path)

    def crosswalk(self, to: str, source: Standard | None = None, text: str | None = None, k: int = 5,
                  use_links: bool = True, grades: list[str] | None = None) -> list[CrosswalkMatch]:
        """The k best standards of framework `to` for a source standard (its links, statement and grades) or a free
        text (optionally with the grades it is taught in), best first."""
        if source is None and not text:
            raise ValueError("give a source standard or a text")
        query = statement(source, self.catalog) if source else str(text)
        target = self._target(to, source.subject if source else None)
        if not target.standards:
            return []
        queries = self.encode(views(source, self.catalog)) if source else self.encode([query], cache=False)
        cosine = np.einsum("vnd,qd->vqn", target.vectors, queries).reshape(-1, len(target.standards)).max(axis=0)
        tokens = tokenize([query])[0]
        lexical = target.bm25.get_scores(tokens) if tokens else np.zeros(len(cosine), dtype=np.float32)
        lexical = lexical / max(float(lexical.max()), 1e-9)
        span = grades if grades is not None else source.grades if source else []
        overlap = target.grade_overlap(span)
        score = cosine + self.lexical_weight * lexical + self.grade_weight * overlap
        linked = {i for key in (_source_keys(source) if source and use_links else []) for i in target.links.get(key, [])}
        linked |= {i for key in (_outgoing(source, to) if source and use_links else []) for i in target.links.get(key, [])}
        order = sorted(linked, key=lambda i: -score[i]) + [int(i) for i in np.argsort(-score, kind="stable")
                                                            if int(i) not in linked and not target.headings[i]]
        own = statement(source, self.catalog, children=True).removeprefix(source.cluster).strip() if source else query
        return monotone([self._match(target, i, float(score[i]), float(cosine[i]), i in linked, own) for i in order[:k]])

    def _match(self, target: _Target, i: int, score: float, cosine: float, linked: bool, own: str) -> CrosswalkMatch:
        """One match; its evidence compares the two statements themselves (headings left out)."""
        s = target.standards[i]
        theirs = target.texts[i].removeprefix(s.cluster).strip()
        return CrosswalkMatch(code=s.code, framework=s.framework, text=s.text, grades=s.grades, score=round(score, 4),
                              cosine=round(cosine, 4), label=label_for(cosine, linked), exact_link=linked,
                              evidence=shared_terms(own, theirs), licence=s.licence)


_WALKERS: dict[int, tuple[weakref.ref, Crosswalker]] = {}
_WALKERS_LOCK = threading.Lock()


def crosswalker_for(c: Components) -> Crosswalker:
    """The crosswalker over a Components' catalog and embedder, built on first use and kept while the Components
    live, so POST /crosswalk, /ask, the Standards page and `edurag ask` share its per-framework vectors and indexes
    (statement vectors cached under $EDURAG_DATA_DIR/crosswalk)."""
    with _WALKERS_LOCK:
        held = _WALKERS.get(id(c))
        if held is None or held[0]() is not c:
            walker = Crosswalker(c.catalog, c.embedder, c.settings.data_dir / "crosswalk")
            held = _WALKERS[id(c)] = (weakref.ref(c), walker)
            weakref.finalize(c, _forget, id(c), walker)
        return held[1]


def _forget(key: int, walker: Crosswalker) -> None:
    """Drop a dead Components' crosswalker (its id may already hold a newer Components' one: keep that)."""
    with _WALKERS_LOCK:
        if key in _WALKERS and _WALKERS[key][1] is walker:
            del _WALKERS[key]


def _link_keys(s: Standard) -> list[str]:
    """Keys under which other frameworks' links can name this standard: its own code (ccss:6.RP.A.3 for built-ins),
    its node id, and every exact-match target it declares (for links in the reverse direction)."""
    keys = [f"{s.framework}:{s.code}"]
    if s.node_id:
        keys.append(f"node:{s.node_id}")
    keys += [f"from:{_normalize_link(link)}" for link in s.exact_match]
    return keys


def _normalize_link(link: str) -> str:
    code = corestandards_uri_code(link)
    return f"ccss:{code}" if code else link.rstrip("/").rsplit("/", 1)[-1]


def _outgoing(source: Standard, to: str) -> list[str]:
    """The source's own exact-match links as target keys (CA 6.RP.3 exactMatch corestandards.org/…/6/RP/A/3)."""
    keys = []
    for link in source.exact_match:
        normalized = _normalize_link(link)
        if to == "ccss" and normalized.startswith("ccss:"):
            keys.append(normalized)
            keys.append(f"ccss:{_roll_up(normalized[5:])}")
        else:
            keys.append(f"node:{normalized}")
    return keys


def _roll_up(code: str) -> str:
    """A CCSS sub-standard's standard (6.RP.A.3a -> 6.RP.A.3): crosswalks land on standards."""
    return re.sub(r"(\d)[a-z]$", r"\1", code)


def _source_keys(source: Standard) -> list[str]:
    """Keys that target standards' own links use to name the source (reverse direction)."""
    keys = [f"from:ccss:{source.code}"] if source.framework == "ccss" else []
    if source.node_id:
        keys.append(f"from:{source.node_id}")
    return keys


@dataclass
class CoverageRow:
    """One standard of framework A with its best match in B."""

    code: str
    grades: list[str]
    text: str
    match_code: str
    match_grades: list[str]
    match_text: str
    score: float
    cosine: float
    label: str
    grade_shift: int | None
    evidence: list[str]


@dataclass
class CoverageReport:
    """Framework A against B: best match per standard, the ones without a good match, the grade shifts."""

    source: str
    target: str
    grade: str | None
    rows: list[CoverageRow]

    @property
    def no_good_match(self) -> list[CoverageRow]:
        """Standards of A whose best match in B is below the partial threshold."""
        return [r for r in self.rows if r.label == "none"]

    @property
    def grade_shifts(self) -> list[CoverageRow]:
        """Good matches taught in another grade in B (shift = B's grade - A's grade)."""
        return [r for r in self.rows if r.label != "none" and r.grade_shift]

    def summary(self) -> dict[str, int]:
        """Counts per label, plus grade shifts."""
        counts = {label: sum(r.label == label for r in self.rows) for label in ("exact", "close", "partial", "none")}
        return {"standards": len(self.rows), **counts, "grade_shifts": len(self.grade_shifts)}

    def to_csv(self) -> str:
        """One row per standard of A (the CSV `edurag compare` writes)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([f"{self.source}_code", f"{self.source}_grades", f"{self.source}_text", f"{self.target}_code",
                         f"{self.target}_grades", f"{self.target}_text", "score", "cosine", "label", "grade_shift", "shared_terms"])
        for r in self.rows:
            writer.writerow([r.code, " ".join(r.grades), r.text, r.match_code, " ".join(r.match_grades), r.match_text,
                             r.score, r.cosine, r.label, "" if r.grade_shift is None else r.grade_shift, "; ".join(r.evidence)])
        return out.getvalue()


def _grade_number(grade: str) -> int | None:
    return {"PK": -1, "K": 0}.get(grade, int(grade) if grade.isdigit() else None)


def grade_shift(source: list[str], target: list[str]) -> int | None:
    """Grades between where A and B teach it (0 when the spans overlap; None when either is unknown)."""
    a = [n for n in map(_grade_number, source) if n is not None]
    b = [n for n in map(_grade_number, target) if n is not None]
    if not a or not b:
        return None
    if set(a) & set(b):
        return 0
    return min(b) - max(a) if min(b) > max(a) else max(b) - min(a)


def compare(walker: Crosswalker, source: str, target: str, grade: str | None = None,
            progress: Callable[[list[Standard]], Iterable[Standard]] = lambda items: items) -> CoverageReport:
    """Coverage of framework `source` by `target`: each standard of `source` (of one grade if given, of the subjects
    `target` has) with its best match in `target` over all grades (so a topic taught a grade earlier in B shows as a
    grade shift)."""
    subjects = {s.subject for s in walker.candidates(target)}
    pool = [s for s in walker.candidates(source) if (not grade or grade in s.grades) and s.subject in subjects]
    walker.encode([text for s in pool for text in views(s, walker.catalog)])  # one batch, cached
    rows = []
    for s in progress(pool):
        best = walker.crosswalk(target, source=s, k=1)
        if not best:
            continue
        m = best[0]
        rows.append(CoverageRow(code=s.code, grades=s.grades, text=s.text, match_code=m.code, match_grades=m.grades,
                                match_text=m.text, score=m.score, cosine=m.cosine, label=m.label,
                                grade_shift=grade_shift(s.grades, m.grades), evidence=m.evidence))
    rows.sort(key=lambda r: natural_key(r.code))
    return CoverageReport(source=source, target=target, grade=grade, rows=rows)


def natural_key(code: str) -> list[tuple[int, int | str]]:
    """Sort key reading numbers as numbers (6.2.A < 6.10.A)."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", code) if part]
