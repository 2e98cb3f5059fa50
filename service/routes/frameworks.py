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
from edurag.frameworks.model import FrameworkFormatError
from ingestion.frameworks import framework_store, ingest_frameworks, remove_framework
from service.auth import AdminDep, UserDep
from service.deps import ComponentsDep, check_k, check_text_size, crosswalker, reset_crosswalker
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
    """One framework's record with its associations, those pointing outside it counted and sampled."""
    record = next((r for r in records(c) if r.id == framework), None)
    if record is None:
        raise HTTPException(404, f"unknown framework {framework!r} (GET /frameworks lists them)")
    associations = list(framework_store(c).associations(framework))
    unknown = [a for a in associations if not a.known]
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
             responses=errors(400, 413, 422))
async def upload_framework(file: Annotated[UploadFile, File(description="CASE CFPackage JSON or Common Standards Project set JSON")],
                           request: Request, c: ComponentsDep,
                           framework: Annotated[str | None, Form(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$", description="Framework id (default: from the file).")] = None,
                           ) -> list[ImportReportOut]:
    """Import (or re-import: unchanged standards are skipped) a framework; validation failures are 400s that list
    every schema problem; associations to nodes outside the package are kept and reported."""
    limit = c.settings.max_upload_bytes
    folder = Path(tempfile.mkdtemp(prefix="edurag-framework-"))
    try:
        path = folder / "upload.json"
        size = 0
        with path.open("wb") as out:
            while chunk := await file.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise HTTPException(413, f"{file.filename or 'upload'}: larger than the {limit:,}-byte limit (EDURAG_MAX_UPLOAD_BYTES)")
                out.write(chunk)
        try:
            async with _UPLOADS:
                reports = await run_in_threadpool(ingest_frameworks, c, [path], framework)
        except FrameworkFormatError as exc:
            raise HTTPException(400, {"message": f"{file.filename or 'upload'}: {exc}; nothing was imported",
                                      "problems": exc.problems}) from exc
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    reset_crosswalker(request)
    return [ImportReportOut(**r.as_dict()) for r in reports]


@router.delete("/admin/frameworks/{framework}", response_model=FrameworkDeletedOut, dependencies=[AdminDep], responses=errors(404))
def delete_framework(framework: FrameworkParam, request: Request, c: ComponentsDep) -> FrameworkDeletedOut:
    """Remove an imported framework (built-ins cannot be removed)."""
    if framework not in {r.id for r in framework_store(c).records()}:
        raise HTTPException(404, f"no imported framework {framework!r}")
    reset_crosswalker(request)
    return FrameworkDeletedOut(framework=framework, deleted_chunks=remove_framework(c, framework))
