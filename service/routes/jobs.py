"""Jobs: submit bulk summarization, follow progress, stream results (JSONL or CSV), cancel."""

from __future__ import annotations

import csv
import io
import json
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, AsyncIterator, Iterator, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema
from starlette.datastructures import UploadFile

from edurag.jobs.store import JobStore, JobView, NewItem, open_store
from edurag.jobs.tasks import SUMMARIZE, text_items, upload_items
from edurag.jobs.worker import Runner, make_runner
from service.auth import UserDep
from service.deps import ComponentsDep, check_adapter
from service.errors import errors
from service.schemas import StrictModel, SummaryOptionsIn

CSV_FIELDS = ("id", "title", "status", "summary", "key_terms", "budget_words", "words", "chunks", "error")


@dataclass
class Jobs:
    """The job store and the runner that executes work, shared by the job and admin routes."""

    store: JobStore
    runner: Runner


@asynccontextmanager
async def jobs_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the job store and start the runner after the components load; resume unfinished in-process jobs."""
    components = app.state.components
    store = open_store(components.settings)
    runner = make_runner(components, store)
    runner.resume()
    app.state.jobs = Jobs(store=store, runner=runner)
    yield
    runner.close()


def get_jobs(request: Request) -> Jobs:
    """The app's job store and runner."""
    return request.app.state.jobs


JobsDep = Annotated[Jobs, Depends(get_jobs)]
router = APIRouter(tags=["jobs"], dependencies=[UserDep], lifespan=jobs_lifespan)


NonBlank = Annotated[str, Field(pattern=r"\S")]


class ItemIn(StrictModel):
    """One text with the id its result carries."""

    id: str = Field(min_length=1, max_length=500)
    text: NonBlank


class SummarizeJobRequest(SummaryOptionsIn):
    """Either plain texts (ids are their positions) or items with ids (exactly one of the two, not empty), and the
    summary options for all of them."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": [{"required": ["texts"]}, {"required": ["items"]}]})

    texts: Annotated[list[NonBlank], Field(min_length=1)] | SkipJsonSchema[None] = None
    items: Annotated[list[ItemIn], Field(min_length=1)] | SkipJsonSchema[None] = None

    @field_validator("texts", "items", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must be a list (leave the field out instead of sending null)")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> SummarizeJobRequest:
        if (self.texts is None) == (self.items is None):
            raise ValueError("send exactly one of texts or items")
        if not (self.texts or self.items):
            raise ValueError("no texts to summarize")
        return self


class JobCreated(BaseModel):
    """A submitted job."""

    id: str
    status: str
    total: int
    rejected: int = 0


class Progress(BaseModel):
    """Items finished out of the total, with the share that failed."""

    done: int
    total: int
    succeeded: int
    failed: int
    percent: float


class JobOut(BaseModel):
    """A job's status, progress, speed and per-item errors."""

    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress: Progress
    rate_per_second: float | None
    eta_seconds: float | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    params: dict[str, Any]
    errors: list[dict[str, str]]
    result: dict[str, Any] | None = None
    error: str | None = None


def job_out(view: JobView) -> JobOut:
    """API shape of a stored job."""
    percent = round(100.0 * view.done / view.total, 1) if view.total else 0.0
    return JobOut(
        id=view.id, kind=view.kind, status=view.status,
        progress=Progress(done=view.done, total=view.total, succeeded=view.succeeded, failed=view.failed, percent=percent),
        rate_per_second=round(view.rate, 4) if view.rate else None,
        eta_seconds=round(view.eta_seconds, 1) if view.eta_seconds is not None else None,
        created_at=view.created_at, started_at=view.started_at, finished_at=view.finished_at, params=view.params,
        errors=view.errors, result=view.result, error=view.error,
    )


def submit(jobs: Jobs, kind: str, items: list[NewItem], params: dict[str, Any]) -> JobCreated:
    """Store the job and hand its good items to the runner in the store's pending order; 422 when no item is usable."""
    good = [i for i, item in enumerate(items) if not item.error]
    if not good:
        raise HTTPException(422, {"message": "no usable item; nothing was queued",
                                  "errors": [item.error for item in items]})
    job_id = jobs.store.create(kind, items, params)
    jobs.runner.enqueue_items(job_id, jobs.store.pending(job_id))
    return JobCreated(id=job_id, status="queued", total=len(items), rejected=len(items) - len(good))


async def _multipart_items(request: Request, limit: int) -> tuple[list[NewItem], dict[str, Any]]:
    form = await request.form()
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    if not uploads:
        raise HTTPException(422, "multipart upload needs one or more `files` (.txt, .vtt, .jsonl)")
    items: list[NewItem] = []
    for upload in uploads:
        items += upload_items(await upload.read(limit + 1), upload.filename or "upload", limit)
    fields = {k: str(form[k]) for k in SummaryOptionsIn.model_fields if form.get(k) not in (None, "")}
    try:
        options = SummaryOptionsIn.model_validate(fields)
    except ValidationError as exc:
        raise HTTPException(422, [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                                  for e in exc.errors()]) from exc
    return items, options.model_dump()


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
        items, params = await _multipart_items(request, s.max_upload_bytes)
    elif content_type.startswith("application/json"):
        try:
            body = SummarizeJobRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            raise HTTPException(422, [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                                      for e in exc.errors()]) from exc
        pairs = [(str(i), t) for i, t in enumerate(body.texts)] if body.texts is not None else \
            [(item.id, item.text) for item in body.items or []]
        items, params = text_items(pairs, s.max_text_bytes), body.model_dump(exclude={"texts", "items"})
    else:
        raise HTTPException(415, "send application/json ({\"texts\": [...]} or {\"items\": [...]}) or multipart files")
    if len(items) > s.max_job_items:
        raise HTTPException(413, f"{len(items)} items is more than the {s.max_job_items:,}-item limit (EDURAG_MAX_JOB_ITEMS)")
    check_adapter(params["adapter"], c)
    return submit(jobs, SUMMARIZE, items, params)


def _view(jobs: Jobs, job_id: str) -> JobView:
    view = jobs.store.get(job_id)
    if view is None:
        raise HTTPException(404, f"no job {job_id!r}")
    return view


@router.get("/jobs/{job_id}", response_model=JobOut, responses=errors(404))
def get_job(job_id: str, jobs: JobsDep) -> JobOut:
    """Status, progress (done/total), rate, ETA and per-item errors."""
    return job_out(_view(jobs, job_id))


def _jsonl(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"


def _csv(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "; ".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


@router.get("/jobs/{job_id}/results", responses={200: {"description": "JSONL (default) or CSV rows, one per finished item",
                                                  "content": {"application/x-ndjson": {}, "text/csv": {}}},
                                                  **errors(404, 422)})
def job_results(job_id: str, jobs: JobsDep,
                format: Annotated[Literal["jsonl", "csv"], Query(description="jsonl (default) or csv")] = "jsonl",
                ) -> StreamingResponse:
    """Stream the finished items in input order (partial while the job runs)."""
    _view(jobs, job_id)
    rows = jobs.store.results(job_id)
    if format == "csv":
        return StreamingResponse(_csv(rows), media_type="text/csv",
                                 headers={"Content-Disposition": f'attachment; filename="{job_id}.csv"'})
    return StreamingResponse(_jsonl(rows), media_type="application/x-ndjson")


@router.delete("/jobs/{job_id}", response_model=JobOut, responses=errors(404, 409))
def cancel_job(job_id: str, jobs: JobsDep) -> JobOut:
    """Cancel a queued or running job; items already finished keep their results (409 if it already ended)."""
    view = _view(jobs, job_id)
    if not jobs.store.cancel(job_id):
        raise HTTPException(409, f"job {job_id} already {view.status}")
    return job_out(_view(jobs, job_id))
