"""Answer a teacher's question about standards from graph facts, citing every code the answer names and only those.

`ask` resolves the codes the question names (any written form, ambiguous ones to every candidate, unknown ones to
"not found, did you mean ..."; each within the framework written before it, "TEKS 6.4(B)", else as
`Catalog.mentions_across` places it), detects the intent, composes the answer from catalog facts and, when an HF
generator is configured, lets it reword those facts through the RAG prompt (`edurag.prompts.rag_prompt`); the reply is
kept only if every code it cites is one of the facts' codes and it cites at least one, otherwise the composed answer
stands. Questions across frameworks ("How does TEKS 6.4.B map to Common Core?", "Compare 7.RP.A.2 and TEKS 7.4.A")
are answered from the crosswalk POST /crosswalk runs (`edurag.frameworks.crosswalk`), in composed sentences only.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import Stemmer

from edurag import graph
from edurag.ask.intents import IntentDetector
from edurag.codes import FRAMEWORK_NAMES, framework_names
from edurag.components import Components
from edurag.embedder import Embedder
from edurag.frameworks.bloom import classify
from edurag.frameworks.crosswalk import CrosswalkMatch, crosswalker_for
from edurag.standards import ALL_GRADES, BUILTIN_FRAMEWORKS, Catalog, Resolution, Standard
from edurag.alignment.align import align
from edurag.alignment.search import grade_cues, hybrid_search

logger = logging.getLogger(__name__)
_DETECTORS: dict[int, tuple[Embedder, IntentDetector]] = {}

MAX_LISTED = 40
CROSSWALK_K = 3  # matches a crosswalk answer names by default
LINK_DEPTH = 10  # how far down each other's crosswalk two standards of a cross-framework compare are looked for
_TWO_STEPS = re.compile(r"\b(?:two|2|three|3) (?:steps|levels|grades)\b|\bchain\b|\ball the way\b|\bfurther back\b", re.I)
_SUBJECT_CUES = {
    "math": re.compile(r"\bmath", re.I),
    "ela": re.compile(r"\b(?:ela|reading|writing|literature|literacy|language arts|english|speaking|listening)\b", re.I),
    "science": re.compile(r"\b(?:science|ngss|performance expectations?)\b", re.I),
}
_LIST_STOPWORDS = frozenset("""a about all an and any are be cover covers covering do does for from give grade grades have i
in is it kindergarten list me my of on please related school middle high show standard standards that the their them
these this to what which with first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth
common core ccss ngss math mathematics science ela students""".split())
_STEMMER = Stemmer.Stemmer("english")
_SENTENCE_END = re.compile(r"(?<=[.;])\s")


@dataclass
class AskedStandard:
    """A standard the answer names, with its role (asked, prerequisite, next, part, connection, listed, ...)."""

    code: str
    text: str
    grades: list[str]
    relation: str | None = None
    framework: str | None = None


@dataclass
class Answer:
    """The reply, the detected intent, the codes it cites, the standards behind it and codes that were not found."""

    answer: str
    intent: str
    citations: list[str] = field(default_factory=list)
    standards: list[AskedStandard] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)


@dataclass
class _Draft:
    """What an intent handler produces: sentences and the (code, relation) pairs they name."""

    sentences: list[str] = field(default_factory=list)
    named: list[tuple[str, str]] = field(default_factory=list)

    def say(self, sentence: str, *named: tuple[str, str]) -> None:
        self.sentences.append(sentence)
        self.named += named


def snippet(s: Standard, words: int = 24) -> str:
    """The first sentence of a standard's text, at most `words` words."""
    first = _SENTENCE_END.split(s.text, maxsplit=1)[0]
    cut = first.split()
    return " ".join(cut[:words]) + ("…" if len(cut) > words else "")


def ref(s: Standard) -> str:
    """A standard as the answer names it: code, grade band and the start of its statement."""
    return f"{s.code} ({s.grade_label}: {snippet(s)})"


def refs(catalog: Catalog, codes: list[str], framework: str | None = None) -> str:
    """Several references joined for a sentence, each code looked up in `framework` (the built-in ones when None);
    a code the catalog does not hold (a CASE progression to a node outside the package) is named as given."""
    return "; ".join(ref(s) if s else code for code in codes for s in [catalog.get(code, framework)])


def _kind(s: Standard) -> str:
    if s.level in ("Domain", "Cluster"):
        return s.level.lower()
    if s.framework == "ngss":
        return "NGSS performance expectation"
    return "sub-standard" if s.level == "Sub-standard" else "standard"


def _prerequisites(c: Components, question: str, s: Standard, d: _Draft, forward: bool = False) -> None:
    catalog = c.catalog
    word, relation = ("after", "next") if forward else ("before", "prerequisite")
    node = graph.graph_node(catalog, s)
    if node is not s:
        d.say(f"{s.code} is part of {node.code}; the progression is recorded for {node.code}.",
              (s.code, "asked"), (node.code, "parent"))
    levels = graph.chain(catalog, node, 2 if _TWO_STEPS.search(question) else 1, forward=forward)
    if not levels:
        if s.framework == "ngss":
            linked = graph.connections(catalog, s)
            d.say(f"The standards data records no progression for NGSS performance expectations such as {s.code}."
                  + (f" The Common Core standards it connects to are: {refs(catalog, linked)}." if linked else ""),
                  (s.code, "asked"), *[(x, "connection") for x in linked])
        else:
            d.say(f"The coherence map lists no standards {'building on' if forward else 'before'} {ref(s)}.",
                  (s.code, "asked"))
        return
    ela = catalog.key(node.code) and catalog.key(node.code).family == "ela"
    source = "the same anchor standard one grade " + ("later" if forward else "earlier") if ela else "the coherence map"
    lead = (f"Standards that build on {ref(node)} ({source}): " if forward
            else f"Before {ref(node)}, students should know ({source}): ")
    d.say(lead + refs(catalog, levels[0]) + ".", (node.code, "asked"), *[(x, relation) for x in levels[0]])
    for depth, level in enumerate(levels[1:], start=2):
        d.say(f"{depth} steps {word}: {refs(catalog, level)}.", *[(x, f"{relation} ({depth} steps)") for x in level])


def _parts(c: Components, question: str, s: Standard, d: _Draft) -> None:
    catalog = c.catalog
    kids = [k for k in s.children if catalog.get(k)]
    if not kids:
        d.say(f"{s.code} has no sub-standards in the data; it reads: {s.text}", (s.code, "asked"))
        return
    noun = {"Cluster": "standards", "Domain": "clusters"}.get(s.level, "sub-standards")
    listed = " ".join(f"{k}: {catalog.get(k).text}" for k in kids)
    d.say(f"{s.code} ({s.grade_label}: {snippet(s)}) has {len(kids)} {noun}. {listed}",
          (s.code, "asked"), *[(k, "part") for k in kids])


def _explain(c: Components, question: str, s: Standard, d: _Draft) -> None:
    catalog = c.catalog
    where = f" in {s.domain}" if s.domain and s.level != "Domain" else ""
    cluster = f" (cluster: {s.cluster})" if s.cluster and s.level not in ("Domain", "Cluster") else ""
    d.say(f"{s.code} is a {s.grade_label} {_kind(s)}{where}{cluster}. It says: {s.text}", (s.code, "asked"))
    if s.parent and catalog.get(s.parent) and s.level == "Sub-standard":
        d.say(f"It is part of {ref(catalog.get(s.parent))}.", (s.parent, "parent"))
    kids = [k for k in s.children if catalog.get(k)]
    if kids:
        noun = {"Cluster": "Its standards", "Domain": "Its clusters"}.get(s.level, "Its sub-standards")
        d.say(f"{noun}: " + " ".join(f"{k}: {snippet(catalog.get(k), 30)}" for k in kids),
              *[(k, "part") for k in kids])
    if s.details:
        words = s.details.split()
        d.say("Notes: " + " ".join(words[:60]) + ("…" if len(words) > 60 else ""))


def _connections(c: Components, question: str, s: Standard, d: _Draft) -> None:
    catalog = c.catalog
    subject = None
    if s.framework == "ngss":
        asked = [name for name in ("math", "ela") if _SUBJECT_CUES[name].search(question)]
        subject = asked[0] if len(asked) == 1 else None
    linked = graph.connections(catalog, s, subject)
    if not linked and subject:
        linked, subject = graph.connections(catalog, s), None
    if not linked:
        d.say(f"The NGSS connections to Common Core list nothing for {ref(s)}.", (s.code, "asked"))
        return
    target = ("NGSS performance expectations" if s.framework != "ngss"
              else f"Common Core {'math' if subject == 'math' else 'ELA/literacy' if subject == 'ela' else ''} standards")
    d.say(f"{ref(s)} connects to these {' '.join(target.split())} (NGSS connections to Common Core): "
          f"{refs(catalog, linked)}.", (s.code, "asked"), *[(x, "connection") for x in linked])


def _anchor(catalog: Catalog, s: Standard) -> str | None:
    key = catalog.key(s.code)
    if key is None or key.family != "ela":
        return None
    strand = {"RL": "R", "RI": "R", "RH": "R", "RST": "R", "W": "W", "WHST": "W", "SL": "SL", "L": "L"}.get(key.domain)
    code = f"CCRA.{strand}.{key.number}" if strand else None
    return code if code and catalog.get(code) else None


def _relate(c: Components, a: Standard, b: Standard, d: _Draft) -> None:
    catalog = c.catalog
    linked = True
    direct = graph.direct_relation(catalog, a, b)
    path = [] if direct else graph.progression_path(catalog, a, b)
    anchor_a, anchor_b = _anchor(catalog, a), _anchor(catalog, b)
    if direct:
        d.say(direct, (a.code, "asked"), (b.code, "asked"))
    elif path:
        steps = ", which progresses to ".join(path)
        d.say(f"They are linked through the coherence map: {steps}.", *[(x, "asked" if x in (a.code, b.code)
                                                                             else "on the path") for x in path])
    elif anchor_a and anchor_a == anchor_b:
        d.say(f"{a.code} and {b.code} are grade-level versions of the same anchor standard {anchor_a}: "
              f"{snippet(catalog.get(anchor_a))}", (a.code, "asked"), (b.code, "asked"), (anchor_a, "anchor"))
    else:
        linked = False
    common = graph.shared(catalog, a, b)
    if not linked and common:
        d.say("No chain of up to four progressions in the coherence map leads from one to the other, but they are "
              "related.", (a.code, "asked"), (b.code, "asked"))
    if common.heading_code:
        d.say(f"Both sit in the same {common.level}, {common.heading_code} ({common.heading.rstrip('.')}).",
              (common.heading_code, f"shared {common.level}"))
    elif common.level:
        grades = f" ({a.grade_label} and {b.grade_label})" if a.grade_label != b.grade_label else ""
        d.say(f"Both come under the {common.level} heading “{common.heading.rstrip('.')}”{grades}.")
    if common.before:
        d.say(f"Both build on {refs(catalog, common.before)}.", *[(x, "shared prerequisite") for x in common.before])
    if common.after:
        d.say(f"Both progress to {refs(catalog, common.after)}.", *[(x, "shared next") for x in common.after])
    if common.connections:
        d.say(f"Both connect to {refs(catalog, common.connections)} (NGSS connections to Common Core).",
              *[(x, "shared connection") for x in common.connections])
    if not linked and not common:
        d.say(f"The coherence map and the NGSS connections link {a.code} and {b.code} neither directly nor through a "
              f"chain of up to four progressions, and they share no cluster, domain, prerequisite, next standard or "
              f"connection.", (a.code, "asked"), (b.code, "asked"))


def _compare(c: Components, a: Standard, b: Standard, d: _Draft) -> None:
    order = {g: i for i, g in enumerate(["K", *map(str, range(1, 13))])}
    earlier, later = sorted((a, b), key=lambda s: order.get(s.grades[0], 99) if s.grades else 99)
    d.say(f"{a.code} ({a.grade_label}, {a.domain}): {a.text}", (a.code, "compared"))
    d.say(f"{b.code} ({b.grade_label}, {b.domain}): {b.text}", (b.code, "compared"))
    _relate(c, a, b, d)
    if earlier.grades != later.grades:
        changes = graph.changed_wording(earlier.text, later.text)
        if changes:
            d.say(f"What changes from {earlier.code} to {later.code}: " + "; ".join(changes) + ".")
    else:
        d.say(f"Both are {a.grade_label} standards.")


def _topic_stems(question: str) -> list[str]:
    """Stems of the topic words of a list question: its words less stopwords and the frameworks it names ("Texas")."""
    for _, start, end in reversed(framework_names(question)):
        question = question[:start] + " " + question[end:]
    words = [w for w in re.findall(r"[a-z]+", question.lower()) if w not in _LIST_STOPWORDS and len(w) > 2]
    return _STEMMER.stemWords(words)


def _stem_match(topic: list[str], name: str) -> bool:
    stems = _STEMMER.stemWords(re.findall(r"[a-z]+", name.lower()))
    return any(t == s or (min(len(t), len(s)) >= 6 and (s.startswith(t) or t.startswith(s))) for t in topic for s in stems)


def _grades_label(grades: set[str]) -> str:
    """"grade 2", "grades 3-5" (consecutive grades), "grades 6, 8"."""
    ordered = sorted(grades, key=ALL_GRADES.index)
    if len(ordered) == 1:
        return f"grade {ordered[0]}"
    if ALL_GRADES.index(ordered[-1]) - ALL_GRADES.index(ordered[0]) == len(ordered) - 1:
        return f"grades {ordered[0]}-{ordered[-1]}"
    return f"grades {', '.join(ordered)}"


def _list(c: Components, question: str, grade: str | None, subject: str | None, framework: str | None,
          k: int | None, d: _Draft) -> None:
    catalog = c.catalog
    grades = {grade} if grade else grade_cues(question)
    subjects = [name for name, cue in _SUBJECT_CUES.items() if cue.search(question)]
    subject = subject or (subjects[0] if len(subjects) == 1 else None)
    # without a framework, the built-in ones: the frameworks a code resolves in when none is named
    frameworks = [framework] if framework else list(BUILTIN_FRAMEWORKS)
    pool = [s for f in frameworks for s in catalog.indexable(f)
            if (not subject or s.subject == subject) and not s.code.startswith("MP.")]
    if len(grades) == 1:  # a grade's own standards, not K-12 practices or broad bands that merely include it
        pool = [s for s in pool if grades & set(s.grades)]
        narrow = min((len(s.grades) for s in pool), default=0)
        pool = [s for s in pool if len(s.grades) <= max(narrow, 3)]
    elif grades:  # a band (K-2, 3-5, 6-8, 9-12, middle school) or several grades: the standards that lie within them
        pool = [s for s in pool if s.grades and set(s.grades) <= grades]
    topic = _topic_stems(question)
    label = f"{_grades_label(grades)} " if grades else ""
    if topic:
        matched = [s for s in pool if _stem_match(topic, s.domain) or _stem_match(topic, s.cluster)]
        how = "by domain and cluster names"
        if not matched:
            hits = hybrid_search(c, question, k or 8, grade=next(iter(grades)) if len(grades) == 1 else None,
                                 subject=subject, framework=framework)
            allowed = {(s.framework, s.code): s for s in pool}
            matched = [allowed[key] for h in hits for key in [(h.metadata.get("framework"), h.code)]
                       if key in allowed and h.dense >= c.settings.min_score]
            how = "by retrieval"
    else:
        matched, how = pool, "all of them"
    if not matched:
        d.say(f"No {label}standards match that topic; try other words or another grade.")
        return
    shown = matched[:MAX_LISTED]
    more = f" (the first {len(shown)} of {len(matched)})" if len(matched) > len(shown) else ""
    noun = "standard" if len(matched) == 1 else "standards"
    d.say(f"{len(matched)} {label}{noun} found {how}{more}: {'; '.join(ref(s) for s in shown)}.",
          *[(s.code, "listed") for s in shown])


def check_reply(catalog: Catalog, reply: str, allowed: set[str]) -> bool:
    """A generated reply is kept only if it cites at least one code and every code it names is among the facts."""
    mentioned = catalog.mentions(reply)
    codes = [code for r in mentioned for code in r.codes]
    return bool(codes) and all(r.found for r in mentioned) and set(codes) <= allowed


def facts_context(catalog: Catalog, named: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The graph facts as RAG context items: (code, "relation: statement"), each code once."""
    return [(code, f"{relation}: {catalog.get(code).text}") for code, relation in dict(named).items()]


def generated_answer(c: Components, question: str, facts: list[tuple[str, str]]) -> str | None:
    """The generator's reply over the facts (edurag.prompts.rag_prompt), or None when `check_reply` rejects it."""
    reply = c.generator.answer(question, facts).strip()
    if check_reply(c.catalog, reply, {code for code, _ in facts}):
        return reply
    logger.info("generated reply rejected (cites no code, or codes outside the facts): %r", reply[:200])
    return None


def _finish(c: Components, question: str, intent: str, notes: list[str], d: _Draft,
            unresolved: list[str]) -> Answer:
    catalog = c.catalog
    answer = " ".join(notes + d.sentences).strip()
    if getattr(c.generator, "kind", "") == "hf" and d.named:
        reply = generated_answer(c, question, facts_context(catalog, d.named))
        if reply:
            answer = " ".join(notes + [reply])
    cited = list(dict.fromkeys(code for r in catalog.mentions(answer) if r.found for code in r.codes))
    roles = dict(reversed(d.named))
    standards = [AskedStandard(code=code, text=catalog.get(code).text, grades=catalog.get(code).grades,
                               relation=roles.get(code, "mentioned")) for code in cited]
    return Answer(answer=answer, intent=intent, citations=cited, standards=standards, unresolved=unresolved)


def detector_for(embedder: Embedder) -> IntentDetector:
    """The intent detector over the bundled examples for an embedder, built once (its centroids on first use)."""
    held = _DETECTORS.get(id(embedder))
    if held is None or held[0] is not embedder:
        held = _DETECTORS[id(embedder)] = (embedder, IntentDetector.from_file(embedder))
    return held[1]


def ask(c: Components, question: str, grade: str | None = None, subject: str | None = None,
        framework: str | None = None, k: int | None = None, detector: IntentDetector | None = None) -> Answer:
    """Answer a question about standards (see the module docstring).

    grade (K, 1..12) narrows grade-less codes and lists; subject (math, ela, science) and framework (ccss, ngss,
    tx-teks-2012, ...) scope lists and alignments, and codes are looked for in the framework first (a code it does not
    hold is read where it lives, and the framework is then the crosswalk target); k caps retrieved lists (default 8),
    alignments (default 5) and crosswalk matches (default 3)."""
    catalog = c.catalog
    mentions = catalog.mentions_across(question, grade, default=framework)
    found = [r for r in mentions if r.found]
    homes = list(dict.fromkeys(r.framework for r in found))
    named = [f for f in dict.fromkeys(f for f, _, _ in framework_names(question)) if f in catalog.frameworks()]
    targets = [f for f in named if f not in homes] or ([framework] if framework and homes and framework not in homes
                                                       else [])
    across = any(f not in BUILTIN_FRAMEWORKS for f in homes + targets)
    if _BLOOM.search(question):
        return _bloom(c, question, mentions, framework)
    if across and len(homes) > 1:
        return _compare_across(c, mentions)
    if across and found and targets:
        detect = detector or detector_for(c.embedder)
        if detect.detect(question, len(mentions), crosswalk=True) == "crosswalk":
            return _crosswalk(c, mentions, targets[0], k)
    if framework is None and not found and len(named) == 1:  # "Which Texas grade 6 standards are about ratios?"
        framework = named[0]
    elif framework is None and homes and homes[0] not in BUILTIN_FRAMEWORKS:  # "What is 6.4.B about?": TEKS's own
        framework = homes[0]
    elif framework and framework not in BUILTIN_FRAMEWORKS and found and all(h in BUILTIN_FRAMEWORKS for h in homes):
        framework = None  # "What should students know before 7.RP.A.2?" with TEKS picked: the code's own graph answers
    if framework and framework not in BUILTIN_FRAMEWORKS:
        return _imported(c, question, mentions, grade, subject, framework, k, detector)
    intent = (detector or detector_for(c.embedder)).detect(question, len(mentions))
    if intent == "align":
        return _aligned_answer(c, question, k, grade, subject, framework)

    notes = [r.message() for r in mentions if r.message()]
    unresolved = [r.query for r in mentions if not r.found]
    d = _Draft()
    suggestions = [code for r in mentions if not r.found for code in r.suggestions]
    if intent == "list":
        _list(c, question, grade, subject, framework, k, d)
    elif not found:
        d.named += [(code, "suggestion") for code in suggestions]
    elif intent in ("compare", "relate") and len(found) >= 2:
        a, b = catalog.get(found[0].codes[0]), catalog.get(found[1].codes[0])
        if intent == "relate":
            d.say(f"{ref(a)}. {ref(b)}.")
        (_compare if intent == "compare" else _relate)(c, a, b, d)
    else:
        handler = {"prerequisites": _prerequisites, "next": lambda *a: _prerequisites(*a, forward=True),
                   "parts": _parts, "explain": _explain, "connections": _connections,
                   "compare": _explain, "relate": _explain}[intent]
        for code in [code for r in found for code in r.codes][:4]:
            handler(c, question, catalog.get(code), d)
    d.named += [(code, "suggestion") for code in suggestions if code not in dict(d.named)]
    return _finish(c, question, intent, notes, d, unresolved)


def framework_label(framework: str) -> str:
    """A framework as answers name it: its everyday name (edurag.codes.FRAMEWORK_NAMES: Texas TEKS, Common Core),
    else its id."""
    return FRAMEWORK_NAMES[framework][0] if framework in FRAMEWORK_NAMES else framework


def _statement(s: Standard) -> str:
    """A standard with its framework, grade and statement (and the licence of an imported framework's text)."""
    licence = f" (Text: {s.licence['title']}, {s.licence['rights_holder'].rstrip('.')}.)" if s.licence else ""
    text = s.text.rstrip(";:, ")
    end = "" if text.endswith((".", "?", "!")) else "."
    return f"{s.code} ({framework_label(s.framework)}, {s.grade_label}): {text}{end}{licence}"


_MATCH_WORDS = {"exact": "exact match", "close": "close match", "partial": "partial match", "none": "weak match"}


def _match_ref(m: CrosswalkMatch, catalog: Catalog) -> str:
    grade = next((s.grade_label for s in [catalog.get(m.code, m.framework)] if s), "")
    how = _MATCH_WORDS[m.label] + (", linked in the source data" if m.exact_link else "")
    terms = f"; shared terms: {', '.join(m.evidence[:5])}" if m.evidence and not m.exact_link else ""
    words = m.text.rstrip(";:, ").split()
    return f"{m.code} ({grade}, {how}{terms}: {' '.join(words[:24])}{'…' if len(words) > 24 else ''})"


_CROSSWALK_NOTE = ("The crosswalk ranks by the statements' wording, the terms they share and their grades; it suggests "
                   "matches, it is not an official alignment.")


def _crosswalk(c: Components, mentions: list[Resolution], target: str, k: int | None) -> Answer:
    """"How does TEKS 6.4.B map to Common Core?": each named standard (up to two) with its k closest standards of the
    target framework, by the crosswalk POST /crosswalk runs."""
    catalog, walker = c.catalog, crosswalker_for(c)
    sentences = [r.message() for r in mentions if r.message()]
    named: list[tuple[Standard, str]] = []
    sources = [s for r in mentions if r.found for code in r.codes for s in [catalog.get(code, r.framework)] if s][:2]
    for s in sources:
        matches = walker.crosswalk(target, source=s, k=k or CROSSWALK_K)
        sentences.append(_statement(s))
        named.append((s, "asked"))
        if not matches:
            sentences.append(f"{framework_label(target)} ({target}) has no standards of its subject to match it with.")
            continue
        sentences.append(f"Closest {framework_label(target)} standards by the crosswalk from {s.framework} to "
                         f"{target}: {'; '.join(_match_ref(m, catalog) for m in matches)}.")
        named += [(catalog.get(m.code, m.framework), "crosswalk match") for m in matches]
    sentences.append(_CROSSWALK_NOTE)
    return _cited_answer(" ".join(sentences), "crosswalk", named, mentions)


def _ordinal(n: int) -> str:
    return {1: "closest", 2: "2nd closest", 3: "3rd closest"}.get(n, f"{n}th closest")


def _compare_across(c: Components, mentions: list[Resolution]) -> Answer:
    """"How does 7.RP.A.2 compare to TEKS 7.4.A?": two standards of two frameworks, each stated, and whether the
    crosswalk links them (each looked for among the other's LINK_DEPTH closest standards in its framework)."""
    catalog, walker = c.catalog, crosswalker_for(c)
    found = [r for r in mentions if r.found]
    first = found[0]
    second = next(r for r in found if r.framework != first.framework)
    a, b = catalog.get(first.codes[0], first.framework), catalog.get(second.codes[0], second.framework)
    sentences = [r.message() for r in mentions if r.message()] + [_statement(a), _statement(b)]
    named: list[tuple[Standard, str]] = [(a, "compared"), (b, "compared")]
    links, closest = [], []
    for source, other in ((a, b), (b, a)):
        matches = walker.crosswalk(other.framework, source=source, k=LINK_DEPTH)
        rank = next((i for i, m in enumerate(matches, 1) if m.code == other.code), None)
        if rank is not None:
            m = matches[rank - 1]
            linked = ", linked in the source data" if m.exact_link else ""
            terms = f"; shared terms: {', '.join(m.evidence[:5])}" if m.evidence else ""
            links.append(f"among {framework_label(other.framework)} standards, {other.code} is the {_ordinal(rank)} to "
                         f"{source.code} ({_MATCH_WORDS[m.label]}{linked}{terms})")
        elif matches:
            closest.append(f"{other.code} is not among the {LINK_DEPTH} {framework_label(other.framework)} standards "
                           f"closest to {source.code} (the closest is {_match_ref(matches[0], catalog)})")
            named.append((catalog.get(matches[0].code, matches[0].framework), "crosswalk match"))
    if links:
        sentences.append("The crosswalk links them: " + "; ".join(links) + ".")
        sentences += [f"In the other direction, {text}." for text in closest]
    else:
        sentences.append("The crosswalk does not link them: " + "; and ".join(closest) + ".")
    same = a.grades == b.grades
    sentences.append(f"Both are {a.grade_label} standards." if same else
                     f"{a.code} is a {a.grade_label} standard, {b.code} a {b.grade_label} one.")
    sentences.append(_CROSSWALK_NOTE)
    return _cited_answer(" ".join(sentences), "compare", named, mentions)


def _cited_answer(answer: str, intent: str, named: list[tuple[Standard, str]], mentions: list[Resolution]) -> Answer:
    """An answer naming standards of several frameworks: citations are the named codes, each once, first role kept."""
    cited: dict[tuple[str, str], AskedStandard] = {}
    for s, relation in named:
        cited.setdefault((s.framework, s.code), AskedStandard(code=s.code, text=s.text, grades=s.grades,
                                                              relation=relation, framework=s.framework))
    return Answer(answer=answer, intent=intent, citations=list(dict.fromkeys(code for _, code in cited)),
                  standards=list(cited.values()), unresolved=[r.query for r in mentions if not r.found])


_BLOOM = re.compile(r"\bbloom'?s?\b", re.IGNORECASE)
_BLOOM_ASK = re.compile(r"^.*?\bbloom'?s?\b[^:?]*[:?]\s*", re.IGNORECASE)


def _bloom(c: Components, question: str, mentions: list[Resolution], framework: str | None) -> Answer:
    """"What Bloom level is this objective: ...?": the Bloom levels of the standards the question names, else of the
    objective written after the question (edurag.frameworks.bloom; ambiguous verbs give several levels)."""
    named = [s for r in mentions if r.found for s in [c.catalog.get(r.codes[0], r.framework or framework)] if s]
    targets = [(s.code, s.text) for s in named] or [("", _BLOOM_ASK.sub("", question).strip() or question)]
    sentences = []
    for code, text in targets:
        result = classify(text)
        subject = f"{code} ({text})" if code else f'"{text}"'
        if result.level is None:
            sentences.append(f"{subject} names no verb of the Bloom's taxonomy list, so its level cannot be read from it.")
            continue
        spread = ", ".join(f"{level} {weight:.0%}" for level, weight in result.weights.items())
        cue = ", ".join(result.verbs)
        sentences.append(f"{subject} is at the {result.level} level of Bloom's taxonomy (from {cue}: {spread})."
                         + (" The verb is listed under several levels, hence the spread." if result.ambiguous else ""))
    standards = [AskedStandard(code=s.code, text=s.text, grades=s.grades, relation="asked") for s in named]
    return Answer(answer=" ".join(sentences), intent="bloom", citations=[s.code for s in named], standards=standards,
                  unresolved=[r.query for r in mentions if not r.found])


def _aligned_answer(c: Components, question: str, k: int | None, grade: str | None, subject: str | None,
                    framework: str | None, unresolved: list[str] | None = None) -> Answer:
    """The question answered as /align answers a lesson (intent "align"): the cited standards, each with its framework."""
    result = align(c, question, k or 5, grade, subject, framework)
    standards = [AskedStandard(code=s.code, text=s.text, grades=s.grades, relation="aligned", framework=s.framework)
                 for s in result.standards if s.code in result.citations]
    return Answer(answer=result.answer, intent="align", citations=result.citations, standards=standards,
                  unresolved=unresolved or [])


def _imported(c: Components, question: str, mentions: list[Resolution], grade: str | None, subject: str | None,
              framework: str, k: int | None, detector: IntentDetector | None = None) -> Answer:
    """A question scoped to an imported framework (TEKS, a CASE package): the standards it names, with their text,
    grades, parent and licence; else, for a list question ("Which grade 6 standards are about ratios?"), the
    framework's standards of the grade and topic asked, listed as Common Core's are (`_list`); else the framework's
    standards aligned to the question. Imported frameworks carry no coherence map, so prerequisite / next questions
    are answered from what the framework itself states (CASE `precedes`), each code looked up in that framework."""
    catalog = c.catalog
    found = [s for r in mentions if r.found and r.framework == framework
             for s in [catalog.get(r.codes[0], framework)] if s]
    intent = (detector or detector_for(c.embedder)).detect(question, len(mentions))
    if not found and intent == "list":
        d = _Draft([r.message() for r in mentions if r.message()])
        _list(c, question, grade, subject, framework, k, d)
        return _cited_answer(" ".join(d.sentences), intent,
                             [(catalog.get(code, framework), relation) for code, relation in d.named], mentions)
    if not found:
        return _aligned_answer(c, question, k, grade, subject, framework, [r.query for r in mentions if not r.found])
    intent = intent if intent in ("prerequisites", "next") else "explain"
    sentences = [r.message() for r in mentions if r.message()]
    named: list[tuple[Standard, str]] = [(s, "asked") for s in found]
    for s in found:
        line = f"{s.code} ({framework}, {s.grade_label}): {s.text}"
        parent = catalog.get(s.parent, framework) if s.parent else None
        if parent is not None:
            line += f" It is part of {parent.code}: {parent.text}"
        stated = s.progress_from if intent == "prerequisites" else s.progress_to
        word, relation = ("before", "prerequisite") if intent == "prerequisites" else ("after", "next")
        if intent != "explain" and stated:
            line += f" Standards {word} it, as {framework} states its progressions: {refs(catalog, stated, framework)}."
            named += [(p, relation) for code in stated for p in [catalog.get(code, framework)] if p]
        elif intent != "explain":
            line += (f" {framework} states no standards {word} {s.code}: its source data records no progressions for"
                     " it (only CASE packages with `precedes` associations do).")
        elif s.progress_to or s.progress_from:
            line += (f" Progressions stated by the framework: before {refs(catalog, s.progress_from, framework) or 'none'};"
                     f" after {refs(catalog, s.progress_to, framework) or 'none'}.")
        if s.licence:
            line += f" (Text: {s.licence['title']}, {s.licence['rights_holder']}.)"
        sentences.append(line)
    cited: dict[str, AskedStandard] = {}
    for p, relation in named:
        cited.setdefault(p.code, AskedStandard(code=p.code, text=p.text, grades=p.grades, relation=relation,
                                               framework=p.framework))
    return Answer(answer=" ".join(sentences), intent=intent, citations=list(cited), standards=list(cited.values()),
                  unresolved=[r.query for r in mentions if not r.found])
