"""Admin: blue-green re-index of the standards as a job, rollback to the spare version, index state."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from ingestion.reindex import RollbackError, index_state, rollback
from edurag.jobs.tasks import REINDEX
from service.auth import AdminDep
from service.errors import errors
from service.deps import ComponentsDep
from service.routes.jobs import JobCreated, JobsDep
from service.schemas import StrictModel

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[AdminDep])


class ReindexRequest(StrictModel):
    """Optionally re-embed with another model (HF id or local path); the switch happens only after checks pass."""

    embedding_model: str | None = Field(None, min_length=1)


class IndexStateOut(BaseModel):
    """Where the standards alias points, the spare version, and each standards collection's size."""

    current: str
    previous: str | None
    embedding_model: str | None
    collections: dict[str, int]


@router.post("/reindex", status_code=202, response_model=JobCreated, responses=errors(400, 409, 413, 422))
def start_reindex(jobs: JobsDep, body: ReindexRequest | None = None) -> JobCreated:
    """Queue a re-index into a new versioned collection (409 while another one is queued or running)."""
    running = jobs.store.active_of_kind(REINDEX)
    if running:
        raise HTTPException(409, f"re-index job {running} is still in progress")
    params = {"embedding_model": body.embedding_model if body else None}
    job_id = jobs.store.create(REINDEX, [], params, total=0)
    jobs.runner.enqueue_reindex(job_id)
    return JobCreated(id=job_id, status="queued", total=0)


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
