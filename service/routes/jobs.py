"""Jobs: submit bulk summarization, follow progress, stream results (JSONL or CSV), cancel."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Annotated, Any, AsyncIterator, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from edurag.jobs.export import csv_lines, jsonl_lines
from edurag.jobs.store import JobStatus, JobView, NewItem
from edurag.jobs.tasks import INGEST_TRANSCRIPTS, REINDEX, SUMMARIZE, text_items, upload_items
from edurag.jobs.worker import (DuplicateItemIds, Jobs, NoUsableItem, TooManyItems, check_item_count, check_item_ids,
                                 start_jobs)
from service.auth import AdminCheck, AdminCheckDep, UserDep
from service.deps import ComponentsDep, check_adapter
from service.errors import errors
from service.schemas import JobCreated, JobOut, SummarizeJobRequest, SummaryOptionsIn


@asynccontextmanager
async def jobs_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the job store and start the runner after the components load; resume unfinished in-process jobs."""
    app.state.jobs = start_jobs(app.state.components)
    yield
    app.state.jobs.close()


def get_jobs(request: Request) -> Jobs:
    """The app's job store and runner."""
    return request.app.state.jobs


JobsDep = Annotated[Jobs, Depends(get_jobs)]
router = APIRouter(tags=["jobs"], dependencies=[UserDep], lifespan=jobs_lifespan)
ADMIN_JOBS = (INGEST_TRANSCRIPTS, REINDEX)  # job kinds that are admin operations


async def _multipart_items(request: Request, limit: int, text_limit: int) -> tuple[list[NewItem], dict[str, Any]]:
    form = await request.form()
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    if not uploads:
        raise HTTPException(422, "multipart upload needs one or more `files` (.txt, .vtt, .jsonl)")
    items: list[NewItem] = []
    for upload in uploads:
        items += upload_items(await upload.read(limit + 1), upload.filename or "upload", limit, text_limit)
    fields = {k: str(form[k]) for k in SummaryOptionsIn.model_fields if form.get(k) not in (None, "")}
    try:
        options = SummaryOptionsIn.model_validate_strings(fields)
    except ValidationError as exc:
        raise HTTPException(422, [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                                  for e in exc.errors()]) from exc
    return items, options.model_dump()


async def _json_items(request: Request, limit: int) -> tuple[list[NewItem], dict[str, Any]]:
    try:
        body = SummarizeJobRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        raise HTTPException(422, [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                                  for e in exc.errors()]) from exc
    return text_items(body.pairs(), limit), body.model_dump(exclude={"texts", "items"})


FILES_SCHEMA = {"type": "array", "minItems": 1, "items": {"type": "string", "format": "binary"},
                "description": ".txt, .vtt, .srt or .jsonl transcripts; a file or line that cannot be read is rejected "
                               "as an item (listed in the job's errors), the rest run."}
JOB_BODY = {"required": True, "description": "JSON texts/items, or a multipart upload of transcript files.", "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/SummarizeJobRequest"}},
    "multipart/form-data": {"schema": {"$ref": "#/components/schemas/SummarizeJobUpload"}},
}}


def document_body(app: FastAPI) -> None:
    """Put the two documented bodies of POST /jobs/summarize into the app's OpenAPI components."""
    schema = SummarizeJobRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    options = SummaryOptionsIn.model_json_schema(ref_template="#/components/schemas/{model}")
    upload = {"type": "object", "required": ["files"], "properties": {"files": FILES_SCHEMA, **options["properties"]}}
    extra = {**schema.pop("$defs", {}), **options.pop("$defs", {}), "SummarizeJobRequest": schema,
             "SummarizeJobUpload": upload}
    app.state.extra_schemas = {**getattr(app.state, "extra_schemas", {}), **extra}


@router.post("/jobs/summarize", status_code=202, response_model=JobCreated, openapi_extra={"requestBody": JOB_BODY},
             responses=errors(400, 404, 413, 415, 422))
async def submit_summarize(request: Request, c: ComponentsDep, jobs: JobsDep) -> JobCreated:
    """Queue a bulk summarization: JSON texts/items or multipart files; bad items are rejected, the rest run."""
    content_type = request.headers.get("content-type", "")
    s = c.settings
    if content_type.startswith("multipart/form-data"):
        items, params = await _multipart_items(request, s.max_upload_bytes, s.max_text_bytes)
    elif content_type.startswith("application/json"):
        items, params = await _json_items(request, s.max_text_bytes)
    else:
        raise HTTPException(415, "send application/json ({\"texts\": [...]} or {\"items\": [...]}) or multipart files")
    try:
        check_item_count(items, s.max_job_items)
    except TooManyItems as exc:
        raise HTTPException(413, str(exc)) from exc
    try:
        check_item_ids(items)
    except DuplicateItemIds as exc:
        raise HTTPException(422, str(exc)) from exc
    check_adapter(params["adapter"], c)
    try:
        job_id = jobs.submit(SUMMARIZE, items, params)
    except NoUsableItem as exc:
        raise HTTPException(422, {"message": str(exc), "errors": exc.errors}) from exc
    rejected = sum(1 for item in items if item.error)
    return JobCreated(id=job_id, status=JobStatus.QUEUED, total=len(items), rejected=rejected)


def _view(jobs: Jobs, job_id: str, admin: AdminCheck) -> JobView:
    """The job; 404 if unknown. The job of an admin operation (transcript ingest, re-index) is the admin's, as the
    operation was: its file names, progress and cancel need `admin()` to pass (it returns the 401/403 to raise)."""
    view = jobs.store.get(job_id)
    if view is None:
        raise HTTPException(404, f"no job {job_id!r}")
    if view.kind in ADMIN_JOBS and (rejection := admin()):
        raise rejection
    return view


@router.get("/jobs/{job_id}", response_model=JobOut, responses=errors(401, 403, 404))
def get_job(job_id: str, jobs: JobsDep, admin: AdminCheckDep) -> JobOut:
    """Status, progress (done/total), rate, ETA and per-item errors (a transcript ingest or re-index job: admin key)."""
    return JobOut.of(_view(jobs, job_id, admin))


@router.get("/jobs/{job_id}/results", responses={200: {"description": "JSONL (default) or CSV rows, one per finished item",
                                                  "content": {"application/x-ndjson": {}, "text/csv": {}}},
                                                  **errors(401, 403, 404, 422)})
def job_results(job_id: str, jobs: JobsDep, admin: AdminCheckDep,
                format: Annotated[Literal["jsonl", "csv"], Query(description="jsonl (default) or csv")] = "jsonl",
                ) -> StreamingResponse:
    """Stream the finished items in input order (partial while the job runs)."""
    _view(jobs, job_id, admin)
    rows = jobs.store.results(job_id)
    if format == "csv":
        return StreamingResponse(csv_lines(rows), media_type="text/csv",
                                 headers={"Content-Disposition": f'attachment; filename="{job_id}.csv"'})
    return StreamingResponse(jsonl_lines(rows), media_type="application/x-ndjson")


@router.delete("/jobs/{job_id}", response_model=JobOut, responses=errors(401, 403, 404, 409))
def cancel_job(job_id: str, jobs: JobsDep, admin: AdminCheckDep) -> JobOut:
    """Cancel a queued or running job; items already finished keep their results (409 if it already ended; a
    transcript ingest or re-index job: admin key)."""
    view = _view(jobs, job_id, admin)
    if not jobs.store.cancel(job_id):
        raise HTTPException(409, f"job {job_id} already {view.status}")
    return JobOut.of(_view(jobs, job_id, admin))
