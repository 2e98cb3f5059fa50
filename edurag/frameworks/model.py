"""What an import did, and the error a bad framework file raises."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class ImportReport:
    """What importing one framework did: counts, duplicates, associations to nodes outside the package, coded items
    skipped because their statement is empty (`empty_statements`, the first codes in `empty_examples`), the source
    sets it is built from ({id, title}); `seconds` to parse and store, `index_seconds` to embed and index."""

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
    empty_statements: int = 0
    empty_examples: list[str] = field(default_factory=list)
    sets: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    index_seconds: float = 0.0

    def as_dict(self) -> dict:
        """Plain dict (JSON)."""
        return asdict(self)


class FrameworkFormatError(ValueError):
    """A file that is not a valid CASE CFPackage or CSP set; `problems` lists {where, message} (a JSON path and a
    sentence naming it)."""

    def __init__(self, message: str, problems: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class FrameworkConflict(ValueError):
    """An import that conflicts with a stored framework, nothing written: it would replace a framework built from
    source sets the import does not include (a grade 7 set uploaded alone after grade 6; allowed when the caller asks
    to replace), or, without a framework id, it would become a second framework beside the stored one its sets
    belong to. `problems` lists {field, message} (a set id, or `framework`); `missing` the sets that would be lost:
    {framework, id, title}."""

    def __init__(self, message: str, problems: list[dict[str, str]], missing: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems
        self.missing = missing or []
