"""Standards alignment: retrieve standards for a text, ground an answer in them, cite the codes used."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from edurag.codes import codes_in_text
from edurag.graph import direct_relation
from edurag.prompts import NO_MATCH
from edurag.standards import Standard
from edurag.components import Components
from edurag.alignment.ranking import is_practice
from edurag.alignment.search import Candidate, rank_standards

_INITIAL_DOT = re.compile(r"(?<=\b[A-Z])\.(?=\s)")

@dataclass
class AlignedStandard:
    """A retrieved standard with its similarity to the text."""

    code: str
    official_code: str
    framework: str
    subject: str
    grades: list[str]
    text: str
    score: float
    domain: str = ""
    cluster: str = ""
    matched: str = "retrieval"
    passage: str = ""
    confidence: float | None = None
    confidence_label: str | None = None
    explain: dict[str, float] | None = None
    licence: dict[str, str] | None = None
    equivalents: list[dict[str, str]] = field(default_factory=list)  # {framework, code}: the same standard elsewhere


@dataclass
class Alignment:
    """Ranked content standards, the practices the text exercises, the grounded answer and the codes it cites."""

    standards: list[AlignedStandard]
    answer: str
    citations: list[str] = field(default_factory=list)
    practices: list[AlignedStandard] = field(default_factory=list)


def _aligned(s: Standard, score: float, matched: str = "retrieval", passage: str = "",
             explain: dict[str, float] | None = None, hit: Candidate | None = None) -> AlignedStandard:
    confidence = None if hit is None or hit.confidence is None else round(hit.confidence, 3)
    return AlignedStandard(code=s.code, official_code=s.official_code, framework=s.framework, subject=s.subject,
                           grades=s.grades, text=s.text, score=round(score, 4), domain=s.domain, cluster=s.cluster,
                           matched=matched, passage=passage, confidence=confidence,
                           confidence_label=hit.label or None if hit is not None else None, explain=explain,
                           licence=s.licence, equivalents=list(hit.equivalents) if hit is not None else [])


def _from_hits(c: Components, hits: list[Candidate]) -> list[AlignedStandard]:
    out = []
    for hit in hits:
        standard = c.catalog.get(hit.code, hit.metadata.get("framework"))
        if standard:
            explain = {"dense": round(hit.dense, 4), "lexical": round(hit.lexical, 4), "grade_boost": round(hit.boost, 4)}
            explain |= {name: round(value, 4) for name, value in hit.features.items()}
            out.append(_aligned(standard, hit.score, passage=hit.passage, explain=explain, hit=hit))
    return out


def retrieve(c: Components, text: str, k: int, grade: str | None = None, subject: str | None = None,
             framework: str | None = None, grade_hint: str | None = None,
             include_practices: bool = False) -> tuple[list[AlignedStandard], list[AlignedStandard]]:
    """The k best content standards for the text and, apart, the practices it exercises (rank_standards)."""
    ranking = rank_standards(c, text, k, grade, subject, framework, grade_hint, include_practices)
    return _from_hits(c, ranking.standards), _from_hits(c, ranking.practices)


def retrieve_standards(c: Components, text: str, k: int, grade: str | None = None, subject: str | None = None,
                       framework: str | None = None, grade_hint: str | None = None,
                       include_practices: bool = False) -> list[AlignedStandard]:
    """The k best standards for the text (practices only if asked), honouring the filters; this is what eval measures."""
    return retrieve(c, text, k, grade, subject, framework, grade_hint, include_practices)[0]


def _relations(c: Components, s: Standard, mentioned: list[Standard]) -> str:
    """How a mentioned standard relates to the other mentioned ones, one sentence each (edurag.graph.direct_relation:
    coherence map, hierarchy, NGSS connections, ELA grade ladder); '' when it relates to none."""
    return " ".join(fact for o in mentioned if o is not s for fact in [direct_relation(c.catalog, s, o)] if fact)


def _context_line(s: Standard, relations: str = "") -> str:
    """"Grade 6, Ratios and Proportional Relationships: <statement> <relations>". A capital's dot in the domain goes
    (TEKS's "Subchapter B. Middle School"): answers quote a line's first sentence, which ended at "B."."""
    line = f"{s.grade_label}, {_INITIAL_DOT.sub('', s.domain)}: {s.text}"
    return f"{line} {relations}".strip()


def cited(answer: str, allowed: list[str]) -> list[str]:
    """The context codes an answer cites, in order of first mention: each code as written in the context (any
    framework's: California's 6.RP.3.a is not CCSS 6.RP.A.3), not inside a longer code; when the answer writes none
    of them as given, the CCSS/NGSS codes it writes in another form (6.RP.3 for 6.RP.A.3)."""
    found = {}
    for code in allowed:
        hit = re.search(rf"(?<![\w.~-]){re.escape(code)}(?![\w~-]|\.\w)", answer)
        if hit:
            found[code] = hit.start()
    if found:
        return sorted(found, key=found.__getitem__)
    return [code for code in codes_in_text(answer) if code in allowed]


def align(c: Components, text: str, k: int, grade: str | None = None, subject: str | None = None,
          framework: str | None = None, adapter: str | None = None, grade_hint: str | None = None,
          include_practices: bool = False) -> Alignment:
    """Answer an alignment question: mentioned codes first, then retrieved standards above the relevance floor.

    Practices (CCSS MP), retrieved or named in the text ("(MP2)"), are listed in `practices`; they join `standards`
    only with include_practices."""
    named = c.catalog.codes_in_text(text, framework, grade)
    retrieved, practices = retrieve(c, text, k, grade, subject, framework, grade_hint, include_practices)
    named_practices = [s for s in named if is_practice(s.code)]
    mentioned = [s for s in named if include_practices or s not in named_practices]
    practices = [_aligned(s, 1.0, "code") for s in named_practices] + [
        p for p in practices if p.code not in {s.code for s in named_practices}]
    mentioned_codes = {s.code for s in mentioned}
    ranked = [_aligned(s, 1.0, "code") for s in mentioned]
    ranked += [r for r in retrieved if r.code not in mentioned_codes]
    ranked = ranked[:max(k, len(mentioned))]

    context = [(s.code, _context_line(s, _relations(c, s, mentioned))) for s in mentioned]
    relevant = [r for r in retrieved if r.explain and r.explain["dense"] >= c.settings.min_score
                and (r.confidence is None or r.confidence >= c.settings.min_confidence)]
    if not mentioned and relevant:  # the answer follows the ranking shown: its best standard leads
        context += [(r.code, _context_line(c.catalog.get(r.code, r.framework)))
                    for r in [retrieved[0], *(r for r in relevant if r is not retrieved[0])]]
    if not context:
        return Alignment(standards=ranked, answer=NO_MATCH, practices=practices)

    answer = c.generator.answer(text, context, adapter)
    allowed = [code for code, _ in context]
    citations = cited(answer, allowed)
    if not citations:
        citations = allowed[:3]
        answer = f"{answer.rstrip()} (Sources: {', '.join(f'[{code}]' for code in citations)})"
    return Alignment(standards=ranked, answer=answer, citations=citations, practices=practices)
