"""The one place that maps standard-code formats: ASN official codes, Achieve the Core short codes, NGSS ids,
corestandards.org URIs, and the notation keys that resolve codes within any imported framework."""

from __future__ import annotations

import re

MATH_CONTENT = "CCSS.Math.Content."
MATH_PRACTICE = "CCSS.Math.Practice.MP"
ELA = "CCSS.ELA-Literacy."

_HS_MATH = re.compile(r"^HS([NAFGS])[-.]([A-Z]{1,4})\.(.+)$")
_NGSS = re.compile(r"^(K|[1-5]|MS|HS)-[A-Z]{2,4}\d-\d+$", re.IGNORECASE)
_MP = re.compile(r"^MP\.?(\d)$", re.IGNORECASE)
# A code as it appears in free text ("how does 6.RP.A.3 relate to 7.RP.A.2?").
CODE_IN_TEXT = re.compile(
    r"\b(?:CCSS\.[\w.-]+|(?:K|[1-8])\.[A-Z]{1,4}\.[A-Z]\.\d+[a-z]?|[NAFGS]-[A-Z]{2,3}\.[A-Z]\.\d+[a-z]?"
    r"|(?:RL|RI|RF|W|SL|L|RH|RST|WHST|CCRA\.[A-Z]{1,2})\.(?:K|\d{1,2}(?:-\d{1,2})?)\.\d+[a-z]?"
    r"|(?:K|[1-5]|MS|HS)-[A-Z]{2,4}\d-\d+|MP\.?\d)\b"
)


def short_code(official: str) -> str:
    """The short form the API returns: 6.RP.A.3, A-REI.B.3, MP.1, RL.5.1, MS-PS1-1."""
    if official.startswith(MATH_PRACTICE):
        return f"MP.{official[len(MATH_PRACTICE):]}"
    if official.startswith(MATH_CONTENT):
        rest = official[len(MATH_CONTENT):]
        match = _HS_MATH.match(rest)
        return f"{match.group(1)}-{match.group(2)}.{match.group(3)}" if match else rest
    if official.startswith(ELA):
        return official[len(ELA):]
    return official


def official_math_code(short: str) -> str:
    """The ASN code of an Achieve the Core math id (6.RP.A.3a, A-REI.B.3, MP.1)."""
    mp = _MP.match(short)
    if mp:
        return f"{MATH_PRACTICE}{mp.group(1)}"
    if re.match(r"^[NAFGS]-", short):
        return f"{MATH_CONTENT}HS{short}"
    return f"{MATH_CONTENT}{short}"


def canonical(code: str) -> str:
    """Best short-form guess for any user-typed code; the catalog resolves the rest (old alt codes)."""
    code = code.strip()
    if code.upper().startswith("CCSS."):
        return short_code(code)
    match = _HS_MATH.match(code)
    if match:
        return f"{match.group(1)}-{match.group(2)}.{match.group(3)}"
    mp = _MP.match(code)
    if mp:
        return f"MP.{mp.group(1)}"
    if _NGSS.match(code):
        return code.upper()
    return code


def codes_in_text(text: str) -> list[str]:
    """Standard codes mentioned in free text, canonicalized, in order of first mention."""
    seen: dict[str, None] = {}
    for raw in CODE_IN_TEXT.findall(text):
        seen.setdefault(canonical(raw), None)
    return list(seen)


_CORESTANDARDS_URI = re.compile(r"^https?://(?:www\.)?corestandards\.org/Math/(Content|Practice)/(.+?)/?$", re.I)
# A token that may be a framework's code: starts and ends alphanumeric, holds a digit and a separator (6.4.B, MA.6.NSO.1.1).
_NOTATION_TOKEN = re.compile(r"(?<![\w.])[A-Za-z0-9][A-Za-z0-9.\-()]*[A-Za-z0-9)](?![\w])")
_JURISDICTION_PREFIX = re.compile(r"^[A-Z]{1,3}-(?=[A-Z0-9])")


def corestandards_uri_code(uri: str) -> str | None:
    """The short CCSS math code of a corestandards.org URI (…/Math/Content/6/RP/A/3/a -> 6.RP.A.3a,
    …/Math/Content/HSF/LE/A/1/c -> F-LE.A.1c, …/Math/Practice/MP1 -> MP.1), or None for other URIs."""
    match = _CORESTANDARDS_URI.match(uri.strip())
    if not match:
        return None
    kind, path = match.groups()
    parts = path.split("/")
    if kind.lower() == "practice":
        return canonical(parts[-1])
    if len(parts) > 3 and len(parts[-1]) == 1 and parts[-1].isalpha():  # a sub-standard letter joins its number
        parts = [*parts[:-2], parts[-2] + parts[-1]]
    dotted = ".".join(parts)
    if parts[0].startswith("HS"):  # HSF/LE/A/1 -> HSF-LE.A.1 (the ASN form)
        dotted = f"{parts[0]}-{'.'.join(parts[1:])}"
    return short_code(MATH_CONTENT + dotted)


def notation_keys(code: str) -> list[str]:
    """Loose lookup keys of a framework code: case, spaces and separators ignored (6.4.B = 6.4(B) = 6.4b), and the
    same without a jurisdiction prefix (NY-6.RP.3 also answers to 6.RP.3). Exact codes are always tried first."""
    loose = re.sub(r"[^A-Z0-9]", "", code.upper())
    keys = [loose] if loose else []
    bare = _JURISDICTION_PREFIX.sub("", code.strip().upper())
    if bare != code.strip().upper():
        keys.append(re.sub(r"[^A-Z0-9]", "", bare))
    return keys


def notation_candidates(text: str) -> list[str]:
    """Tokens of free text that may be codes of some framework ("how does 6.4.B relate to MA.6.NSO.1.1?"),
    in order of first mention; a framework's catalog keeps those it knows."""
    seen: dict[str, None] = {}
    for token in _NOTATION_TOKEN.findall(text):
        token = token.rstrip(".")
        if any(ch.isdigit() for ch in token) and any(ch in ".-" for ch in token):
            seen.setdefault(token, None)
    return list(seen)
