"""Durable job state and per-item results in a SQL database (sqlite in the data dir, or any SQLAlchemy URL)."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Iterator

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, create_engine, event, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from edurag.settings import Settings

logger = logging.getLogger(__name__)



class JobStatus(StrEnum):
    """Where a job is: queued -> running -> succeeded | failed, or cancelled while queued or running."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ItemStatus(StrEnum):
    """Where one item of a job is: pending until it succeeds or fails; rejected at submission; cancelled with its job."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
ITEM_DONE = (ItemStatus.SUCCEEDED, ItemStatus.FAILED, ItemStatus.REJECTED)


class Base(DeclarativeBase):
    """Declarative base of the job tables."""


class JobRow(Base):
    """One job: what it does, its status and timing."""

    __tablename__ = "edurag_jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    total: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class ItemRow(Base):
    """One unit of work of a job, with its input and (exactly one) result or error."""

    __tablename__ = "edurag_job_items"
    job_id: Mapped[str] = mapped_column(ForeignKey("edurag_jobs.id"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(String(512))
    title: Mapped[str] = mapped_column(String(512), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)


@dataclass
class NewItem:
    """An item to create: good ones carry text, rejected ones carry the reason."""

    item_id: str
    text: str = ""
    title: str = ""
    error: str | None = None


@dataclass
class JobView:
    """A job's state as the API reports it. A job with items counts items; a job without (re-index, transcript
    ingest) counts the chunks it writes or skips: `total` is None until the job has counted them (and stays None for
    a job that ended before counting: cancelled while queued, failed before chunking), and `done` and `succeeded` are
    the chunks handled so far (a failure fails the job as a whole: `error`)."""

    id: str
    kind: str
    status: str
    params: dict[str, Any]
    total: int | None
    done: int
    succeeded: int
    failed: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    result: dict[str, Any] | None
    error: str | None
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        """Finished items per second since the job started."""
        if not self.started_at or not self.done:
            return None
        return self.done / max((self.finished_at or time.time()) - self.started_at, 1e-6)

    @property
    def eta_seconds(self) -> float | None:
        """Seconds until the remaining items are done at the current rate."""
        if self.status in FINISHED:
            return 0.0
        rate = self.rate
        return (self.total - self.done) / rate if rate and self.total is not None else None


@dataclass
class QueueStats:
    """The job queue at a glance: jobs per status, pending items, recent throughput (items/s)."""

    jobs: dict[str, int]
    pending_items: int
    items_per_second: float


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL + a busy timeout so API and worker processes can share one sqlite file."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class JobStore:
    """Jobs and their items; every state change is one conditional UPDATE, so redelivered work never duplicates."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)

    def create(self, kind: str, items: list[NewItem], params: dict[str, Any] | None = None) -> str:
        """Insert a queued job and its items (rejected ones already finished); returns the job id. A job without
        items (re-index, transcript ingest) has no total (0 stored, None in its view) until it counts its chunks."""
        job_id = uuid.uuid4().hex
        now = time.time()
        with Session(self.engine) as s, s.begin():
            s.add(JobRow(id=job_id, kind=kind, status=JobStatus.QUEUED, params=params or {},
                         total=len(items), progress=0, created_at=now))
            s.flush()
            s.add_all(ItemRow(job_id=job_id, idx=i, item_id=it.item_id, title=it.title, text=it.text,
                              status=ItemStatus.REJECTED if it.error else ItemStatus.PENDING, error=it.error,
                              finished_at=now if it.error else None) for i, it in enumerate(items))
        logger.info("job %s (%s) created with %d items", job_id, kind, len(items))
        return job_id

    def get(self, job_id: str) -> JobView | None:
        """The job with item counts and per-item errors, or None."""
        with Session(self.engine) as s:
            job = s.get(JobRow, job_id)
            if job is None:
                return None
            counts = dict(s.execute(select(ItemRow.status, func.count()).where(ItemRow.job_id == job_id)
                                    .group_by(ItemRow.status)).all())
            errors = [{"item": i, "error": e} for i, e in s.execute(
                select(ItemRow.item_id, ItemRow.error).where(ItemRow.job_id == job_id, ItemRow.error.is_not(None))
                .order_by(ItemRow.idx)).all()]
        if counts:
            failed = counts.get(ItemStatus.FAILED, 0) + counts.get(ItemStatus.REJECTED, 0)
            succeeded = counts.get(ItemStatus.SUCCEEDED, 0)
            done, total = succeeded + failed, job.total
        else:  # chunks, counted by the job once it runs (set_progress)
            failed, succeeded, done, total = 0, job.progress, job.progress, job.total or None
        return JobView(id=job.id, kind=job.kind, status=job.status, params=job.params, total=total, done=done,
                       succeeded=succeeded, failed=failed, created_at=job.created_at, started_at=job.started_at,
                       finished_at=job.finished_at, result=job.result, error=job.error, errors=errors)

    def status(self, job_id: str) -> str | None:
        """Just the job's status."""
        with Session(self.engine) as s:
            return s.scalar(select(JobRow.status).where(JobRow.id == job_id))

    def pending(self, job_id: str) -> list[int]:
        """Indexes of items not yet finished, longest text first: the order work is queued in, so a long lecture is never
        left running alone at the end of a job while the other workers idle."""
        with Session(self.engine) as s:
            return list(s.scalars(select(ItemRow.idx).where(ItemRow.job_id == job_id, ItemRow.status == ItemStatus.PENDING)
                                  .order_by(func.length(ItemRow.text).desc(), ItemRow.idx)))

    def active_jobs(self) -> list[tuple[str, str]]:
        """(id, kind) of every queued or running job, oldest first."""
        with Session(self.engine) as s:
            return [tuple(r) for r in s.execute(select(JobRow.id, JobRow.kind).where(JobRow.status.in_(ACTIVE))
                                                .order_by(JobRow.created_at)).all()]

    def start(self, job_id: str) -> bool:
        """Mark the job running (first item picked up); False when it is cancelled or finished."""
        with Session(self.engine) as s, s.begin():
            s.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status == JobStatus.QUEUED)
                      .values(status=JobStatus.RUNNING, started_at=time.time()))
            return s.scalar(select(JobRow.status).where(JobRow.id == job_id)) == JobStatus.RUNNING

    def claim(self, job_id: str, idx: int) -> ItemRow | None:
        """The pending item to work on (counting the attempt), or None when it is already finished."""
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            claimed = s.execute(update(ItemRow).where(ItemRow.job_id == job_id, ItemRow.idx == idx,
                                                      ItemRow.status == ItemStatus.PENDING)
                                .values(attempts=ItemRow.attempts + 1)).rowcount
            return s.get(ItemRow, (job_id, idx)) if claimed else None

    def finish_item(self, job_id: str, idx: int, result: dict[str, Any] | None = None, error: str | None = None) -> bool:
        """Store the item's one result (or error); False if another delivery already finished it."""
        with Session(self.engine) as s, s.begin():
            stored = s.execute(update(ItemRow).where(ItemRow.job_id == job_id, ItemRow.idx == idx,
                                                     ItemRow.status == ItemStatus.PENDING)
                               .values(status=ItemStatus.FAILED if error else ItemStatus.SUCCEEDED, result=result, error=error,
                                       finished_at=time.time())).rowcount
        if stored:
            self.complete_if_done(job_id)
        return bool(stored)

    def complete_if_done(self, job_id: str) -> None:
        """When no item is pending, the job succeeds (failed if no item succeeded); safe to call repeatedly."""
        with Session(self.engine) as s, s.begin():
            if s.scalar(select(func.count()).where(ItemRow.job_id == job_id, ItemRow.status == ItemStatus.PENDING)):
                return
            ok = s.scalar(select(func.count()).where(ItemRow.job_id == job_id, ItemRow.status == ItemStatus.SUCCEEDED))
            s.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status.in_(ACTIVE)).values(
                status=JobStatus.SUCCEEDED if ok else JobStatus.FAILED, finished_at=time.time(),
                error=None if ok else "every item failed"))

    def set_progress(self, job_id: str, progress: int, total: int | None = None) -> None:
        """Progress of a job without items (re-index: chunks embedded so far)."""
        values: dict[str, Any] = {"progress": progress} | ({"total": total} if total is not None else {})
        with Session(self.engine) as s, s.begin():
            s.execute(update(JobRow).where(JobRow.id == job_id).values(**values))

    def params(self, job_id: str) -> dict[str, Any]:
        """The job's parameters."""
        with Session(self.engine) as s:
            return s.scalar(select(JobRow.params).where(JobRow.id == job_id)) or {}

    def update_params(self, job_id: str, **values: Any) -> None:
        """Merge values into the job's parameters (e.g. the version a re-index chose)."""
        with Session(self.engine) as s, s.begin():
            job = s.get(JobRow, job_id)
            job.params = {**job.params, **values}

    def finish(self, job_id: str, status: JobStatus, result: dict[str, Any] | None = None, error: str | None = None) -> bool:
        """End an active job; False if it already ended (e.g. was cancelled)."""
        with Session(self.engine) as s, s.begin():
            return bool(s.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status.in_(ACTIVE))
                                  .values(status=status, result=result, error=error, finished_at=time.time())).rowcount)

    def set_cancelled_result(self, job_id: str, result: dict[str, Any]) -> bool:
        """Store what a job without items did before its cancel stopped it; False unless the job is cancelled."""
        with Session(self.engine) as s, s.begin():
            return bool(s.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status == JobStatus.CANCELLED)
                                  .values(result=result)).rowcount)

    def cancel(self, job_id: str) -> bool:
        """Cancel an active job; its pending items are never started. False if it had already ended."""
        with Session(self.engine) as s, s.begin():
            cancelled = s.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status.in_(ACTIVE))
                                  .values(status=JobStatus.CANCELLED, finished_at=time.time())).rowcount
            if cancelled:
                s.execute(update(ItemRow).where(ItemRow.job_id == job_id, ItemRow.status == ItemStatus.PENDING)
                          .values(status=ItemStatus.CANCELLED))
        if cancelled:
            logger.info("job %s cancelled", job_id)
        return bool(cancelled)

    def results(self, job_id: str, page: int = 200) -> Iterator[dict[str, Any]]:
        """Finished items in input order, read page by page (for streaming)."""
        last = -1
        while True:
            with Session(self.engine) as s:
                rows = s.execute(select(ItemRow.idx, ItemRow.item_id, ItemRow.title, ItemRow.status, ItemRow.result,
                                        ItemRow.error).where(ItemRow.job_id == job_id, ItemRow.idx > last,
                                                             ItemRow.status.in_(ITEM_DONE))
                                 .order_by(ItemRow.idx).limit(page)).all()
            for idx, item_id, title, status, result, error in rows:
                yield result_row(item_id, title, status, result, error)
            if len(rows) < page:
                return
            last = rows[-1][0]

    def attempts(self, job_id: str) -> dict[str, int]:
        """How many times each item was started (1 everywhere = nothing redone)."""
        with Session(self.engine) as s:
            return dict(s.execute(select(ItemRow.item_id, ItemRow.attempts).where(ItemRow.job_id == job_id)).all())

    def queue_stats(self, window_seconds: float = 60.0) -> QueueStats:
        """Jobs by status, items still pending in queued/running jobs, and items finished per second over the last
        `window_seconds` (what /metrics exports)."""
        with Session(self.engine) as s:
            jobs = dict(s.execute(select(JobRow.status, func.count()).group_by(JobRow.status)).all())
            pending = s.scalar(select(func.count()).select_from(ItemRow).join(JobRow, JobRow.id == ItemRow.job_id)
                               .where(ItemRow.status == ItemStatus.PENDING, JobRow.status.in_(ACTIVE))) or 0
            recent = s.scalar(select(func.count()).select_from(ItemRow)
                              .where(ItemRow.finished_at >= time.time() - window_seconds)) or 0
        return QueueStats(jobs=jobs, pending_items=pending, items_per_second=recent / window_seconds)

    def active_of_kind(self, kind: str) -> str | None:
        """The id of a queued or running job of this kind, if any."""
        with Session(self.engine) as s:
            return s.scalar(select(JobRow.id).where(JobRow.kind == kind, JobRow.status.in_(ACTIVE)).limit(1))


def result_row(item_id: str, title: str, status: str, result: dict[str, Any] | None, error: str | None) -> dict[str, Any]:
    """One item's result as every results file has it (jobs' JSONL/CSV, `edurag summarize --out` local or --server):
    id, title, status, the summary's fields, error."""
    return {"id": item_id, "title": title, "status": status, **(result or {}), "error": error}


def open_store(settings: Settings) -> JobStore:
    """The configured job store (creating the data dir for the default sqlite file)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return JobStore(settings.resolved_job_db_url)
