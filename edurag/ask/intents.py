"""What a teacher's question asks for: cue rules plus nearest-centroid over the embedder's sentence vectors.

Each intent has a handful of labelled example questions (`edurag/data/ask_intents.jsonl`, codes written as X and Y).
A question is scored against every intent as cosine(question, intent centroid) + CUE_WEIGHT x (cue rules matched,
at most two), over the intents the number of codes it names allows (compare and relate need two, the graph intents
one, list and align none; crosswalk needs a code and another framework named beside it, one of the two imported,
and then takes the place of connections).
Codes in the question are masked the same way as in the examples, so the vectors carry the wording, not the code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edurag.codes import CODE_SPAN, citation_form, code_shaped, parse_code
from edurag.embedder import Embedder

INTENTS = ("prerequisites", "next", "parts", "explain", "connections", "list", "compare", "relate", "align", "crosswalk")
ONE_CODE = ("prerequisites", "next", "parts", "explain", "connections")
TWO_CODES = ("compare", "relate")
NO_CODE = ("list", "align")
CUE_WEIGHT = 0.3
EXAMPLES_FILE = Path(__file__).resolve().parents[1] / "data" / "ask_intents.jsonl"

_C = r"(?:x|y)"  # a masked code
CUES: dict[str, list[str]] = {
    "prerequisites": [r"\bbefore\b", r"\bprerequisite", r"\bprior\b", r"\bneeds? (?:to know|first)", r"\bstruggl",
                      r"\breview\b", r"\bgo back\b", r"\brevisit", rf"\b{_C} (?:builds?|rel(?:y|ies)|depends?) on\b",
                      r"\bfoundation", r"\blead(?:s|ing)? up to\b", r"\bsteps? back\b", r"\bearlier\b",
                      r"\bshould (?:be taught|know)\b", r"\bprecede", r"\bneed(?:ed)? (?:for|before)\b"],
    "next": [r"\bafter\b", r"\bnext\b", r"\bprepares?\b", r"\bfollows?\b", r"\bwhere does \w+ lead\b",
             rf"\b(?:builds?|depends?|rel(?:y|ies)) on {_C}\b", rf"\b{_C} leads? to\b(?! {_C})", r"\blater\b",
             r"\bafterwards\b"],
    "parts": [r"\bbreak\b.*\b(?:down|into|apart|up)\b", r"\bparts?\b", r"\bsub-?standards?\b", r"\bcomponents?\b",
              r"\binclude", r"\bpieces\b", r"\bstandards (?:are )?in\b", r"\bconsists?\b", r"\bmade up\b"],
    "explain": [r"\bmeans?\b", r"\bexplain", rf"\bwhat is {_C}\b", r"\btell me about\b", r"\bdescribe",
                r"\bplain (?:words|english|language)\b", r"\bask(?:ing|s)? (?:of )?students\b", r"\babout\??$",
                r"\bexpected to\b", r"\bunpack\b(?!.*\b(?:parts|pieces)\b)"],
    "connections": [r"\bngss\b", r"\bperformance expectations?\b", r"\bscience\b", r"\bcommon core\b", r"\bccss\b",
                    r"\b(?:math|ela|literacy|reading|writing) standards?\b", r"\bconnect", r"\bcrosswalk"],
    "list": [r"\blist\b", r"\bwhich grade\b", r"\bgrade \w+ standards\b", r"\b(?:\d+(?:st|nd|rd|th)|kindergarten|"
             r"first|second|third|fourth|fifth|sixth|seventh|eighth) grade\b", r"\bstandards (?:are |that are )?"
             r"(?:about|on|for|cover)", r"\bshow me\b", r"\bgive me\b", r"\bmiddle school\b", r"\bhigh school\b"],
    "compare": [r"\bcompare", r"\bdifferen", r"\bdiffer\b", r"\bvs\.?\b", r"\bversus\b", r"\bcontrast",
                rf"\badds? to {_C}\b", r"\bwhat changes\b"],
    "relate": [r"\brelat", r"\blinked\b", rf"\bconnected to {_C}\b", rf"\b{_C} and {_C} connected\b",
               rf"\b{_C} leads? to {_C}\b", r"\bin the progression\b.*\b" + _C],
    "align": [r"\b(?:this|my|the following|a) (?:lesson|activity|task|unit|problem|worksheet)\b", r"\balign",
              r"\bstandards (?:does|do) (?:this|it)\b", r"\bstudents (?:use|tile|solve|measure|write|read|investigate|"
              r"find|compare|explore|model|practice)\b"],
    "crosswalk": [r"\bmaps?\b", r"\bmapp(?:ed|ing)\b", r"\bmatch", r"\bcorrespond", r"\bequivalent", r"\bcrosswalk",
                  r"\bsame as\b", r"\blines? up\b", r"\btranslate", r"\bcounterpart"],
}
_COMPILED = {intent: [re.compile(p) for p in patterns] for intent, patterns in CUES.items()}


def mask_codes(text: str) -> str:
    """The text with each code written as X, then Y (so "compare X and Y" reads the same for any codes): the spans
    edurag.codes parses, and those written like codes of other frameworks (6.4.B, 6.4(B))."""
    names = iter(["X", "Y"])

    def repl(match: re.Match) -> str:
        span = match.group(0)
        return next(names, "Y") if parse_code(span) or code_shaped(span) or citation_form(span) else span

    return CODE_SPAN.sub(repl, text)


def allowed_intents(n_codes: int, words: int, crosswalk: bool = False) -> tuple[str, ...]:
    """Intents a question can have given how many codes it names (and its length: long texts are lessons), and whether
    it names another framework to cross to, one of the two imported (`crosswalk`): then "Common Core" names the
    target, not the NGSS connections to Common Core, which link only built-in standards, so crosswalk replaces
    connections."""
    if n_codes == 0:
        return NO_CODE
    graph = tuple(i for i in ONE_CODE if i != "connections") + ("crosswalk",) if crosswalk else ONE_CODE
    if n_codes == 1:
        return graph + (("align",) if words > 40 else ())
    return TWO_CODES + graph


def cue_hits(masked: str) -> dict[str, int]:
    """How many cue rules of each intent the (code-masked) question matches."""
    lowered = masked.lower()
    return {intent: sum(bool(p.search(lowered)) for p in patterns) for intent, patterns in _COMPILED.items()}


@dataclass
class IntentDetector:
    """Nearest-centroid intent scores from labelled examples, combined with the cue rules."""

    embedder: Embedder
    examples: list[tuple[str, str]]
    _centroids: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def from_file(cls, embedder: Embedder, path: Path = EXAMPLES_FILE) -> IntentDetector:
        """Read labelled examples (jsonl rows with `intent` and `text`)."""
        with path.open(encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
        unknown = {r["intent"] for r in rows} - set(INTENTS)
        if unknown:
            raise ValueError(f"{path}: unknown intents {sorted(unknown)}")
        return cls(embedder, [(r["intent"], r["text"]) for r in rows])

    def centroids(self) -> np.ndarray:
        """One unit vector per intent (rows in INTENTS order), the mean of its examples' vectors."""
        if self._centroids is None:
            vectors = self.embedder.encode([mask_codes(text) for _, text in self.examples])
            rows = []
            for intent in INTENTS:
                mine = vectors[[i for i, (label, _) in enumerate(self.examples) if label == intent]]
                mean = mine.mean(axis=0)
                rows.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
            self._centroids = np.stack(rows)
        return self._centroids

    def scores(self, question: str, n_codes: int, crosswalk: bool = False) -> dict[str, float]:
        """Score of each allowed intent for a question naming n_codes codes (and another framework to cross to when
        `crosswalk`; higher is more likely)."""
        masked = mask_codes(question)
        similarity = self.centroids() @ self.embedder.encode([masked])[0]
        hits = cue_hits(masked)
        allowed = allowed_intents(n_codes, len(question.split()), crosswalk)
        return {intent: float(similarity[i]) + CUE_WEIGHT * min(hits[intent], 2)
                for i, intent in enumerate(INTENTS) if intent in allowed}

    def detect(self, question: str, n_codes: int, crosswalk: bool = False) -> str:
        """The most likely intent."""
        scores = self.scores(question, n_codes, crosswalk)
        return max(scores, key=scores.__getitem__)
