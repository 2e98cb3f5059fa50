"""Frameworks: the registry (GET /frameworks), crosswalks between frameworks, coverage reports, admin import."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Path as PathParam, Query, Request, UploadFile
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from edurag.components import Components
from edurag.framework_store import builtin_records
from edurag.frameworks.crosswalk import compare
from edurag.frameworks.importer import unresolved
from edurag.frameworks.model import FrameworkConflict, FrameworkFormatError
from edurag.standards import BUILTIN_FRAMEWORKS
from ingestion.frameworks import framework_store, ingest_frameworks, remove_framework
from service.auth import AdminDep, UserDep
from service.deps import ComponentsDep, check_k, check_text_size, crosswalker
from service.errors import errors
from service.schemas import (CompareOut, CoverageRowOut, CrosswalkOut, CrosswalkRequest, FrameworkDeletedOut,
                             FrameworkDetailOut, FrameworkOut, ImportReportOut)

# One upload imports at a time (imports of one framework must not interleave); the import runs in a worker thread so
# the other routes keep answering while it embeds.
_UPLOADS = asyncio.Lock()

router = APIRouter(tags=["frameworks"])
FrameworkParam = Annotated[str, PathParam(examples=["ccss"], description="Framework id (GET /frameworks).")]


def records(c: Components) -> list[FrameworkOut]:
    """Built-in and imported frameworks, with their standard counts in the live catalog."""
    out = []
    for record in [*builtin_records(c.settings.standards_dir), *framework_store(c).records()]:
        record.items = c.catalog.size(record.id)
        if record.format == "builtin":
            record.grades = sorted({g for s in c.catalog.by_framework.get(record.id, {}).values() for g in s.grades},
                                   key=lambda g: (len(g) > 1 and g != "PK", g.isdigit() and int(g), g))
        out.append(FrameworkOut(**record.as_dict()))
    return out


def titles(c: Components) -> dict[str, str]:
    """Each framework's title by id, built-in and imported (what the web forms' Framework choices show), without
    records()'s counts."""
    return {r.id: r.title for r in [*builtin_records(c.settings.standards_dir), *framework_store(c).records()]}


def check_framework(framework: str | None, c: Components) -> None:
    """404 naming the known frameworks when `framework` is not one of them."""
    if framework is not None and framework not in c.catalog.frameworks():
        raise HTTPException(404, f"unknown framework {framework!r}; known: {', '.join(sorted(c.catalog.frameworks()))} (GET /frameworks)")


@router.get("/frameworks", response_model=list[FrameworkOut], dependencies=[UserDep])
def list_frameworks(c: ComponentsDep) -> list[FrameworkOut]:
    """Every framework: id, title, jurisdiction, subject, grades, version/adoption year, licences, source, size."""
    return records(c)


@router.get("/frameworks/{framework}", response_model=FrameworkDetailOut, responses=errors(404), dependencies=[UserDep])
def get_framework(framework: FrameworkParam, c: ComponentsDep) -> FrameworkDetailOut:
    """One framework's record with its associations, those edurag cannot resolve (neither in the framework nor a
    built-in CCSS standard) counted and sampled."""
    record = next((r for r in records(c) if r.id == framework), None)
    if record is None:
        raise HTTPException(404, f"unknown framework {framework!r} (GET /frameworks lists them)")
    associations = list(framework_store(c).associations(framework))
    unknown = unresolved(associations, c.catalog)
    return FrameworkDetailOut(**record.model_dump(), associations=len(associations), unknown_associations=len(unknown),
                              unknown_examples=[{"origin": a.origin, "type": a.type, "destination": a.destination_uri or a.destination}
                                                for a in unknown[:20]])


@router.post("/crosswalk", response_model=CrosswalkOut, responses=errors(400, 404, 413, 422), dependencies=[UserDep])
def crosswalk_route(body: CrosswalkRequest, request: Request, c: ComponentsDep) -> CrosswalkOut:
    """The k standards of `to` closest to a standard of `from` (by code) or to a text, with score, label
    (exact / close / partial / none), shared key terms, and source-data exact links ranked first."""
    check_framework(body.from_, c)
    check_framework(body.to, c)
    check_k(body.k, c)
    source = None
    if body.code is not None:
        source = c.catalog.resolve(body.code, body.from_)
        if source is None:
            raise HTTPException(404, f"unknown code {body.code!r} in framework {body.from_!r}")
    else:
        check_text_size(body.text or "", c)
    matches = crosswalker(request).crosswalk(body.to, source=source, text=body.text, k=body.k, grades=body.grades)
    return CrosswalkOut(**{"from": body.from_}, to=body.to, code=source.code if source else None,
                        text=source.text if source else body.text, licence=source.licence if source else None,
                        matches=[m.as_dict() for m in matches])


@router.get("/frameworks/{a}/compare/{b}", response_model=CompareOut, dependencies=[UserDep],
            responses={**errors(404, 422), 200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                                          "description": "The report (JSON, or CSV with format=csv)."}})
def compare_route(a: FrameworkParam, b: Annotated[str, PathParam(examples=["ngss"], description="Framework id.")],
                  request: Request, c: ComponentsDep,
                  grade: Annotated[str | None, Query(pattern=r"^(PK|K|[1-9]|1[0-2])$", description="Only A's standards of this grade.")] = None,
                  format: Annotated[str, Query(pattern="^(json|csv)$", description="json (default) or csv.")] = "json"):
    """Coverage of framework A by B: best match in B per standard of A, those with no good match, grade shifts."""
    check_framework(a, c)
    check_framework(b, c)
    report = compare(crosswalker(request), a, b, grade)
    if format == "csv":
        return PlainTextResponse(report.to_csv(), media_type="text/csv")
    rows = [CoverageRowOut(**vars(r)) for r in report.rows]
    return CompareOut(source=a, target=b, grade=grade, summary=report.summary(), rows=rows,
                      no_good_match=[r.code for r in report.no_good_match],
                      grade_shifts=[r.code for r in report.grade_shifts])


@router.post("/admin/frameworks", response_model=list[ImportReportOut], dependencies=[AdminDep],
             responses=errors(400, 409, 413, 422))
async def upload_framework(
        file: Annotated[list[UploadFile], File(min_length=1, description="CASE CFPackage JSON or Common Standards Project set JSON; "
                                                "repeat the field to send several sets (TEKS grade 6 and grade 7): the "
                                                "sets of one jurisdiction and subject make one framework")],
        c: ComponentsDep,
        framework: Annotated[str | None, Form(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$", description="Framework id (default: from the file).")] = None,
        replace: Annotated[bool, Form(description="Replace a stored framework even when it was built from sets this "
                                                  "upload does not include (default false: 409, nothing changed).")] = False,
) -> list[ImportReportOut]:
    """Import (or re-import: unchanged standards are skipped) one or more frameworks from the uploaded files.

    The Common Standards Project sets of one jurisdiction and subject merge into one framework, as `edurag ingest
    framework PATH...` merges them. A framework is replaced whole by the sets uploaded for it, so an upload that
    lacks a set the stored framework was built from (grade 7 alone after grade 6) is refused with 409 naming the
    missing sets, and nothing changes; upload every set together, or send `replace=true`. A file that is not a valid
    CASE package or CSP set is a 400 naming the file and listing every schema problem; associations to nodes outside
    the package are kept and reported; coded items with an empty statement are skipped and counted
    (`empty_statements`)."""
    limit = c.settings.max_upload_bytes
    folder = Path(tempfile.mkdtemp(prefix="edurag-framework-"))
    try:
        paths = []
        size = 0
        for index, upload in enumerate(file):
            path = folder / str(index) / upload_name(upload.filename, index)
            path.parent.mkdir()
            with path.open("wb") as out:
                while chunk := await upload.read(1 << 20):
                    size += len(chunk)
                    if size > limit:
                        raise HTTPException(413, f"{path.name}: the upload is larger than the {limit:,}-byte limit (EDURAG_MAX_UPLOAD_BYTES)")
                    out.write(chunk)
            paths.append(path)
        try:
            async with _UPLOADS:
                reports = await run_in_threadpool(ingest_frameworks, c, paths, framework, False, replace)
        except FrameworkFormatError as exc:
            raise HTTPException(400, {"message": f"{exc}; nothing was imported", "problems": exc.problems}) from exc
        except FrameworkConflict as exc:
            raise HTTPException(409, {"message": str(exc), "problems": exc.problems}) from exc
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return [ImportReportOut(**r.as_dict()) for r in reports]


def upload_name(filename: str | None, index: int) -> str:
    """The uploaded file's own name, so errors name it (its last path part; a placeholder when it has none or it
    cannot be a file name)."""
    name = Path((filename or "").replace("\\", "/")).name
    if not name or name in (".", "..") or "\0" in name or len(name.encode("utf-8", "replace")) > 200:
        return f"upload-{index + 1}.json"
    return name


@router.delete("/admin/frameworks/{framework}", response_model=FrameworkDeletedOut, dependencies=[AdminDep],
               responses=errors(404, 409))
def delete_framework(framework: FrameworkParam, c: ComponentsDep) -> FrameworkDeletedOut:
    """Remove an imported framework: its standards, chunks and registry record (409 for the built-in CCSS and NGSS,
    which come with the product's standards data)."""
    if framework in BUILTIN_FRAMEWORKS:
        raise HTTPException(409, f"{framework} is a built-in framework (the product's bundled standards data); only "
                                 "imported frameworks can be removed")
    if framework not in {r.id for r in framework_store(c).records()}:
        raise HTTPException(404, f"no imported framework {framework!r} (GET /frameworks lists them)")
    return FrameworkDeletedOut(framework=framework, deleted_chunks=remove_framework(c, framework))
