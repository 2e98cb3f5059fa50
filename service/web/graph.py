"""Layout of the small progression graph drawn on a standard's page (inline SVG rendered by the template).

The standard sits in the middle, what it builds on (progress from) to its left, what it leads to (progress to) to its
right, related standards and NGSS<->CCSS connections in rows below. Hand-written because it is a fixed three-column
layout of at most a few dozen boxes; a graph-layout library would add a dependency and a client-side renderer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from service.schemas import RelatedOut, StandardDetail

WIDTH = 760
BOX_W, BOX_H = 150, 34
GAP = 12
COLUMNS = {"from": 20, "self": (WIDTH - BOX_W) // 2, "to": WIDTH - BOX_W - 20}
PER_GROUP = 8
PER_ROW = 4


@dataclass
class Node:
    """A box: its code, the statement shown as a tooltip, the relation to the page's standard, and whether the
    catalog knows the code (only then is it a link)."""

    code: str
    title: str
    kind: str
    x: int
    y: int
    known: bool = True
    w: int = BOX_W
    h: int = BOX_H

    @property
    def cx(self) -> int:
        """Horizontal centre."""
        return self.x + self.w // 2

    @property
    def cy(self) -> int:
        """Vertical centre."""
        return self.y + self.h // 2


@dataclass
class Edge:
    """A line between two nodes; `kind` styles it (progression, related, connection)."""

    x1: int
    y1: int
    x2: int
    y2: int
    kind: str


@dataclass
class Graph:
    """Nodes, edges, the SVG height, and how many relations did not fit (listed in full below the drawing)."""

    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    width: int = WIDTH
    height: int = 0
    hidden: int = 0


def _column(refs: list[RelatedOut], x: int, kind: str, middle: int) -> list[Node]:
    top = middle - (len(refs) * (BOX_H + GAP) - GAP) // 2
    return [Node(r.code, r.text or "", kind, x, top + i * (BOX_H + GAP), r.text is not None) for i, r in enumerate(refs)]


def _rows(refs: list[RelatedOut], kind: str, top: int) -> list[Node]:
    step = (WIDTH - 40) // PER_ROW
    return [Node(r.code, r.text or "", kind, 20 + (i % PER_ROW) * step + (step - BOX_W) // 2,
                 top + (i // PER_ROW) * (BOX_H + GAP), r.text is not None) for i, r in enumerate(refs)]


def layout(d: StandardDetail) -> Graph:
    """Place the standard and up to PER_GROUP neighbours of each relation; empty when it has no relations."""
    groups = {"from": d.progress_from, "to": d.progress_to, "related": d.related, "connection": d.connections}
    shown = {k: v[:PER_GROUP] for k, v in groups.items()}
    graph = Graph(hidden=sum(len(v) - len(shown[k]) for k, v in groups.items()))
    if not any(shown.values()):
        return graph
    side = max(len(shown["from"]), len(shown["to"]), 1)
    middle = 20 + (side * (BOX_H + GAP) - GAP) // 2
    me = Node(d.code, d.text, "self", COLUMNS["self"], middle - BOX_H // 2)
    left = _column(shown["from"], COLUMNS["from"], "from", middle)
    right = _column(shown["to"], COLUMNS["to"], "to", middle)
    top = 20 + side * (BOX_H + GAP) + 30
    related = _rows(shown["related"], "related", top)
    if related:
        top = related[-1].y + BOX_H + GAP + 30
    connected = _rows(shown["connection"], "connection", top)
    graph.nodes = [me, *left, *right, *related, *connected]
    graph.edges = ([Edge(n.x + n.w, n.cy, me.x, me.cy, "progression") for n in left]
                   + [Edge(me.x + me.w, me.cy, n.x, n.cy, "progression") for n in right]
                   + [Edge(me.cx, me.y + me.h, n.cx, n.y, kind) for kind, ns in (("related", related), ("connection", connected))
                      for n in ns])
    graph.height = max(n.y + n.h for n in graph.nodes) + 20
    return graph
