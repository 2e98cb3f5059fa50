"""What the registry knows about a framework, and what an import did."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Framework:
    """A standards framework: identity, scope, licence and source (the registry's record).

    `licences` lists every distinct licence of the framework's sets (a state framework may combine sets from two
    publishers); each standard also carries its own, shown wherever its text is shown."""

    id: str
    title: str
    jurisdiction: str
    subject: str
    format: str  # builtin, csp (Common Standards Project set JSON) or case (CASE CFPackage JSON)
    version: str = ""
    adopted: int | None = None
    grades: list[str] = field(default_factory=list)
    licences: list[dict[str, str]] = field(default_factory=list)
    attribution: str = ""
    source: str = ""
    source_url: str = ""
    items: int = 0
    content_hash: str = ""

    def as_dict(self) -> dict:
        """Plain dict (JSON)."""
        return asdict(self)


@dataclass
class Association:
    """A CASE CFAssociation (or a CSP exactMatch) as imported: kept even when its other end is not a known node."""

    origin: str
    type: str
    destination: str
    destination_uri: str = ""
    destination_title: str = ""
    known: bool = True


@dataclass
class ImportReport:
    """What importing one framework did: counts, duplicates, associations to nodes outside the package."""

    framework: str
    items: int
    unchanged: bool
    added: int = 0
    updated: int = 0
    skipped: int = 0
    deleted: int = 0
    duplicate_codes: int = 0
    associations: int = 0
    unknown_associations: int = 0
    unknown_examples: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        """Plain dict (JSON)."""
        return asdict(self)


class FrameworkFormatError(ValueError):
    """A file that is not a valid CASE CFPackage or CSP set; `problems` lists (where, what) pairs."""

    def __init__(self, message: str, problems: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []
