"""Transcripts: admin upload (.txt/.vtt/.srt/.jsonl), listing and deletion, and search over the ingested chunks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Header, HTTPException, Query, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from edurag.chunk_ids import COURSE_KEY, POSITION_KEY, SOURCE_FILE_KEY, TITLE_KEY
from edurag.components import Components
from edurag.jobs.store import JobStatus
from ingestion.transcript_store import (ingest_uploads, list_transcript_sources, nearest_transcript_chunks,
                                        remove_transcript_source, spool_uploads)
from ingestion.transcripts import Transcript, TranscriptError, normalize_path, parse_uploads
from service.auth import AdminDep, UserDep
from service.errors import errors
from service.deps import ComponentsDep, check_k, check_text_size
from service.routes.jobs import JobsDep
from service.schemas import DeleteResponse, IngestResponse, JobCreated, SearchRequest, TranscriptHit, TranscriptSource

router = APIRouter(tags=["transcripts"])

UploadsParam = Annotated[list[UploadFile], File(min_length=1, description=".txt, .vtt, .srt or .jsonl; the file name may "
                                                                          "carry folders (biology/week1.txt)")]
ASYNC_REPLY = {"model": JobCreated, "description": "Accepted (`Prefer: respond-async` or `?async=true`): the files are "
               "validated and stored; the ingest runs as a job. `Location` is the job (`GET /jobs/{id}`: progress in "
               "chunks, then `result` = the 200 reply).", "headers": {
                   "Location": {"description": "/jobs/{id}", "schema": {"type": "string"}},
                   "Preference-Applied": {"description": "respond-async (RFC 7240)", "schema": {"type": "string"}}}}


def wants_async(prefer: str | None) -> bool:
    """Whether a `Prefer` header (RFC 7240: comma-separated preferences, each with optional parameters) asks for
    respond-async."""
    return any(p.split(";")[0].split("=")[0].strip().lower() == "respond-async" for p in (prefer or "").split(","))


async def read_uploads(files: list[UploadFile], c: Components) -> tuple[list[tuple[str, bytes]], list[tuple[str, list[Transcript]]]]:
    """Every upload as (file name as sent, bytes) and parsed; 400 listing every problem (size, name, type, UTF-8,
    captions, one id twice) when any file is bad."""
    limit = c.settings.max_upload_bytes
    raw = [(upload.filename or "", await upload.read(limit + 1)) for upload in files]
    parsed, problems = parse_uploads(raw, limit)
    if problems:
        raise HTTPException(400, {"message": "no transcript was ingested", "errors": problems})
    return raw, parsed


async def upload_transcripts(files: list[UploadFile], c: Components) -> IngestResponse:
    """Validate and ingest uploads within the request (the web admin page and the synchronous API reply)."""
    _, parsed = await read_uploads(files, c)
    return IngestResponse(**await run_in_threadpool(ingest_uploads, c, parsed))


@router.post("/ingest/transcripts", response_model=IngestResponse, dependencies=[AdminDep],
             responses={202: ASYNC_REPLY, **errors(400, 413, 422)})
async def post_transcripts(files: UploadsParam, c: ComponentsDep, jobs: JobsDep,
                           prefer: Annotated[str | None, Header(description="`respond-async` runs the ingest as a job "
                                                                            "(202), RFC 7240")] = None,
                           run_async: Annotated[bool, Query(alias="async", description="true: run the ingest as a job "
                                                            "(202), as `Prefer: respond-async`")] = False,
                           ) -> IngestResponse | JSONResponse:
    """Parse every file first; if any is bad, nothing is ingested and each problem is reported (400).

    Each file is a source identified by its normalized relative path; re-sending a source replaces only its chunks.
    With `Prefer: respond-async` (or `?async=true`) the validated files are stored in the data dir and ingested by a
    job: 202 with the job, `Location: /jobs/{id}`; use it for uploads that take longer than a proxy waits (minutes).
    """
    if not (run_async or wants_async(prefer)):
        return await upload_transcripts(files, c)
    raw, _ = await read_uploads(files, c)
    spool = await run_in_threadpool(spool_uploads, c.settings, raw)
    job_id = jobs.submit_ingest(spool, [name for name, _ in raw])
    return JSONResponse(JobCreated(id=job_id, status=JobStatus.QUEUED, total=None).model_dump(), status_code=202,
                        headers={"Location": f"/jobs/{job_id}", "Preference-Applied": "respond-async"})


@router.get("/ingest/transcripts", response_model=list[TranscriptSource], dependencies=[AdminDep])
def list_transcripts(c: ComponentsDep) -> list[TranscriptSource]:
    """Every stored transcript source with its id (use it with DELETE), chunk and transcript counts."""
    return [TranscriptSource(**vars(s)) for s in list_transcript_sources(c)]


@router.delete("/ingest/transcripts/{source_id:path}", response_model=DeleteResponse, dependencies=[AdminDep],
               responses=errors(400, 404))
def delete_transcripts(source_id: str, c: ComponentsDep) -> DeleteResponse:
    """Remove every chunk of one source, by the id the ingest reply gave (slashes may be sent as %2F)."""
    try:
        path = normalize_path(source_id)
    except TranscriptError as exc:
        raise HTTPException(400, str(exc)) from exc
    removed = remove_transcript_source(c, path)
    if not removed:
        raise HTTPException(404, f"no stored transcript source with id {path!r} (GET /ingest/transcripts lists them)")
    return DeleteResponse(id=path, deleted=removed)


@router.post("/transcripts/search", response_model=list[TranscriptHit], dependencies=[UserDep],
             responses=errors(400, 413, 422))
def search_transcripts(body: SearchRequest, c: ComponentsDep) -> list[TranscriptHit]:
    """Transcript chunks best matching the query: dense and BM25 hits fused (score = cosine + weight x BM25/max)."""
    check_text_size(body.text, c)
    check_k(body.k, c)
    hits = nearest_transcript_chunks(c, body.text, body.k, body.course)
    return [TranscriptHit(id=h.id, text=h.text, score=round(h.score, 4), title=h.metadata.get(TITLE_KEY, ""),
                          course=h.metadata.get(COURSE_KEY, ""), source_file=h.metadata.get(SOURCE_FILE_KEY, ""),
                          chunk_index=int(h.metadata.get(POSITION_KEY, 0))) for h in hits]
