"""Where each standard's matched passage sits in the lesson text, as segments the template marks up (and escapes)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Segment:
    """A run of the lesson text, the ranks (1-based) of the standards whose passage covers it, and those whose
    passage starts here (the anchor a result links to)."""

    text: str
    ranks: list[int] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)


def _span(text: str, passage: str) -> tuple[int, int] | None:
    """The passage's position in the text: verbatim, else with any run of whitespace matching any other."""
    passage = passage.strip()
    if not passage:
        return None
    start = text.find(passage)
    if start >= 0:
        return start, start + len(passage)
    pattern = r"\s+".join(re.escape(word) for word in passage.split())
    found = re.search(pattern, text)
    return (found.start(), found.end()) if found else None


def segments(text: str, passages: list[str]) -> list[Segment]:
    """Cut the text at every passage boundary; each piece lists which ranked standards matched it.

    `passages[i]` belongs to the standard ranked i + 1; passages not found in the text are skipped.
    """
    spans = [(rank, span) for rank, p in enumerate(passages, 1) if (span := _span(text, p))]
    cuts = sorted({0, len(text), *(i for _, span in spans for i in span)})
    out = []
    for start, end in zip(cuts, cuts[1:]):
        ranks = [rank for rank, (s, e) in spans if s <= start and end <= e]
        starts = [rank for rank, (s, _) in spans if s == start]
        if out and out[-1].ranks == ranks and not starts:
            out[-1].text += text[start:end]
        else:
            out.append(Segment(text[start:end], ranks, starts))
    return out
