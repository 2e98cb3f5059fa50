"""Crosswalk quality: hit@k of framework -> CCSS crosswalks on pairs whose answer the source data gives.

- California 2010 -> CCSS: each CA standard's `exactMatch` link (a corestandards.org URI) names its CCSS standard;
  the crosswalk runs on text only (links hidden, use_links=False).
- New York Next Generation 2017 -> CCSS: NY reworded CCSS and kept its numbering, so NY-6.RP.3 is CCSS 6.RP.A.3
  (NY-6.RP.3.a -> 6.RP.A.3a, AI-A.SSE.1 -> A-SSE.A.1); the pair is built from the codes, the crosswalk never sees them.

Gold sub-standards roll up to their standard (crosswalks land on standards). Each pair's split (dev / heldout) comes
from a hash of its source code (the project's one split rule): weights and thresholds may be tuned on dev only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edurag.codes import corestandards_uri_code
from edurag.frameworks.crosswalk import Crosswalker, views
from edurag.standards import Catalog, Standard
from edurag.datasets import split_of

CA = "ca-ccss-2010"
NY = "ny-nextgen-2017"
_NY_PREFIX = re.compile(r"^(?:NY-|AI-|AII-|GEO-)")


@dataclass
class Pair:
    """A source standard and the CCSS standard it corresponds to."""

    source: Standard
    gold: str
    split: str


def _ccss_standard(catalog: Catalog, code: str | None) -> str | None:
    found = catalog.resolve(code, "ccss") if code else None
    if found is None:
        return None
    rolled = catalog.get(catalog.standard_of(found.code, "ccss"), "ccss")
    return rolled.code if rolled is not None and rolled.level == "Standard" else None


def california_pairs(catalog: Catalog) -> list[Pair]:
    """CA standards with an exactMatch link to a CCSS standard or sub-standard."""
    pairs = []
    for s in catalog.indexable(CA):
        gold = next((g for g in (_ccss_standard(catalog, corestandards_uri_code(u)) for u in s.exact_match) if g), None)
        if gold:
            pairs.append(Pair(s, gold, split_of(f"{CA}/{s.code}")))
    return pairs


def ny_ccss_code(code: str) -> list[str]:
    """CCSS spellings a NY code may correspond to (NY-6.RP.3.a -> 6.RP.3a; AI-N.RN.3 -> N-RN.3)."""
    bare = _NY_PREFIX.sub("", code)
    bare = re.sub(r"\.([a-z])$", r"\1", bare)
    out = [bare]
    if re.match(r"^[NAFGS]\.[A-Z]{2,3}\.", bare):
        out.append(bare.replace(".", "-", 1))
    return out


def new_york_pairs(catalog: Catalog) -> list[Pair]:
    """NY standards whose numbering names a CCSS standard."""
    pairs = []
    for s in catalog.indexable(NY):
        gold = next((g for g in (_ccss_standard(catalog, c) for c in ny_ccss_code(s.code)) if g), None)
        if gold:
            pairs.append(Pair(s, gold, split_of(f"{NY}/{s.code}")))
    return pairs


def hits(walker: Crosswalker, pairs: list[Pair], ks: tuple[int, ...] = (1, 3), use_links: bool = False) -> dict:
    """hit@k per split (dev, heldout), plus how many pairs each split has."""
    out: dict[str, dict[str, float]] = {}
    walker.encode([text for p in pairs for text in views(p.source, walker.catalog)])  # one batch, cached
    ranked = [(p, [m.code for m in walker.crosswalk("ccss", source=p.source, k=max(ks), use_links=use_links)]) for p in pairs]
    for split in ("dev", "heldout"):
        rows = [(p, codes) for p, codes in ranked if p.split == split]
        out[split] = {"pairs": len(rows), **{f"hit@{k}": round(sum(p.gold in codes[:k] for p, codes in rows) / max(len(rows), 1), 4)
                                             for k in ks}}
    return out


def misses(walker: Crosswalker, pairs: list[Pair], split: str = "dev", limit: int = 20) -> list[tuple[str, str, str]]:
    """(source code, gold, top-1) of dev pairs the crosswalk gets wrong, to study on dev only."""
    out = []
    for p in pairs:
        if p.split != split:
            continue
        top = walker.crosswalk("ccss", source=p.source, k=1, use_links=False)
        if top and top[0].code != p.gold:
            out.append((p.source.code, p.gold, top[0].code))
    return out[:limit]
