"""The one home of standard-code formats: parse every real-world form of a CCSS or NGSS code into its parts.

Forms publishers, state documents and teachers write, all parsed by `parse_code` into a `CodeKey`:
ASN official codes (`CCSS.Math.Content.6.RP.A.3`, `CCSS.ELA-Literacy.RL.5.1`, `CCSS.Math.Practice.MP1`), Achieve the
Core short codes (`6.RP.A.3a`, `A-REI.B.3`, `MP.1`, ELA grade-first `5.RL.1`), the 2010 print forms without cluster
letters (`6.RP.3`, `A-REI.3`, `N-Q.1`, `F-IF.7a`), corestandards.org forms and URLs (`HSA-REI.B.4`,
`corestandards.org/Math/Content/HSA/REI/B/4/`), sub-standard letters with or without a dot and in either case
(`6.RP.A.3.A`, `6.RP.3a`, `k.cc.4a`), NGSS performance expectations (`MS-PS1-1`, `ms.ps1.1`, `K-2-ETS1-1`), ELA grade
bands (`RH.6-8.1`) and College and Career Readiness anchors (`CCRA.R.1`, `CCR.R.1`); any case, dots, hyphens,
slashes or spaces between the parts, prefixes (`CCSS`, `NGSS`, `Math.Content`, `ELA-Literacy`) and trailing
punctuation, and K-8 math codes typed as one word (`7rp2`). Forms without a grade (`RP.3`, `REI.4`) parse with the
grade left open: the catalog (`edurag.standards.Catalog.resolve_all`) matches them to every candidate and reports the
ambiguity.

The grammar is hand-written: no maintained library parses CCSS/NGSS notation (PyPI has none; CASE packages carry
`humanCodingScheme` strings but no grammar for them). Codes of imported frameworks (TEKS `6.4.B`, Florida
`MA.6.AR.1.1`) do not parse here; the catalog finds them by `normal_form`, scoped by framework. Free text is read here
too: code-shaped spans (`code_spans`, with citation forms such as TEKS `6.4(B)`), the frameworks a text names
(`FRAMEWORK_NAMES`, `framework_names`) and which of them qualifies a code ("TEKS 6.4(B)": `qualified_spans`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

MATH_CONTENT = "CCSS.Math.Content."
MATH_PRACTICE = "CCSS.Math.Practice.MP"
ELA = "CCSS.ELA-Literacy."

ELA_STRANDS = frozenset({"RL", "RI", "RF", "W", "SL", "L", "RH", "RST", "WHST"})
ANCHOR_STRANDS = frozenset({"R", "W", "SL", "L"})
GRADE_DOMAINS = frozenset({"CC", "OA", "NBT", "NF", "MD", "G", "RP", "NS", "EE", "F", "SP"})
HS_DOMAINS = {"N": {"RN", "Q", "CN", "VM"}, "A": {"SSE", "APR", "CED", "REI"}, "F": {"IF", "BF", "LE", "TF"},
              "G": {"CO", "SRT", "C", "GPE", "GMD", "MG"}, "S": {"ID", "IC", "CP", "MD"}}
_HS_CATEGORY_OF = {d: c for c, ds in HS_DOMAINS.items() for d in ds if d not in GRADE_DOMAINS}
_MATH_GRADES = frozenset({"K", *map(str, range(1, 9))})
_ELA_GRADES = frozenset({"K", *map(str, range(1, 9))})
_ELA_BANDS = {("9", "10"): "9-10", ("11", "12"): "11-12", ("6", "8"): "6-8", ("9", "12"): "9-12"}
# Bands that name several of the catalog's bands (NGSS cites WHST.9-12.2 for both WHST.9-10.2 and WHST.11-12.2).
_GRADE_GROUPS = {"9-12": frozenset({"9-10", "11-12"})}
_PRACTICES = frozenset("12345678")
_NGSS_GRADES = frozenset({"K", "1", "2", "3", "4", "5", "MS", "HS"})
_NGSS_BANDS = {("K", "2"): "K-2", ("3", "5"): "3-5"}
_DCI = re.compile(r"^(?:PS|LS|ESS|ETS)\d$")
# Leading words that qualify a code without being part of it (ASN prefixes, URL parts, "Grade 6 ...").
_PREFIX_WORDS = frozenset({"HTTP", "HTTPS", "WWW", "CORESTANDARDS", "ORG", "CCSS", "COMMON", "CORE", "MATH", "CONTENT",
                           "PRACTICE", "ELA", "LITERACY", "NGSS", "STANDARD", "STANDARDS", "CODE"})
_SPLIT_NUMBER_LETTER = re.compile(r"^(\d+)([A-Z])$")
_HS_TOKEN = re.compile(r"^HS([NAFGS])$")
# A K-8 math code written as one word, as teachers type it ("7rp2", "6RPA3", "6rp3a"): grade, domain, optional cluster
# letter, number, optional sub-standard letter. Read only when it is the whole code.
_COMPACT_MATH = re.compile(r"^(K|[1-8])(" + "|".join(sorted(GRADE_DOMAINS, key=len, reverse=True))
                           + r")([A-D])?(\d{1,2})([A-Z])?$")
_PRACTICE_TOKEN = re.compile(r"^S?MP(\d)$")
_NUMBER = re.compile(r"^\d{1,2}$")
_LETTER = re.compile(r"^[A-Z]$")
# A code-shaped span in free text: alphanumeric parts joined by dots or hyphens (6.RP.A.3, ms-ps1-1,
# CCSS.ELA-Literacy.RL.5.1), maybe followed by parenthesized parts (the TEKS citation form 6.4(B), the Texas
# Administrative Code's 111.26(b)(4)(B)), a K-8 math code written as one word (7rp2, 6RPA3, 6rp3a: _COMPACT_MATH's
# parts), or a practice written as one word (MP1). A trailing sentence dot is left out.
# A grade band written with a hyphen ("K-2", "3-5", "9-12") is not a code: TEKS's K.2 answered to "K-2" in "Which K-2
# standards are about length?". Longer hyphenated codes (NGSS K-2-ETS1-1) still are.
CODE_SPAN = re.compile(r"(?<![\w.-])(?!(?:K|\d{1,2})-\d{1,2}(?![\w-]|\.\w))(?:[A-Za-z0-9]+(?:[.-][A-Za-z0-9]+)+(?:\([A-Za-z0-9]{1,3}\))*|S?MP\d|"
                       r"(?:K|[1-8])(?:" + "|".join(sorted(GRADE_DOMAINS, key=len, reverse=True))
                       + r")[A-D]?\d{1,2}[A-Z]?)(?![\w-])", re.IGNORECASE)
# The citation form of a code of a framework that numbers its standards (TEKS 6.4(B), the Texas Administrative Code's
# 111.26(b)(4)(B)): a numeric dotted base, then bracketed parts, the last a capital letter or one of several parts.
# A single bracketed lower-case letter or number is mathematics (2.5(4) is a product, 1.5(x) a function's value).
_CITATION_PARTS = re.compile(r"^\d+(?:\.\d+)+(?:(?:\([A-Za-z0-9]{1,3}\))+\([A-Za-z]\)|\([A-Z]\))$")
# The bracketed parts after a code (MS-PS1-4(a), 6.RP.A.3(b)): dropped when the code does not parse with them.
_BRACKET_TAIL = re.compile(r"(?:\([A-Za-z0-9]{1,3}\))+$")
_EDGE_PUNCTUATION = ".,;:!?'\""
_BRACKETS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = frozenset(_BRACKETS.values())

# How teachers name the frameworks in free text ("TEKS 6.4(B)", "Which Common Core standard matches ...?"): per
# framework id, the name answers use and the written forms (case-insensitive; (?-i:...) where a lower-case spelling is
# an everyday word: best, sol, fl oz). A longer form of one framework comes before a shorter one of another
# ("California Common Core" is California, not Common Core).
FRAMEWORK_NAMES: dict[str, tuple[str, str]] = {
    "ca-ccss-2010": ("California", r"california(?: common core(?: state standards)?| ccss)?|(?-i:CA)"),
    "ny-nextgen-2017": ("New York Next Generation", r"new york(?: state)?(?: next generation(?: learning standards)?)?"
                                                    r"|(?-i:NYS?)"),
    "ngss": ("NGSS", r"ngss|next generation science standards"),
    "ccss": ("Common Core", r"common core(?: state standards)?|ccssm?"),
    "tx-teks-2012": ("Texas TEKS", r"texas(?: teks)?|teks|(?-i:TX)"),
    "fl-best-2020": ("Florida B.E.S.T.", r"florida(?: b\.e\.s\.t\.?| best)?|b\.e\.s\.t\.?|(?-i:BEST|FL)"),
    "va-sol-2023": ("Virginia SOL", r"virginia(?: sols?)?|(?-i:SOLs?|VA)"),
}
_FRAMEWORK_NAME = re.compile("|".join(f"(?P<f{i}>{pattern})" for i, (_, pattern) in enumerate(FRAMEWORK_NAMES.values())),
                             re.IGNORECASE)
_FRAMEWORK_IDS = list(FRAMEWORK_NAMES)
# What may stand between a framework's name and the code it qualifies: "TEKS 6.4.B", "Common Core standard 7.RP.A.2".
_QUALIFIER_GAP = re.compile(r"\s*(?:'s\s+)?(?:(?:math(?:ematics)?\s+)?(?:standard|benchmark|expectation|code|SE)s?\s+)?",
                            re.IGNORECASE)


@dataclass(frozen=True)
class CodeKey:
    """The parts of a CCSS/NGSS code; None in grade, category or cluster of a parsed query means "not given".

    family: math (K-8 and high-school content), practice, ela, anchor (CCR anchor standards), ngss.
    level: domain, cluster or standard (a sub-standard is a standard with a `letter`).
    grade: K, 1..8, HS (high-school math), ELA band 9-10 / 11-12 / 6-8, NGSS MS / HS / K-2 / 3-5.
    domain: math domain (RP, REI), ELA or anchor strand (RL, R), NGSS disciplinary core idea (PS1), MP.
    category: high-school conceptual category (N, A, F, G, S).
    """

    family: str
    level: str
    domain: str
    grade: str | None = None
    category: str | None = None
    cluster: str | None = None
    number: str | None = None
    letter: str | None = None

    @property
    def index_key(self) -> tuple[str, str, str, str | None, str | None]:
        """The parts every form of a code spells: what the catalog indexes on."""
        return self.family, self.level, self.domain, self.number, self.letter

    def matches(self, full: CodeKey) -> bool:
        """Whether a complete catalog key fits this (possibly partial) query key."""
        return (self.index_key == full.index_key
                and (self.grade is None or self.grade == full.grade or full.grade in _GRADE_GROUPS.get(self.grade, ()))
                and (self.category is None or self.category == full.category)
                and (self.cluster is None or self.cluster == full.cluster))

    def short(self) -> str | None:
        """The API's short code (6.RP.A.3a, A-REI.B.3, MP.1, RL.5.1, CCRA.R.1, MS-PS1-1); None if a part is missing."""
        tail = f"{self.number}{(self.letter or '').lower()}" if self.number else ""
        if self.family == "practice":
            return f"MP.{self.number}"
        if self.family == "anchor":
            return f"CCRA.{self.domain}.{tail}"
        if self.family == "ngss":
            return f"{self.grade}-{self.domain}-{self.number}" if self.grade and self.number else None
        if self.family == "ela":
            return f"{self.domain}.{self.grade}.{tail}" if self.grade and self.number else None
        head = f"{self.category}-{self.domain}" if self.grade == "HS" and self.category else (
            f"{self.grade}.{self.domain}" if self.grade and self.grade != "HS" else None)
        if head is None or (self.number and not self.cluster):
            return None
        return ".".join(p for p in (head, self.cluster, tail) if p)


def normal_form(code: str) -> str:
    """Case- and separator-blind spelling used as a lookup key: upper case, runs of non-alphanumerics become one dot."""
    return ".".join(t for t in re.split(r"[^A-Za-z0-9]+", code.upper()) if t)


def _tokens(code: str) -> list[str]:
    raw = [t for t in re.split(r"[^A-Za-z0-9]+", code.upper()) if t]
    while raw and raw[0] in _PREFIX_WORDS or raw[:1] == ["GRADE"] and len(raw) > 2:
        raw = raw[1:]
    if len(raw) == 1 and (m := _COMPACT_MATH.match(raw[0])):
        return [part for part in m.groups() if part]
    out: list[str] = []
    for i, token in enumerate(raw):
        if (m := _SPLIT_NUMBER_LETTER.match(token)) and i > 0:
            out += [m.group(1), m.group(2)]
        elif (m := _HS_TOKEN.match(token)) and i == 0:
            out += ["HS", m.group(1)]
        elif m := _PRACTICE_TOKEN.match(token):
            out += ["MP", m.group(1)]
        else:
            out.append(token)
    return out


def _tail(rest: list[str]) -> dict[str, str | None] | None:
    """cluster / number / letter from what follows the domain: [], [A], [A, 3], [A, 3, a], [3], [3, a]."""
    cluster = rest[0] if rest and _LETTER.match(rest[0]) else None
    rest = rest[1:] if cluster else rest
    if not rest:
        return {"level": "cluster" if cluster else "domain", "cluster": cluster, "number": None, "letter": None}
    if not _NUMBER.match(rest[0]) or len(rest) > 2 or (len(rest) == 2 and not _LETTER.match(rest[1])):
        return None
    return {"level": "standard", "cluster": cluster, "number": str(int(rest[0])), "letter": rest[1] if len(rest) == 2 else None}


def _standard_tail(rest: list[str]) -> tuple[str, str | None] | None:
    """number and optional sub-standard letter: [1] or [1, a]."""
    if not rest or not _NUMBER.match(rest[0]) or len(rest) > 2 or (len(rest) == 2 and not _LETTER.match(rest[1])):
        return None
    return str(int(rest[0])), rest[1] if len(rest) == 2 else None


def _ngss(t: list[str]) -> CodeKey | None:
    if tuple(t[:2]) in _NGSS_BANDS:
        grade, rest = _NGSS_BANDS[(t[0], t[1])], t[2:]
    elif t and t[0] in _NGSS_GRADES:
        grade, rest = t[0], t[1:]
    else:
        return None
    if not rest or not _DCI.match(rest[0]):
        return None
    if len(rest) == 1:
        return CodeKey("ngss", "domain", rest[0], grade=grade)
    if len(rest) == 2 and _NUMBER.match(rest[1]):
        return CodeKey("ngss", "standard", rest[0], grade=grade, number=str(int(rest[1])))
    return None


def _ela(t: list[str]) -> CodeKey | None:
    family, strand, rest = "ela", t[0], t[1:]
    if strand in ("CCRA", "CCR") and len(t) > 1 and t[1] in ANCHOR_STRANDS:
        family, strand, rest = "anchor", t[1], t[2:]
    elif len(t) > 1 and t[1] == "CCR" and strand in ANCHOR_STRANDS:  # Achieve the Core's R.CCR.1
        family, rest = "anchor", t[2:]
    elif strand not in ELA_STRANDS:
        return None
    grade = None
    if family == "ela":
        band = _ELA_BANDS.get(tuple(rest[:2]))
        if band and (band != "6-8" or strand in ("RH", "RST", "WHST")) and len(rest) >= 3:
            grade, rest = band, rest[2:]
        elif len(rest) >= 2 and rest[0] in _ELA_GRADES and _NUMBER.match(rest[1]):
            grade, rest = rest[0], rest[1:]
    tail = _standard_tail(rest)
    if tail is None:
        return None
    return CodeKey(family, "standard", strand, grade=grade, number=tail[0], letter=tail[1])


def _math(t: list[str]) -> CodeKey | None:
    grade = category = None
    if t[0] in _MATH_GRADES and len(t) > 1 and t[1] in GRADE_DOMAINS:
        grade, domain, rest = t[0], t[1], t[2:]
    elif t[0] == "HS" and len(t) > 2 and t[2] in HS_DOMAINS.get(t[1], ()):
        grade, category, domain, rest = "HS", t[1], t[2], t[3:]
    elif t[0] in HS_DOMAINS and len(t) > 1 and t[1] in HS_DOMAINS[t[0]]:
        grade, category, domain, rest = "HS", t[0], t[1], t[2:]
    elif t[0] in GRADE_DOMAINS or t[0] in _HS_CATEGORY_OF:  # no grade: RP.3, REI.4 (several candidates possible)
        domain, rest = t[0], t[1:]
        if domain in _HS_CATEGORY_OF:
            grade, category = "HS", _HS_CATEGORY_OF[domain]
        if not rest:  # a bare domain abbreviation is too little to be a code
            return None
    else:
        return None
    tail = _tail(rest)
    return CodeKey("math", domain=domain, grade=grade, category=category, **tail) if tail else None


def parse_code(code: str) -> CodeKey | None:
    """Parse any supported form of a CCSS/NGSS code (see the module docstring); None when it is not one. Bracketed
    parts after a code are its sub-standard letter (6.RP.A.3(b) = 6.RP.A.3b) or, when that does not parse, a part of
    the code the catalog does not list (MS-PS1-4(a) = MS-PS1-4)."""
    key = _parse_tokens(_tokens(code))
    tail = _BRACKET_TAIL.search(code.rstrip())
    return key or (_parse_tokens(_tokens(code.rstrip()[:tail.start()])) if tail and tail.start() else None)


def _parse_tokens(t: list[str]) -> CodeKey | None:
    if not t:
        return None
    if t[0] in ("MP", "SMP"):
        return CodeKey("practice", "standard", "MP", number=t[1]) if len(t) == 2 and t[1] in _PRACTICES else None
    # Achieve the Core writes ELA grade first (5.RL.1, 9-10.RL.1): put the strand first.
    if len(t) > 2 and tuple(t[:2]) in _ELA_BANDS and t[2] in ELA_STRANDS:
        t = [t[2], t[0], t[1], *t[3:]]
    elif len(t) > 1 and t[0] in _ELA_GRADES and t[1] in ELA_STRANDS:
        t = [t[1], t[0], *t[2:]]
    return _ngss(t) or _ela(t) or _math(t)


def short_code(official: str) -> str:
    """The short form the API returns: 6.RP.A.3, A-REI.B.3, MP.1, RL.5.1, MS-PS1-1."""
    if official.startswith(MATH_PRACTICE):
        return f"MP.{official[len(MATH_PRACTICE):]}"
    if official.startswith(MATH_CONTENT):
        rest = official[len(MATH_CONTENT):]
        match = re.match(r"^HS([NAFGS])[-.]([A-Z]{1,4})\.(.+)$", rest)
        return f"{match.group(1)}-{match.group(2)}.{match.group(3)}" if match else rest
    if official.startswith(ELA):
        return official[len(ELA):]
    return official


def official_math_code(short: str) -> str:
    """The ASN code of an Achieve the Core math id (6.RP.A.3a, A-REI.B.3, MP.1)."""
    if short.startswith("MP."):
        return f"{MATH_PRACTICE}{short[3:]}"
    if re.match(r"^[NAFGS]-", short):
        return f"{MATH_CONTENT}HS{short}"
    return f"{MATH_CONTENT}{short}"


def canonical(code: str) -> str:
    """The short code of a complete form without a catalog (HSA.REI.B.3 -> A-REI.B.3); other input comes back stripped.

    Forms that leave a part out (A-REI.3, RP.3) need the catalog: `Catalog.resolve_all`.
    """
    key = parse_code(code)
    return (key.short() if key else None) or code.strip()


def with_grade(key: CodeKey, grade: str | None) -> CodeKey:
    """The key with an open grade filled in (a request's grade scoping a grade-less form)."""
    return replace(key, grade=grade) if key.grade is None and grade else key


def code_spans(text: str) -> list[str]:
    """Code-shaped spans of a free text, in order (candidates only: `Catalog.mentions` keeps those that are codes)."""
    return CODE_SPAN.findall(text)


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += (ch in _BRACKETS) - (ch in _CLOSERS)
        if depth < 0:
            return False
    return depth == 0


def strip_span(span: str) -> str:
    """A written code without the punctuation around it: sentence marks and quotes at either end, brackets that enclose
    it ("(6.RP.A.3)") or are left unmatched; the brackets of a citation form stay (6.4(B), 111.26(b)(4)(B))."""
    text = span.strip()
    while True:
        before = text
        text = text.strip(_EDGE_PUNCTUATION)
        if text[:1] in _BRACKETS and text[-1:] == _BRACKETS[text[0]] and _balanced(text[1:-1]):
            text = text[1:-1]
        elif text[:1] in _BRACKETS and not _balanced(text):
            text = text[1:]
        elif text[-1:] in _CLOSERS and not _balanced(text):
            text = text[:-1]
        if text == before:
            return text


def citation_form(span: str) -> bool:
    """Whether a span is written in a parenthesized citation form (6.4(B), 111.26(b)(4)(B)): a code to the reader
    even when no framework has it. Mathematics is not one: 2.5(4), 1.5(x), f.g(x)."""
    return bool(_CITATION_PARTS.match(span))


def _inside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= start and end <= b and (a, b) != (start, end) for a, b in spans)


def framework_names(text: str) -> list[tuple[str, int, int]]:
    """The frameworks a free text names (FRAMEWORK_NAMES), as (framework id, start, end) in order of mention; a name
    inside a code (NY-6.RP.3) is the code's, not a mention."""
    codes = [m.span() for m in CODE_SPAN.finditer(text)]
    return [(_FRAMEWORK_IDS[int(m.lastgroup[1:])], m.start(), m.end()) for m in _FRAMEWORK_NAME.finditer(text)
            if not text[m.start() - 1:m.start()].isalnum() and not text[m.end():m.end() + 1].isalnum()
            and not _inside(m.start(), m.end(), codes)]


def qualified_spans(text: str) -> list[tuple[str, str | None]]:
    """Code-shaped spans of a free text in order, each with the framework whose name is written right before it
    ("TEKS 6.4(B)" -> tx-teks-2012, "ccss 7rp2" -> ccss), else None; a span inside a name (B.E.S.T.) is not one."""
    names = framework_names(text)
    out = []
    for match in CODE_SPAN.finditer(text):
        if _inside(match.start(), match.end(), [(a, b) for _, a, b in names]):
            continue
        owner = next((f for f, _, end in reversed(names)
                      if end <= match.start() and _QUALIFIER_GAP.fullmatch(text[end:match.start()])), None)
        out.append((match.group(0), owner))
    return out


def codes_in_text(text: str) -> list[str]:
    """Complete CCSS/NGSS codes written in a text, as short codes, in order of first mention.

    Forms that need the catalog (A-REI.3) are left out: use `Catalog.mentions` for those.
    """
    seen: dict[str, None] = {}
    for span in code_spans(text):
        key = parse_code(span)
        short = key.short() if key else None
        if short:
            seen.setdefault(short, None)
    return list(seen)


_JURISDICTION_PREFIX = re.compile(r"^[A-Z]{1,3}-(?=[A-Z0-9])")


def corestandards_uri_code(uri: str) -> str | None:
    """The short CCSS code of an exact-match link to corestandards.org (…/Math/Content/6/RP/A/3/a -> 6.RP.A.3a,
    …/Math/Practice/MP1 -> MP.1), parsed by parse_code; None for any other URI (asn.jesandco.org, OpenSALT)."""
    if "corestandards.org" not in uri.lower():
        return None
    key = parse_code(uri)
    return key.short() if key else None


def notation_keys(code: str) -> list[str]:
    """Lookup keys of an imported framework's code: its normal_form (case and separators ignored: 6.4(B) = 6.4.b),
    the same without separators at all (6.4B), and both without a jurisdiction prefix (NY-6.RP.3 answers to 6.RP.3)."""
    bare = _JURISDICTION_PREFIX.sub("", code.strip().upper())
    keys = [normal_form(code), normal_form(code).replace(".", ""), normal_form(bare), normal_form(bare).replace(".", "")]
    return [k for k in dict.fromkeys(keys) if k]


_CODE_PART = re.compile(r"^(?:\d{1,3}|[A-Za-z]{1,5}\d?)$")


def code_shaped(span: str) -> bool:
    """Whether a span is written like a standard code although no grammar here parses it (9.XX.Z.99, 3.XY.1): three or
    more short parts joined by dots or hyphens, at least one a number and one an abbreviation (letters, maybe one
    digit: PS1). Two parts are not enough: grade bands (K-2, 9-10), decimals and words like COVID-19 have that shape."""
    parts = re.split(r"[.-]", span)
    return (len(parts) >= 3 and all(_CODE_PART.match(p) for p in parts) and any(p.isdigit() for p in parts)
            and any(p[0].isalpha() for p in parts))


def notation_candidates(text: str) -> list[str]:
    """Spans of free text that may be codes of an imported framework ("how does 6.4.B relate to MA.6.NSO.1.1?"), in
    order of first mention; the framework's catalog keeps those it knows."""
    return list(dict.fromkeys(span for span in code_spans(text) if any(ch.isdigit() for ch in span)))
