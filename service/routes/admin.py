"""Admin: blue-green re-index of the standards as a job, rollback to the spare version, index state."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, HTTPException

from edurag.jobs.store import JobStatus
from edurag.jobs.worker import ReindexRunning
from edurag.models import resolve_model_path
from ingestion.reindex import RollbackError, index_state, rollback
from service.auth import AdminDep
from service.errors import errors
from service.deps import ComponentsDep, field_problem
from service.routes.jobs import JobsDep
from service.schemas import IndexStateOut, JobCreated, ReindexRequest

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[AdminDep])


@router.post("/reindex", status_code=202, response_model=JobCreated, responses=errors(400, 404, 409, 413, 422))
def start_reindex(jobs: JobsDep, c: ComponentsDep, body: ReindexRequest | None = None) -> JobCreated:
    """Queue a re-index into a new versioned collection (409 while another one is queued or running; 404 for an
    embedding model that is neither a folder nor in the local Hugging Face cache, unless downloads are allowed: a
    well-formed name of something that is not here, as an unknown adapter is)."""
    name = body.embedding_model if body else None
    if name and not c.settings.allow_downloads and resolve_model_path(name) is None:
        message = (f"embedding model {name!r} is not available here: give a local folder or a Hugging Face id already "
                   "in the cache")
        raise HTTPException(404, field_problem("embedding_model", message))
    try:
        job_id = jobs.submit_reindex(name)
    except ReindexRunning as exc:
        raise HTTPException(409, f"re-index job {exc} is still in progress") from exc
    return JobCreated(id=job_id, status=JobStatus.QUEUED, total=None)


@router.post("/reindex/rollback", response_model=IndexStateOut, responses=errors(409))
def rollback_reindex(c: ComponentsDep) -> IndexStateOut:
    """Point the standards alias back at the previous version (409 when there is none)."""
    try:
        rollback(c.client)
    except RollbackError as exc:
        raise HTTPException(409, str(exc)) from exc
    c.aliases.invalidate()
    return IndexStateOut(**asdict(index_state(c.client)))


@router.get("/index", response_model=IndexStateOut)
def get_index(c: ComponentsDep) -> IndexStateOut:
    """The live standards version, its spare and all versions' chunk counts."""
    return IndexStateOut(**asdict(index_state(c.client)))
