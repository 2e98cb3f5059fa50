"""Common Standards Project set JSON (one file per grade or course) read as standards, streaming.

A set holds `title`, `educationLevels`, `license` and `standards{id: {statementNotation, description, depth,
parentId, ancestorIds, exactMatch?}}`. Items are streamed with ijson in three passes over the file (set header, a
light map of every item's notation and heading, then the standards), so a 100k-item set never sits in memory as a
JSON tree. Items without a notation are headings: their text becomes the domain/cluster of the coded items below.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import ijson

from edurag.standards import Standard, clean, grade_name

HEADING_CHARS = 300


@dataclass
class _Node:
    notation: str
    text: str
    ancestors: list[str]


HEADER_FIELDS = ("id", "title", "subject", "normalizedSubject", "educationLevels", "license", "document", "jurisdiction")


def set_header(path: Path) -> dict:
    """The set's top-level fields other than `standards` (title, educationLevels, license, document, jurisdiction).

    One ijson.items scan per field, all in ijson's C backend: each stops at its field (CSP writes them before
    `standards`); a Python loop over every parse event would cost a minute on a 100k-item set."""
    header: dict = {}
    for name in HEADER_FIELDS:
        with path.open("rb") as handle:
            value = next(ijson.items(handle, name, use_float=True), None)
        if value is not None:
            header[name] = value
    return header


def licence_of(header: dict) -> dict[str, str] | None:
    """The set's licence as {title, url, rights_holder}."""
    raw = header.get("license") or {}
    if not raw.get("title"):
        return None
    return {"title": raw["title"], "url": raw.get("URL", ""), "rights_holder": raw.get("rightsHolder", "")}


def _items(path: Path) -> Iterator[tuple[str, dict]]:
    with path.open("rb") as handle:
        yield from ijson.kvitems(handle, "standards", use_float=True)


def read_set(path: Path, framework: str, subject: str | None = None) -> Iterator[Standard]:
    """The coded standards of one set, in document order within each depth as the file gives them."""
    header = set_header(path)
    licence = licence_of(header)
    grades = [grade_name(g) for g in header.get("educationLevels") or []]
    subject = subject or str(header.get("normalizedSubject") or header.get("subject") or "").lower()
    nodes = {key: _Node(notation=(item.get("statementNotation") or "").strip(),
                        text=clean(item.get("description"))[:HEADING_CHARS], ancestors=list(item.get("ancestorIds") or []))
             for key, item in _items(path)}
    for key, item in _items(path):
        node = nodes[key]
        if not node.notation:
            continue
        coded = [nodes[a].notation for a in node.ancestors if a in nodes and nodes[a].notation]
        headings = [nodes[a].text for a in reversed(node.ancestors) if a in nodes and nodes[a].text]
        yield Standard(
            code=node.notation, official_code=node.notation, framework=framework, subject=subject,
            level="Sub-standard" if coded else "Standard", grades=grades, text=clean(item.get("description")),
            parent=coded[0] if coded else None, domain=headings[0] if headings else "",
            cluster=headings[-1] if len(headings) > 1 else "", exact_match=list(item.get("exactMatch") or []),
            licence=licence, node_id=str(item.get("id") or key),
        )
