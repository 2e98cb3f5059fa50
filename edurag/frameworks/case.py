"""CASE (1EdTech Competencies and Academic Standards Exchange) CFPackage JSON, v1.0 and v1.1, read as standards.

Every package is validated against the official CASE v1.1 CFPackage JSON Schema (bundled,
edurag/data/frameworks/case-v1p1-cfpackage.schema.json) with `jsonschema`. v1.0 packages are first lifted to v1.1 by
the renames and removals between the two versions (upgrade_v1p0); nothing else is forgiven.

CFItems become standards (`humanCodingScheme` is the code, the identifier when there is none; `fullStatement`,
`educationLevel`, `CFItemType`). CFAssociations are all kept: `isChildOf` builds the hierarchy, `precedes` the
progressions, `isRelatedTo` the related links, `exactMatchOf` the exact links used by crosswalks; an association
whose other end is not in the package (another framework, a deleted node) is kept with its URI and reported.
"""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from pathlib import Path

import jsonschema

from edurag.settings import BUNDLED_FRAMEWORKS_DIR
from edurag.standards import Standard, clean, grade_name
from edurag.framework_store import Association, Framework
from edurag.frameworks.model import FrameworkFormatError

SCHEMA_PATH = BUNDLED_FRAMEWORKS_DIR / "case-v1p1-cfpackage.schema.json"
MAX_PROBLEMS = 20
# v1.0 fields v1.1 dropped: the package/document back-links and the per-item association URI.
_V1P0_DROPPED = {"CFDocument": ("CFPackageURI",), "CFItems": ("CFDocumentURI", "CFItemAssociationURI"),
                 "CFAssociations": ("CFDocumentURI",)}


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


def is_v1p0(package: dict) -> bool:
    """A v1.0 package: it carries CFPackageURI / CFDocumentURI back-links or /v1p0/ URIs."""
    document = package.get("CFDocument") or {}
    return ("CFPackageURI" in document or "/v1p0/" in str(document.get("uri", ""))
            or any("CFDocumentURI" in item for item in package.get("CFItems") or [] if isinstance(item, dict)))


def _drop_nulls(value: object) -> object:
    if isinstance(value, dict):  # a null description becomes "" (v1.1 requires one on definitions), other nulls go
        return {k: "" if v is None and k == "description" else _drop_nulls(v) for k, v in value.items()
                if v is not None or k == "description"}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def upgrade_v1p0(package: dict) -> dict:
    """A v1.1-shaped copy of a v1.0 package: back-links dropped, `educationalLevel` (an OpenSALT v1.0 spelling) ->
    `educationLevel` list, numeric-string `sequenceNumber` -> int, null fields removed (null descriptions -> "")."""
    out = _drop_nulls(copy.deepcopy(package))
    for section, fields in _V1P0_DROPPED.items():
        entries = out.get(section)
        for entry in entries if isinstance(entries, list) else [entries] if isinstance(entries, dict) else []:
            for name in fields if isinstance(entry, dict) else ():  # other shapes are the schema's to refuse
                entry.pop(name, None)
    for item in out.get("CFItems") or []:
        if isinstance(item, dict) and "educationalLevel" in item:
            level = item.pop("educationalLevel")
            item.setdefault("educationLevel", level if isinstance(level, list) else [level])
    for association in out.get("CFAssociations") or []:
        number = association.get("sequenceNumber") if isinstance(association, dict) else None
        if isinstance(number, str) and number.isdigit():
            association["sequenceNumber"] = int(number)
    return out


def validate(package: object) -> dict:
    """The package as v1.1 if it is a valid CFPackage (v1.0 lifted first); FrameworkFormatError listing up to 20
    problems (JSON path and message) otherwise."""
    if not isinstance(package, dict):
        raise FrameworkFormatError("a CASE CFPackage must be a JSON object with a CFDocument")
    version = "1.0" if is_v1p0(package) else "1.1"
    candidate = upgrade_v1p0(package) if version == "1.0" else package
    errors = sorted(_validator().iter_errors(candidate), key=lambda e: list(e.absolute_path))
    if errors:
        problems = [_problem(e) for e in errors[:MAX_PROBLEMS]]
        raise FrameworkFormatError(f"not a valid CASE v{version} CFPackage: {len(errors)} schema violation(s)", problems)
    return candidate


def _problem(error: jsonschema.ValidationError) -> dict[str, str]:
    """One schema violation as {where: JSON pointer, message: a sentence naming the place and the reason}; the value
    at fault is shown as short JSON, never as a Python repr of a whole object."""
    where = "/" + "/".join(str(p) for p in error.absolute_path)
    reason = error.message
    shown = repr(error.instance)
    if reason.startswith(shown):
        value = json.dumps(error.instance, ensure_ascii=False)
        reason = (value if len(value) <= 60 else f"{value[:57]}...") + reason[len(shown):]
    place = "the package" if where == "/" else where
    return {"where": where, "message": f"{place}: {reason[:300]}"}


def slug(text: str) -> str:
    """A framework id from a title: lower-case words joined by '-', at most 48 characters."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48].strip("-") or "framework"


def _licence(package: dict) -> dict[str, str] | None:
    document = package["CFDocument"]
    link = document.get("licenseURI") or {}
    for entry in (package.get("CFDefinitions") or {}).get("CFLicenses") or []:
        if entry.get("identifier") == link.get("identifier"):
            return {"title": entry.get("title", ""), "url": entry.get("uri", ""), "rights_holder": document.get("publisher", "")}
    if link:
        return {"title": link.get("title", ""), "url": link.get("uri", ""), "rights_holder": document.get("publisher", "")}
    return None


def read_package(package: dict, framework: str | None = None) -> tuple[Framework, list[Standard], list[Association]]:
    """Framework record, standards and every association of a validated (v1.1-shaped) package."""
    document = package["CFDocument"]
    fid = framework or slug(document["title"])
    licence = _licence(package)
    items = {item["identifier"]: item for item in package.get("CFItems") or []}
    codes = {key: (item.get("humanCodingScheme") or key).strip() for key, item in items.items()}
    subject = ",".join(document.get("subject") or []).lower()
    standards = {key: Standard(
        code=codes[key], official_code=codes[key], framework=fid, subject=subject,
        level=item.get("CFItemType") or "Standard", grades=[grade_name(g) for g in item.get("educationLevel") or []],
        text=clean(item.get("fullStatement")), details=clean(item.get("notes")), licence=licence, node_id=key,
    ) for key, item in items.items()}

    associations: list[Association] = []
    document_id = document["identifier"]
    for raw in package.get("CFAssociations") or []:
        origin, destination = raw["originNodeURI"], raw["destinationNodeURI"]
        known = origin["identifier"] in items and (destination["identifier"] in items or destination["identifier"] == document_id)
        associations.append(Association(
            origin=codes.get(origin["identifier"], origin["identifier"]), type=raw["associationType"],
            destination=codes.get(destination["identifier"], destination["identifier"]),
            destination_uri=destination.get("uri", ""), destination_title=destination.get("title", ""), known=known))
        source = standards.get(origin["identifier"])
        if source is None:
            continue
        target = codes.get(destination["identifier"]) or destination.get("uri") or destination["identifier"]
        kind = raw["associationType"]
        if kind == "isChildOf" and destination["identifier"] in items:
            source.parent = target
            standards[destination["identifier"]].children.append(source.code)
        elif kind == "precedes":
            source.progress_to.append(target)
            if destination["identifier"] in items:
                standards[destination["identifier"]].progress_from.append(source.code)
        elif kind in ("isRelatedTo", "replacedBy", "isPartOf", "hasSkillLevel"):
            source.related.append(target)
        elif kind == "exactMatchOf":
            source.exact_match.append(target)
    _headings(standards)

    record = Framework(
        id=fid, title=document["title"], jurisdiction=document.get("publisher") or document.get("creator", ""),
        subject=subject, format="case", version=str(document.get("version", "")),
        adopted=_year(document.get("statusStartDate") or document.get("lastChangeDateTime")),
        licences=[licence] if licence else [], attribution=document.get("creator", ""),
        source=f"CASE CFPackage {document.get('uri', '')}".strip(), source_url=document.get("officialSourceURL", ""),
    )
    return record, list(standards.values()), associations


def _headings(standards: dict[str, Standard]) -> None:
    """Domain = the top ancestor's statement, cluster = the parent's (CFItems have no separate heading nodes)."""
    by_code = {s.code: s for s in standards.values()}
    for s in standards.values():
        chain, node, seen = [], s, set()
        while node.parent and node.parent in by_code and node.parent not in seen:
            seen.add(node.parent)
            node = by_code[node.parent]
            chain.append(node.text)
        s.domain = chain[-1] if chain else ""
        s.cluster = chain[0] if len(chain) > 1 else ""


def _year(value: str | None) -> int | None:
    match = re.match(r"(\d{4})", value or "")
    return int(match.group(1)) if match else None


def load_file(path: Path) -> dict:
    """Parse a package file. Raises UnicodeDecodeError or json.JSONDecodeError (importer.unreadable words them)."""
    return json.loads(path.read_bytes().decode("utf-8"))
