"""Summarize page: one pasted or uploaded transcript summarized at once; several files become a bulk job whose page
shows live progress (done/total, ETA, per-file errors), lists the summaries once it ends and offers them as CSV or
JSONL.

The single summary runs the API's /summarize route function; the bulk job is submitted by the API's /jobs/summarize
handler on the same request (the form uses its field names: files, strategy, and length/format when the API has them).
"""

from __future__ import annotations

import typing
from itertools import islice
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from edurag.prompts import STRATEGIES
from edurag.jobs.store import ACTIVE
from edurag.jobs.tasks import SUMMARIZE, upload_items
from edurag.jobs.worker import Jobs
from service.deps import ComponentsDep
from service.routes.jobs import JobsDep, cancel_job, get_job, job_results, submit_summarize
from service.routes.summarize import summarize_route
from service.schemas import JobOut, SummarizeRequest
from service.web.session import require_reader, session_admin_check
from service.web.templating import HTMLRoute, fragment_or_page, is_htmx, read_form, render, text_field, uploads

router = APIRouter(route_class=HTMLRoute, include_in_schema=False, dependencies=[Depends(require_reader)])

SUFFIXES = (".txt", ".vtt", ".srt", ".jsonl")
OPTIONAL_FIELDS = ("length", "format")
# Summaries a finished bulk job's page shows; the CSV and JSONL downloads have them all.
SHOWN_SUMMARIES = 50


def _choices(name: str) -> tuple[str, ...]:
    """Values of an optional SummarizeRequest field (length, format) the API accepts; empty when it has none."""
    field = SummarizeRequest.model_fields.get(name)
    if field is None:
        return ()
    if typing.get_origin(field.annotation) is typing.Literal:
        return tuple(str(v) for v in typing.get_args(field.annotation))
    args = [a for a in typing.get_args(field.annotation) if a is not type(None)] or [field.annotation]
    literal = next((a for a in args if typing.get_origin(a) is typing.Literal), None)
    return tuple(str(v) for v in typing.get_args(literal)) if literal else ()


def options() -> dict[str, Any]:
    """What the Summarize form offers."""
    return {"strategies": STRATEGIES, "suffixes": ", ".join(SUFFIXES),
            "extra": {name: _choices(name) for name in OPTIONAL_FIELDS if _choices(name)}}


@router.get("/app/summarize")
def summarize_page(request: Request) -> Response:
    """The Summarize form."""
    return render(request, "summarize.html", page="summarize", options=options())


def _summary(request: Request, c: Any, text: str, form: Any, title: str) -> Response:
    values = {name: text_field(form, name) for name in options()["extra"]}
    body = SummarizeRequest(text=text, strategy=text_field(form, "strategy") or "zero_shot",
                            **{k: v for k, v in values.items() if v})
    result = summarize_route(body, c)
    return fragment_or_page(request, "_summary.html", "summarize.html", {"options": options()}, summary=result,
                            title=title, page="summarize")


@router.post("/app/summarize")
async def summarize_submit(request: Request, c: ComponentsDep, jobs: JobsDep) -> Response:
    """Summarize pasted text or one transcript file now; several files or records go to a bulk job."""
    form = await read_form(request, c.settings.max_text_bytes)
    files = uploads(form, "files")
    if len(files) == 1:
        upload, limit = files[0], c.settings.max_upload_bytes
        items = upload_items(await upload.read(limit + 1), upload.filename or "upload", limit, c.settings.max_text_bytes)
        if len(items) == 1:
            if items[0].error:
                raise HTTPException(413 if "limit" in items[0].error else 400, items[0].error)
            return _summary(request, c, items[0].text, form, items[0].title or items[0].item_id)
        await upload.seek(0)
    if files:
        created = await submit_summarize(request, c, jobs)
        url = f"/app/jobs/{created.id}"
        if is_htmx(request):
            return Response(status_code=200, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)
    text = form.get("text")
    return _summary(request, c, text if isinstance(text, str) else "", form, "Pasted text")


def _job_view(job: JobOut, jobs: Jobs) -> dict[str, Any]:
    """A job page's context: the job and, once a summarize job has ended, its first SHOWN_SUMMARIES result rows (id,
    title, status, summary fields, error; edurag.jobs.store.result_row) to read on the page."""
    ended = job.kind == SUMMARIZE and job.status not in ACTIVE
    return {"job": job, "results": list(islice(jobs.store.results(job.id), SHOWN_SUMMARIES)) if ended else []}


@router.get("/app/jobs/{job_id}")
def job_page(request: Request, job_id: str, jobs: JobsDep) -> Response:
    """A job's live progress page; a finished bulk summary job lists its summaries."""
    return render(request, "job.html", page="summarize", **_job_view(get_job(job_id, jobs, session_admin_check(request)), jobs))


@router.get("/app/jobs/{job_id}/progress")
def job_progress(request: Request, job_id: str, jobs: JobsDep) -> Response:
    """The progress fragment htmx polls every second until the job ends (then with its summaries)."""
    return render(request, "_job_progress.html", **_job_view(get_job(job_id, jobs, session_admin_check(request)), jobs))


@router.post("/app/jobs/{job_id}/cancel")
async def job_cancel(request: Request, job_id: str, c: ComponentsDep, jobs: JobsDep) -> Response:
    """Cancel a queued or running job (finished items keep their results); answers with the progress fragment."""
    await read_form(request, c.settings.max_text_bytes)
    job = cancel_job(job_id, jobs, session_admin_check(request))
    return render(request, "_job_progress.html" if is_htmx(request) else "job.html", page="summarize", **_job_view(job, jobs))


@router.get("/app/jobs/{job_id}/results.{fmt}")
def job_download(request: Request, job_id: str, fmt: str, jobs: JobsDep) -> Response:
    """The job's results as a file (csv or jsonl), streamed by the API's results handler."""
    if fmt not in ("csv", "jsonl"):
        raise HTTPException(404, "results come as .csv or .jsonl")
    response = job_results(job_id, jobs, session_admin_check(request), format=fmt)
    response.headers["Content-Disposition"] = f'attachment; filename="{job_id}.{fmt}"'
    return response
