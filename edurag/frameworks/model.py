"""What an import did, and the error a bad framework file raises."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class ImportReport:
    """What importing one framework did: counts, duplicates, associations to nodes outside the package; `seconds`
    to parse and store, `index_seconds` to embed and index."""

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
    index_seconds: float = 0.0

    def as_dict(self) -> dict:
        """Plain dict (JSON)."""
        return asdict(self)


class FrameworkFormatError(ValueError):
    """A file that is not a valid CASE CFPackage or CSP set; `problems` lists (where, what) pairs."""

    def __init__(self, message: str, problems: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []
