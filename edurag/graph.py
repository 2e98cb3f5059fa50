"""Facts about standards read from the catalog's graph: progressions, parts, connections, paths and differences.

Sources: the Achieve the Core coherence map (math `progress_from` / `progress_to` / `related`), the hierarchy
(domain > cluster > standard > sub-standard), NGSS "Connections to CCSS", and for ELA the grade ladder of the CCR
anchors (RL.4.1 -> RL.5.1: the same anchor standard one grade later, as the CCSS ELA document is organized).
"""

from __future__ import annotations

import difflib
import re
from collections import deque
from dataclasses import dataclass, field

from edurag.standards import Catalog, Standard

ELA_LADDER = ["K", "1", "2", "3", "4", "5", "6", "7", "8", "9-10", "11-12"]
LITERACY_LADDER = ["6-8", "9-10", "11-12"]  # RH, RST, WHST
_WORD = re.compile(r"[\w'’-]+|[^\w\s]")


def standards_under(catalog: Catalog, node: Standard) -> list[Standard]:
    """The standards of a domain or cluster (the node itself for a standard or sub-standard)."""
    if node.level not in ("Domain", "Cluster"):
        return [node]
    out: list[Standard] = []
    for code in node.children:
        child = catalog.get(code)
        if child:
            out += standards_under(catalog, child)
    return out


def graph_node(catalog: Catalog, s: Standard) -> Standard:
    """The node that carries progressions: a sub-standard's parent standard, otherwise the node itself."""
    if s.level == "Sub-standard" and s.parent and catalog.get(s.parent):
        return catalog.get(s.parent)
    return s


def ela_step(catalog: Catalog, s: Standard, step: int) -> list[str]:
    """The same ELA anchor standard `step` grades away (RL.5.1, -1 -> RL.4.1); [] at the ends or outside ELA."""
    key = catalog.key(s.code)
    if key is None or key.family != "ela":
        return []
    ladder = LITERACY_LADDER if key.grade in LITERACY_LADDER and key.domain in ("RH", "RST", "WHST") else ELA_LADDER
    if key.grade not in ladder:
        return []
    i = ladder.index(key.grade) + step
    if not 0 <= i < len(ladder):
        return []
    code = f"{key.domain}.{ladder[i]}.{key.number}{(key.letter or '').lower()}"
    return [code] if catalog.get(code) else []


def before(catalog: Catalog, s: Standard) -> list[str]:
    """What a standard builds on: coherence-map progress-from, or the ELA standard one grade earlier.

    For a cluster or domain: what its standards build on from outside it."""
    members = standards_under(catalog, s)
    inside = {m.code for m in members}
    out: list[str] = []
    for m in members:
        node = graph_node(catalog, m)
        out += node.progress_from or ela_step(catalog, node, -1)
    return [c for c in dict.fromkeys(out) if c not in inside and catalog.get(c)]


def after(catalog: Catalog, s: Standard) -> list[str]:
    """What builds on a standard: coherence-map progress-to, or the ELA standard one grade later."""
    members = standards_under(catalog, s)
    inside = {m.code for m in members}
    out: list[str] = []
    for m in members:
        node = graph_node(catalog, m)
        out += node.progress_to or ela_step(catalog, node, +1)
    return [c for c in dict.fromkeys(out) if c not in inside and catalog.get(c)]


def chain(catalog: Catalog, s: Standard, steps: int, forward: bool = False) -> list[list[str]]:
    """Levels of the progression `steps` deep (level 1: direct prerequisites, level 2: theirs, ...), each code once."""
    step = after if forward else before
    seen = {s.code}
    levels: list[list[str]] = []
    frontier = [s]
    for _ in range(steps):
        level: list[str] = []
        for node in frontier:
            level += [c for c in step(catalog, node) if c not in seen and c not in level]
        if not level:
            break
        seen.update(level)
        levels.append(level)
        frontier = [catalog.get(c) for c in level]
    return levels


def connections(catalog: Catalog, s: Standard, subject: str | None = None) -> list[str]:
    """NGSS <-> CCSS connections of a standard (a sub-standard's come from its standard), optionally of one subject."""
    node = s if s.connections else graph_node(catalog, s)
    found = [c for c in node.connections if catalog.get(c)]
    if subject:
        found = [c for c in found if catalog.get(c).subject == subject]
    return found


def direct_relation(catalog: Catalog, a: Standard, b: Standard) -> str:
    """How the coherence map, the hierarchy, NGSS connections or the ELA ladder link a to b, in words; '' if not."""
    na, nb = graph_node(catalog, a), graph_node(catalog, b)
    if b.code in na.progress_to or a.code in nb.progress_from:
        return f"{a.code} progresses to {b.code} in the coherence map."
    if b.code in na.progress_from or a.code in nb.progress_to:
        return f"{a.code} builds on {b.code} in the coherence map."
    if b.code in na.related or a.code in nb.related:
        return f"The coherence map lists {a.code} and {b.code} as related."
    if b.code in a.connections or a.code in b.connections:
        return f"{a.code} and {b.code} are connected in the NGSS connections to Common Core."
    if a.parent == b.code:
        return f"{a.code} is part of {b.code}."
    if b.parent == a.code:
        return f"{b.code} is part of {a.code}."
    if b.code in ela_step(catalog, a, +1):
        return f"{b.code} is the next grade's version of {a.code} (the same anchor standard)."
    if b.code in ela_step(catalog, a, -1):
        return f"{a.code} is the next grade's version of {b.code} (the same anchor standard)."
    return ""


@dataclass
class Shared:
    """What two standards have in common besides a directed link: the nearest heading both sit under (level
    "cluster" or "domain", its name and, when the catalog holds it as a node, its code), the standards both build on,
    the standards both progress to, and the standards both connect to (NGSS <-> CCSS)."""

    level: str = ""
    heading: str = ""
    heading_code: str | None = None
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    connections: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.level or self.before or self.after or self.connections)


def _ancestor(catalog: Catalog, s: Standard, level: str) -> str | None:
    node = s
    while node is not None and node.level != level:
        node = catalog.get(node.parent) if node.parent else None
    return node.code if node is not None else None


def shared(catalog: Catalog, a: Standard, b: Standard) -> Shared:
    """What a and b share (see Shared); empty when they are the same node or one is a sub-standard of the other.

    Siblings and common neighbours are what a teacher plans with (A-REI.B.3 and A-REI.B.4: one cluster, both build on
    A-REI.A.1 and lead to A-CED.A.1) even when no chain of progressions runs from one to the other."""
    na, nb = graph_node(catalog, a), graph_node(catalog, b)
    if na.code == nb.code:
        return Shared()
    out = Shared()
    for level, name_a, name_b in (("cluster", na.cluster, nb.cluster), ("domain", na.domain, nb.domain)):
        if name_a and name_a == name_b and na.domain == nb.domain and na.framework == nb.framework:
            code_a, code_b = _ancestor(catalog, na, level.title()), _ancestor(catalog, nb, level.title())
            out.level, out.heading, out.heading_code = level, name_a, code_a if code_a == code_b else None
            break
    own = {a.code, b.code, na.code, nb.code}
    out.before = _in_both(before(catalog, na), before(catalog, nb), own)
    out.after = _in_both(after(catalog, na), after(catalog, nb), own)
    out.connections = _in_both(connections(catalog, a), connections(catalog, b), own)
    return out


def _in_both(first: list[str], second: list[str], own: set[str]) -> list[str]:
    """The codes of `first` (in its order) that `second` also holds, other than `own`."""
    other = set(second) - own
    return [code for code in first if code in other]


def progression_path(catalog: Catalog, a: Standard, b: Standard, max_steps: int = 4) -> list[str]:
    """The shortest chain of progress-to links from a to b (or from b to a), as codes; [] if none within max_steps."""
    for start, goal in ((a, b), (b, a)):
        parents: dict[str, str | None] = {start.code: None}
        queue = deque([(start.code, 0)])
        while queue:
            code, depth = queue.popleft()
            if code == goal.code:
                path = [code]
                while parents[path[-1]]:
                    path.append(parents[path[-1]])
                return path[::-1]
            if depth == max_steps:
                continue
            for nxt in after(catalog, catalog.get(code)):
                if nxt not in parents:
                    parents[nxt] = code
                    queue.append((nxt, depth + 1))
    return []


def changed_wording(earlier: str, later: str, limit: int = 3) -> list[str]:
    """How the later statement's wording differs from the earlier one (difflib over words), largest changes first:
    “new words” instead of “old words”, or added “new words”."""
    a, b = _WORD.findall(earlier), _WORD.findall(later)
    matcher = difflib.SequenceMatcher(a=[w.lower() for w in a], b=[w.lower() for w in b], autojunk=False)
    changes: list[tuple[int, str]] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        new, old = " ".join(b[j1:j2]).strip(" ,.;:"), " ".join(a[i1:i2]).strip(" ,.;:")
        if op == "insert" and any(ch.isalpha() for ch in new):
            changes.append((j2 - j1, f"adds “{new}”"))
        elif op == "replace" and any(ch.isalpha() for ch in new):
            changes.append((j2 - j1, f"“{new}” instead of “{old}”" if old else f"adds “{new}”"))
    return [text for _, text in sorted(changes, key=lambda c: -c[0])[:limit]]
