"""One import path for every framework source: CASE CFPackage JSON, Common Standards Project set JSON, or a folder
of CSP sets with a `framework.json` registry record (how the bundled state frameworks ship)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import ijson

from edurag.standards import BUILTIN_FRAMEWORKS, Standard
from edurag.frameworks import case, csp
from edurag.framework_store import RECORD, Association, Framework, FrameworkStore
from edurag.frameworks.model import FrameworkFormatError, ImportReport

UNKNOWN_EXAMPLES = 5


@dataclass
class Source:
    """Files that make one framework, and how to read them."""

    kind: str  # case | csp
    paths: list[Path]
    framework: str | None = None
    record: dict = field(default_factory=dict)


def sniff(path: Path) -> str:
    """`case` for a CFPackage (a top-level CFDocument), `csp` for a CSP set (top-level standards); FrameworkFormatError
    for anything else (not JSON, not UTF-8, other JSON)."""
    try:
        with path.open("rb") as handle:
            for prefix, event, value in ijson.parse(handle):
                if prefix == "" and event == "map_key" and value in ("CFDocument", "standards"):
                    return "case" if value == "CFDocument" else "csp"
                if prefix == "" and event in ("start_array", "string", "number", "boolean", "null"):
                    break
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        raise FrameworkFormatError(f"{path.name}: not UTF-8 JSON ({exc})") from exc
    raise FrameworkFormatError(f"{path.name}: neither a CASE CFPackage (CFDocument) nor a Common Standards Project set (standards)")


def plan(paths: list[Path], framework: str | None = None) -> list[Source]:
    """Group paths into frameworks: a folder with framework.json is one CSP framework; other folders contribute their
    .json files; CSP sets without a record group by jurisdiction and subject (or all under `framework`)."""
    sources: list[Source] = []
    loose_sets: dict[str, Source] = {}
    files: list[Path] = []
    for path in paths:
        if path.is_dir() and (path / RECORD).exists():
            record = json.loads((path / RECORD).read_text(encoding="utf-8"))
            sets = sorted(p for p in path.glob("*.json") if p.name != RECORD)
            sources.append(Source("csp", sets, framework or record["id"], record))
        elif path.is_dir():
            files += sorted(p for p in path.rglob("*.json") if p.name != RECORD and not p.name.endswith(".schema.json"))
        else:
            files.append(path)
    for path in files:
        kind = sniff(path)
        if kind == "case":
            sources.append(Source("case", [path], framework))
            continue
        header = csp.set_header(path)
        fid = framework or case.slug(f"{(header.get('jurisdiction') or {}).get('title', '')} {header.get('normalizedSubject', '')}")
        loose_sets.setdefault(fid, Source("csp", [], fid, _csp_record(fid, header))).paths.append(path)
    for source in [*sources, *loose_sets.values()]:
        if source.framework in BUILTIN_FRAMEWORKS:
            raise FrameworkFormatError(f"{source.framework!r} is a built-in framework id; choose another with --framework")
    return sources + list(loose_sets.values())


def _csp_record(fid: str, header: dict) -> dict:
    document = header.get("document") or {}
    valid = str(document.get("valid") or "")
    return {"id": fid, "title": document.get("title") or header.get("title", fid),
            "jurisdiction": (header.get("jurisdiction") or {}).get("title", ""),
            "subject": str(header.get("normalizedSubject") or "").lower(), "version": valid,
            "adopted": int(valid) if valid.isdigit() else None, "source_url": document.get("sourceURL", ""),
            "source": "Common Standards Project set JSON"}


def read(source: Source) -> tuple[Framework, Iterator[Standard], list[Association]]:
    """The framework record, its standards (streamed for CSP) and its associations (filled while streaming)."""
    if source.kind == "case":
        package = case.validate(case.load_file(source.paths[0]))
        record, standards, associations = case.read_package(package, source.framework)
        return record, iter(standards), associations
    record = Framework(**{"format": "csp", **{k: v for k, v in source.record.items() if k in Framework.__dataclass_fields__}})
    associations: list[Association] = []

    def stream() -> Iterator[Standard]:
        for path in source.paths:
            for s in csp.read_set(path, record.id, record.subject or None):
                associations.extend(Association(origin=s.code, type="exactMatch", destination=uri, destination_uri=uri,
                                                known=False) for uri in s.exact_match)
                yield s

    return record, stream(), associations


def import_source(store: FrameworkStore, source: Source) -> ImportReport:
    """Parse and store one framework (validation errors raise FrameworkFormatError before anything is written)."""
    started = time.perf_counter()
    record, standards, associations = read(source)
    stored, unchanged, duplicates = store.write(record, standards, _after(associations))
    unknown = [a for a in associations if not a.known]
    return ImportReport(
        framework=stored.id, items=stored.items, unchanged=unchanged, duplicate_codes=duplicates,
        associations=len(associations), unknown_associations=len(unknown),
        unknown_examples=[{"origin": a.origin, "type": a.type, "destination": a.destination_uri or a.destination}
                          for a in unknown[:UNKNOWN_EXAMPLES]],
        seconds=round(time.perf_counter() - started, 2))


def _after(associations: list[Association]) -> Iterator[Association]:
    """Associations read lazily: CSP fills the list while its standards stream, so it is only complete afterwards."""
    yield from associations
