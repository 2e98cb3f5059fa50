"""One import path for every framework source: CASE CFPackage JSON, Common Standards Project set JSON, or a folder
of CSP sets with a `framework.json` registry record (how the bundled state frameworks ship)."""

from __future__ import annotations

import codecs
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import ijson

from edurag.codes import corestandards_uri_code
from edurag.encoding import SAVE_AS_UTF8_JSON, not_utf8
from edurag.standards import BUILTIN_FRAMEWORKS, Catalog, Standard
from edurag.frameworks import case, csp
from edurag.framework_store import RECORD, Association, Framework, FrameworkStore
from edurag.frameworks.model import FrameworkConflict, FrameworkFormatError, ImportReport

UNKNOWN_EXAMPLES = 5
_YAJL_PLACE = re.compile(r"\s*\(right here\).*", re.S)


@dataclass
class Source:
    """Files that make one framework, and how to read them."""

    kind: str  # case | csp
    paths: list[Path]
    framework: str | None = None
    record: dict = field(default_factory=dict)
    sets: list[dict[str, str]] = field(default_factory=list)  # {id, title} of each file (CSP set, CASE CFDocument)
    named: bool = True  # False when the id was derived from the files (no `framework` given, no framework.json)


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
        raise unreadable(path, exc) from exc
    raise FrameworkFormatError(f"{path.name}: neither a CASE CFPackage (CFDocument) nor a Common Standards Project set (standards)")


def unreadable(path: Path, exc: Exception) -> FrameworkFormatError:
    """The error for a file that is not UTF-8 JSON, in words: the first byte that is not UTF-8, or the JSON parser's
    own reason (yajl's message without its byte dump)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
                offset += len(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError as bad:
        return FrameworkFormatError(not_utf8(path.name, bad, offset, SAVE_AS_UTF8_JSON))
    reason = exc.args[0] if exc.args else str(exc)
    reason = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    reason = _YAJL_PLACE.sub("", reason).split("\n")[0].strip().rstrip(".") or type(exc).__name__
    return FrameworkFormatError(f"{path.name}: not valid JSON ({reason})")


def framework_folders(root: Path) -> list[Path]:
    """The framework folders in root, in name order (settings.frameworks_dir: the frameworks shipped with edurag)."""
    return sorted(p for p in root.iterdir() if p.is_dir())


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
            sources.append(Source("csp", sets, framework or record["id"], record,
                                  [_set_of(p, csp.set_header(p)) for p in sets]))
        elif path.is_dir():
            files += sorted(p for p in path.rglob("*.json") if p.name != RECORD and not p.name.endswith(".schema.json"))
        else:
            files.append(path)
    for path in files:
        kind = sniff(path)
        if kind == "case":
            document = _document_of(path)
            sources.append(Source("case", [path], framework or case.slug(document["title"]), sets=[document],
                                  named=framework is not None))
            continue
        header = _header(path)
        fid = framework or case.slug(f"{(header.get('jurisdiction') or {}).get('title', '')} {header.get('normalizedSubject', '')}")
        source = loose_sets.setdefault(fid, Source("csp", [], fid, _csp_record(fid, header), named=framework is not None))
        source.paths.append(path)
        source.sets.append(_set_of(path, header))
    for source in [*sources, *loose_sets.values()]:
        if source.framework in BUILTIN_FRAMEWORKS:
            raise FrameworkFormatError(f"{source.framework!r} is a built-in framework id; choose another with --framework")
    return sources + list(loose_sets.values())


def _header(path: Path) -> dict:
    try:
        return csp.set_header(path)
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        raise unreadable(path, exc) from exc


def _set_of(path: Path, header: dict) -> dict[str, str]:
    """A CSP set as a framework records it: the set's id (the file name when it has none) and title."""
    return {"id": str(header.get("id") or path.name), "title": str(header.get("title") or path.stem)}


def _document_of(path: Path) -> dict[str, str]:
    """A CASE package as a framework records it: its CFDocument's identifier and title."""
    document = {}
    try:
        with path.open("rb") as handle:
            document = next(ijson.items(handle, "CFDocument"), None) or {}
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        raise unreadable(path, exc) from exc
    return {"id": str(document.get("identifier") or path.name), "title": str(document.get("title") or path.stem)}


def check_replacements(store: FrameworkStore, sources: list[Source]) -> None:
    """FrameworkConflict when a source would replace a stored framework built from sets it does not include (its
    standards of those sets would be lost): checked for every source before anything is written. A framework stored
    without its sets listed (before they were recorded) is replaced as before."""
    missing: list[dict[str, str]] = []
    for source in sources:
        stored = store.record(source.framework) if source.framework else None
        ids = {s["id"] for s in source.sets}
        missing += [{"framework": stored.id, **s} for s in (stored.sets if stored else []) if s["id"] not in ids]
    if missing:
        frameworks = sorted({m["framework"] for m in missing})
        lost = ", ".join(f"{m['title']} ({m['id']})" for m in missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise FrameworkConflict(
            f"{', '.join(frameworks)} {'is' if len(frameworks) == 1 else 'are'} built from {len(missing)} set(s) this "
            f"import does not include: {lost}; importing would replace {'it' if len(frameworks) == 1 else 'them'} and "
            "drop their standards. Import every set of the framework together (several files in one upload, or "
            "several paths), or ask to replace it (replace=true, --replace); nothing was changed",
            [{"field": m["id"], "message": f"{m['framework']} holds the set {m['title']} ({m['id']}), which this "
                                           "import lacks"} for m in missing], missing)


def check_duplicates(store: FrameworkStore, sources: list[Source]) -> None:
    """FrameworkConflict when a source whose id was derived from its files (no framework id given) would become a new
    framework beside a stored one it belongs to: a stored framework built from one of its sets (same CSP set id or
    CASE CFDocument identifier), or a stored CSP framework of the same jurisdiction and subject (what makes one
    framework when sets are imported together). A TEKS grade 7 set uploaded alone would otherwise be stored as
    `texas-math` beside `tx-teks-2012`, every TEKS code then in two frameworks. Checked before anything is written,
    `replace` or not; the message names the stored framework and the id to send to update it. A derived id that is
    itself stored (an earlier import under it) is updated as before."""
    records = store.records()
    problems: list[dict[str, str]] = []
    sentences: list[str] = []
    targets: set[str] = set()
    for source in sources:
        if source.named or store.record(source.framework) is not None:
            continue
        ids = {s["id"] for s in source.sets}
        scope = (source.record.get("jurisdiction", ""), source.record.get("subject", ""))
        for record in records:
            shared = [s for s in record.sets if s["id"] in ids]
            same_scope = (source.kind == "csp" and record.format == "csp" and all(scope)
                          and (record.jurisdiction.lower(), record.subject.lower()) == (scope[0].lower(), scope[1].lower()))
            if not (shared or same_scope):
                continue
            targets.add(record.id)
            if shared:
                why = (f"{record.id} ({record.title}) is built from " + ", ".join(f"{s['title']} ({s['id']})" for s in shared[:5])
                       + (" ..." if len(shared) > 5 else ""))
                problems += [{"field": s["id"], "message": f"{s['title']} ({s['id']}) is a set of {record.id}"} for s in shared]
            else:
                why = f"{record.id} ({record.title}) is the stored {scope[0]} {scope[1]} framework"
                problems.append({"field": "framework", "message": f"{scope[0]} {scope[1]} is stored as {record.id}"})
            sentences.append(f"without a framework id this upload would become a second framework, {source.framework}, "
                             f"beside {record.id}: {why}")
    if sentences:
        update = " or ".join(f"framework={t} (--framework {t})" for t in sorted(targets))
        raise FrameworkConflict(
            "; ".join(sentences) + f". To update it, send {update} with every set it is built from (or with "
            "replace=true to keep only these); to keep a separate framework on purpose, give it a new id with "
            "framework=ID; nothing was changed", problems)


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
        try:
            package = case.validate(case.load_file(source.paths[0]))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise unreadable(source.paths[0], exc) from exc
        except FrameworkFormatError as exc:
            message = str(exc) if str(exc).startswith(source.paths[0].name) else f"{source.paths[0].name}: {exc}"
            raise FrameworkFormatError(message, exc.problems) from exc
        record, standards, associations = case.read_package(package, source.framework)
        record.sets = sorted(source.sets, key=lambda s: s["id"])
        return record, iter(standards), associations
    record = Framework(**{"format": "csp", **{k: v for k, v in source.record.items() if k in Framework.__dataclass_fields__}})
    record.sets = sorted(source.sets, key=lambda s: s["id"])
    associations: list[Association] = []

    def stream() -> Iterator[Standard]:
        for path in source.paths:
            for s in csp.read_set(path, record.id, record.subject or None):
                associations.extend(Association(origin=s.code, type="exactMatch", destination=uri, destination_uri=uri,
                                                known=False) for uri in s.exact_match)
                yield s

    return record, stream(), associations


def outside_code(catalog: Catalog, association: Association) -> str | None:
    """The built-in standard an association's outside end names: a corestandards.org link to a CCSS standard or
    sub-standard of the catalog (California's exactMatch …/Math/Content/6/RP/A/3 -> 6.RP.A.3, which the crosswalk
    ranks first as exact); None for anything else (an OpenSALT node URI, a web page)."""
    code = corestandards_uri_code(association.destination_uri or association.destination)
    return code if code and catalog.get(code, "ccss") else None


def unresolved(associations: list[Association], catalog: Catalog | None = None) -> list[Association]:
    """Associations whose other end edurag cannot name: not a node of the framework itself and, given the catalog,
    not a built-in standard either (`outside_code`). This is what `unknown_associations` counts."""
    return [a for a in associations if not a.known and (catalog is None or outside_code(catalog, a) is None)]


def import_source(store: FrameworkStore, source: Source, catalog: Catalog | None = None) -> ImportReport:
    """Parse and store one framework (validation errors, malformed JSON included, raise FrameworkFormatError and
    nothing is written). Coded items with an empty statement are skipped and counted (`empty_statements`): they
    would be chunks without text. Associations are counted, and those edurag cannot resolve (`unresolved`: with the
    catalog, links to CCSS standards resolve) sampled."""
    started = time.perf_counter()
    record, standards, associations = read(source)
    empty: list[str] = []

    def with_text() -> Iterator[Standard]:
        for s in standards:
            if s.text:
                yield s
            else:
                empty.append(s.code)

    try:
        stored, unchanged, duplicates = store.write(record, with_text(), _after(associations))
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        raise unreadable(source.paths[0] if len(source.paths) == 1 else _failing(source.paths), exc) from exc
    unknown = unresolved(associations, catalog)
    return ImportReport(
        framework=stored.id, items=stored.items, unchanged=unchanged, duplicate_codes=duplicates,
        associations=len(associations), unknown_associations=len(unknown),
        unknown_examples=[{"origin": a.origin, "type": a.type, "destination": a.destination_uri or a.destination}
                          for a in unknown[:UNKNOWN_EXAMPLES]],
        empty_statements=len(empty), empty_examples=empty[:UNKNOWN_EXAMPLES], sets=record.sets,
        seconds=round(time.perf_counter() - started, 2))


def _failing(paths: list[Path]) -> Path:
    """The first of several files that does not parse to the end."""
    for path in paths:
        try:
            with path.open("rb") as handle:
                for _ in ijson.parse(handle):
                    pass
        except (ijson.JSONError, UnicodeDecodeError):
            return path
    return paths[0]


def _after(associations: list[Association]) -> Iterator[Association]:
    """Associations read lazily: CSP fills the list while its standards stream, so it is only complete afterwards."""
    yield from associations
