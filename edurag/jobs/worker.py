"""Where job tasks run: Celery workers when EDURAG_BROKER_URL is set, else threads inside the serving process."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from celery import Celery
from sqlalchemy.exc import OperationalError

from edurag.components import Components, build_components
from edurag.settings import Settings
from edurag.jobs import tasks
from edurag.jobs.store import JobStore, NewItem, open_store

logger = logging.getLogger(__name__)

celery_app = Celery("edurag")
celery_app.conf.update(
    task_acks_late=True,  # a task is acknowledged only after it ran, so a killed worker's task is redelivered
    task_reject_on_worker_lost=True,  # a pool child killed mid-task requeues the message at once
    worker_prefetch_multiplier=1,
    task_ignore_result=True,  # results live in the job store
    task_serializer="json",
    accept_content=["json"],
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)

_worker_settings: Settings | None = None
_worker_context: tuple[Components, JobStore] | None = None
_worker_lock = threading.Lock()


def configure_celery(settings: Settings) -> Celery:
    """Point the Celery app at the configured broker; Redis redelivers unacknowledged tasks after the timeout."""
    global _worker_settings
    timeout = settings.job_visibility_timeout
    celery_app.conf.update(
        broker_url=settings.broker_url,
        broker_transport_options={"visibility_timeout": timeout, "unacked_restore_interval": min(10, timeout),
                                  "unacked_restore_throttle": 1},
    )
    _worker_settings = settings
    return celery_app


def _context() -> tuple[Components, JobStore]:
    """The worker process's components and job store, built on first use (after fork)."""
    global _worker_context
    with _worker_lock:
        if _worker_context is None:
            settings = _worker_settings or Settings()
            _worker_context = (build_components(settings), open_store(settings))
        return _worker_context


@celery_app.task(name="edurag.summarize_item", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def summarize_item_task(job_id: str, idx: int) -> None:
    """Celery entry point of tasks.summarize_item."""
    tasks.summarize_item(*_context(), job_id, idx)


@celery_app.task(name="edurag.reindex", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def reindex_task(job_id: str) -> None:
    """Celery entry point of tasks.reindex."""
    tasks.reindex(*_context(), job_id)


@celery_app.task(name="edurag.ingest_transcripts", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def ingest_transcripts_task(job_id: str) -> None:
    """Celery entry point of tasks.ingest_transcripts (only sent when Chroma is a server)."""
    tasks.ingest_transcripts(*_context(), job_id)


class Runner(Protocol):
    """Dispatches job work; jobs themselves live in the JobStore."""

    def enqueue_items(self, job_id: str, indexes: list[int]) -> None:
        """Run summarize_item for each index."""

    def enqueue_reindex(self, job_id: str) -> None:
        """Run a re-index job."""

    def enqueue_ingest(self, job_id: str) -> None:
        """Run a transcript ingest job."""

    def resume(self) -> None:
        """Pick up jobs left unfinished by a previous process."""

    def close(self) -> None:
        """Stop accepting work."""


class CeleryRunner:
    """Sends tasks to Celery workers through the broker; Celery itself redelivers work of dead workers."""

    def __init__(self, settings: Settings) -> None:
        self.app = configure_celery(settings)

    def enqueue_items(self, job_id: str, indexes: list[int]) -> None:
        """One message per item, so any number of workers share a job."""
        with self.app.producer_or_acquire() as producer:
            for idx in indexes:
                summarize_item_task.apply_async((job_id, idx), producer=producer)

    def enqueue_reindex(self, job_id: str) -> None:
        """One message for the whole re-index."""
        reindex_task.apply_async((job_id,))

    def enqueue_ingest(self, job_id: str) -> None:
        """One message for the whole ingest."""
        ingest_transcripts_task.apply_async((job_id,))

    def resume(self) -> None:
        """Nothing to do: unacknowledged messages stay in Redis until a worker runs them."""

    def close(self) -> None:
        """Nothing to stop: the broker connection pool belongs to the Celery app and closes with the process."""


class ThreadRunner:
    """Runs the same task functions on a thread pool inside the API process, resuming stored jobs at start (of the
    given kinds only, when other kinds run elsewhere)."""

    def __init__(self, components: Components, store: JobStore, threads: int, kinds: set[str] | None = None) -> None:
        self.components = components
        self.store = store
        self.kinds = kinds
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="edurag-job")

    def _submit(self, fn: Callable[..., None], *args: object) -> None:
        future = self.executor.submit(fn, self.components, self.store, *args)
        future.add_done_callback(_log_failure)

    def enqueue_items(self, job_id: str, indexes: list[int]) -> None:
        """Queue each item on the thread pool."""
        for idx in indexes:
            self._submit(tasks.summarize_item, job_id, idx)

    def enqueue_reindex(self, job_id: str) -> None:
        """Queue the re-index on the thread pool."""
        self._submit(tasks.reindex, job_id)

    def enqueue_ingest(self, job_id: str) -> None:
        """Queue the ingest on the thread pool."""
        self._submit(tasks.ingest_transcripts, job_id)

    def resume(self) -> None:
        """Re-queue the unfinished work of every queued or running job (of this runner's kinds) found in the store."""
        for job_id, kind in self.store.active_jobs():
            if self.kinds is not None and kind not in self.kinds:
                continue
            logger.info("resuming %s job %s", kind, job_id)
            if kind == tasks.REINDEX:
                self.enqueue_reindex(job_id)
            elif kind == tasks.INGEST_TRANSCRIPTS:
                self.enqueue_ingest(job_id)
            elif pending := self.store.pending(job_id):
                self.enqueue_items(job_id, pending)
            else:
                self.store.complete_if_done(job_id)

    def close(self) -> None:
        """Drop queued work (it stays pending in the store) and let running items finish."""
        self.executor.shutdown(wait=False, cancel_futures=True)


def _log_failure(future: Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("job task failed", exc_info=future.exception())


@dataclass
class Jobs:
    """The job store and the runners that execute its work, as one serving process holds them: `runner` for
    summaries and re-indexes, `writer` for transcript ingests (the same runner unless Chroma is embedded and jobs go
    to Celery: only the serving process may write an embedded Chroma, so its ingests run on its own threads)."""

    store: JobStore
    runner: Runner
    writer: Runner

    def submit(self, kind: str, items: list[NewItem], params: dict[str, Any]) -> str:
        """Store a job and queue its good items (longest first); returns the job id.

        Raises NoUsableItem when every item was rejected (nothing is stored then)."""
        if all(item.error for item in items):
            raise NoUsableItem([item.error for item in items])
        job_id = self.store.create(kind, items, params)
        self.runner.enqueue_items(job_id, self.store.pending(job_id))
        return job_id

    def submit_reindex(self, embedding_model: str | None) -> str:
        """Queue a blue-green re-index of the standards; raises ReindexRunning while another one is queued or running."""
        running = self.store.active_of_kind(tasks.REINDEX)
        if running:
            raise ReindexRunning(running)
        job_id = self.store.create(tasks.REINDEX, [], {"embedding_model": embedding_model})
        self.runner.enqueue_reindex(job_id)
        return job_id

    def submit_ingest(self, spool_id: str, files: list[str]) -> str:
        """Queue the ingest of transcript files spooled under `spool_id` (their names as sent: `files`)."""
        job_id = self.store.create(tasks.INGEST_TRANSCRIPTS, [], {"spool": spool_id, "files": files})
        self.writer.enqueue_ingest(job_id)
        return job_id

    def close(self) -> None:
        """Stop taking work (unfinished items stay pending in the store)."""
        self.runner.close()
        if self.writer is not self.runner:
            self.writer.close()


def check_item_count(items: list[NewItem], max_items: int) -> None:
    """Raises TooManyItems when a job would have more than `max_items` (EDURAG_MAX_JOB_ITEMS) items."""
    if len(items) > max_items:
        raise TooManyItems(f"{len(items)} items is more than the {max_items:,}-item limit (EDURAG_MAX_JOB_ITEMS)")


def check_item_ids(items: list[NewItem]) -> None:
    """Raises DuplicateItemIds when two items share an id (results are named by it, so one would hide the other)."""
    first: dict[str, int] = {}
    repeated: list[str] = []
    for n, item in enumerate(items):
        if item.item_id in first:
            repeated.append(f"{item.item_id!r} (items {first[item.item_id]} and {n})")
        else:
            first[item.item_id] = n
    if repeated:
        raise DuplicateItemIds(f"item ids must be unique (each names its result); repeated: {', '.join(repeated)}")


class DuplicateItemIds(ValueError):
    """Two or more items of a job with one id; the message names them."""


class TooManyItems(ValueError):
    """A job with more items than EDURAG_MAX_JOB_ITEMS."""


class NoUsableItem(ValueError):
    """Every item of a job was rejected; `errors` says why, item by item."""

    def __init__(self, errors: list[str | None]) -> None:
        super().__init__("no usable item; nothing was queued")
        self.errors = errors


class ReindexRunning(RuntimeError):
    """A re-index job is still queued or running; its id is the message."""


def start_jobs(components: Components) -> Jobs:
    """Open the job store, pick the runner and resume unfinished in-process jobs (what `edurag serve` does at start)."""
    store = open_store(components.settings)
    runner = make_runner(components, store)
    writer = runner
    if components.settings.broker_url and not components.settings.chroma_url:
        writer = ThreadRunner(components, store, 1, kinds={tasks.INGEST_TRANSCRIPTS})
    runner.resume()
    if writer is not runner:
        writer.resume()
    return Jobs(store=store, runner=runner, writer=writer)


def make_runner(components: Components, store: JobStore) -> Runner:
    """Celery when a broker URL is configured, else in-process threads."""
    settings = components.settings
    if settings.broker_url:
        logger.info("jobs run on Celery workers via %s", settings.broker_url.split("@")[-1])
        return CeleryRunner(settings)
    logger.info("jobs run in-process on %d threads", settings.job_threads)
    return ThreadRunner(components, store, settings.job_threads)
