"""Job task code (identical for in-process threads and Celery workers) and the submission helpers the API calls."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import PurePosixPath

from sqlalchemy.exc import OperationalError

from edurag.chunk_ids import transcript_item_id
from edurag.components import Components
from edurag.jobs.store import JobStatus, JobStore, NewItem
from edurag.summarization.service import CaptionTextError, EmptyTextError, SummaryOptions, summarize_document
from ingestion.reindex import ReindexCancelled, ReindexCheckError, next_version, run_reindex
from ingestion.transcript_store import drop_spool, ingest_spool
from ingestion.transcripts import TranscriptError, caption_cues, decode, normalize_path, parse_jsonl_line, parse_transcripts

logger = logging.getLogger(__name__)

SUMMARIZE = "summarize"
REINDEX = "reindex"
INGEST_TRANSCRIPTS = "ingest_transcripts"


def summarize_item(c: Components, store: JobStore, job_id: str, idx: int) -> None:
    """Summarize one pending item and store its result once; finished or cancelled items are skipped."""
    if not store.start(job_id):
        return
    item = store.claim(job_id, idx)
    if item is None:  # finished by an earlier delivery, which may have died before closing the job
        store.complete_if_done(job_id)
        return
    params = store.params(job_id)
    try:
        options = SummaryOptions(**{k: v for k, v in params.items() if k in SummaryOptions.__dataclass_fields__})
        result = summarize_document(c.generator, c.embedder, item.text, options)
    except (EmptyTextError, CaptionTextError) as exc:  # the item's text, not the service: said in its own words
        store.finish_item(job_id, idx, error=str(exc))
        return
    except Exception as exc:  # one bad item must not stop the job; its error is reported per item
        logger.exception("job %s item %s failed", job_id, item.item_id)
        store.finish_item(job_id, idx, error=f"{type(exc).__name__}: {exc}")
        return
    store.finish_item(job_id, idx, result.as_dict())


def reindex(c: Components, store: JobStore, job_id: str) -> None:
    """Run a blue-green re-index job; a failed check or an unexpected error fails the job (the live version is untouched)."""
    try:
        if not store.start(job_id):
            return
        params = store.params(job_id)
        version = params.get("version") or next_version(c.client)
        store.update_params(job_id, version=version)
        result = run_reindex(c, version, params.get("embedding_model"),
                             progress=lambda done, total: store.set_progress(job_id, done, total),
                             running=_not_cancelled(store, job_id))
    except ReindexCancelled:
        return
    except ReindexCheckError as exc:
        logger.error("re-index job %s failed its checks: %s", job_id, exc)
        store.finish(job_id, JobStatus.FAILED, error=str(exc))
        return
    except OperationalError:
        raise
    except Exception as exc:  # e.g. an embedding model that does not load; reported on the job
        logger.exception("re-index job %s failed", job_id)
        store.finish(job_id, JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
        return
    store.finish(job_id, JobStatus.SUCCEEDED, result=result)


def ingest_transcripts(c: Components, store: JobStore, job_id: str) -> None:
    """Ingest the transcript files spooled for the job (POST /ingest/transcripts run as a job): progress is chunks
    written or skipped of the run's chunks, the result is the synchronous reply. A cancel (DELETE /jobs/{id}) stops it
    before the next file: the files written stay whole, the job stays cancelled and its result says what was done
    (`files`, counts, `not_ingested`). The spool is removed once the job ended; a run cut short (a restart) is simply
    run again: ingestion is idempotent."""
    spool = store.params(job_id)["spool"]
    if not store.start(job_id):  # cancelled before it started, or finished by an earlier delivery
        drop_spool(c.settings, spool)
        return
    try:
        result = ingest_spool(c, spool, on_progress=lambda done, total: store.set_progress(job_id, done, total),
                              running=_not_cancelled(store, job_id))
    except TranscriptError as exc:
        store.finish(job_id, JobStatus.FAILED, error=str(exc))
    except OperationalError:
        raise
    except Exception as exc:  # e.g. Chroma unreachable; reported on the job
        logger.exception("transcript ingest job %s failed", job_id)
        store.finish(job_id, JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
    else:
        if not store.finish(job_id, JobStatus.SUCCEEDED, result=result):
            store.set_cancelled_result(job_id, result)
    drop_spool(c.settings, spool)


def _not_cancelled(store: JobStore, job_id: str) -> Callable[[], bool]:
    """What a job without items (re-index, transcript ingest) asks between its steps: is it still running, i.e. not
    cancelled (DELETE /jobs/{id} sets the status in the job store, which threads and Celery workers both read)."""
    return lambda: store.status(job_id) == JobStatus.RUNNING


def upload_items(data: bytes, filename: str, limit: int, text_limit: int) -> list[NewItem]:
    """One item per transcript in an uploaded file, read by the same parser as ingestion (.txt/.vtt/.srt/.jsonl); a bad
    file, a bad .jsonl line, or a transcript over `text_limit` bytes (what /summarize takes: a 12 MB file held both
    cores for over 10 minutes) becomes a rejected item. `limit`: the file's bytes (EDURAG_MAX_UPLOAD_BYTES)."""
    return [item if item.error or len(item.text.encode("utf-8")) <= text_limit else NewItem(
        item_id=item.item_id, error=f"{item.title or item.item_id}: the transcript is larger than the {text_limit:,}-byte "
                                    "limit of one summary (EDURAG_MAX_TEXT_BYTES)")
            for item in _upload_items(data, filename, limit)]


def _upload_items(data: bytes, filename: str, limit: int) -> list[NewItem]:
    file_id = _file_item_id(filename)
    if len(data) > limit:
        return [NewItem(item_id=file_id, error=f"{filename}: larger than the {limit:,}-byte limit (EDURAG_MAX_UPLOAD_BYTES)")]
    try:
        path = normalize_path(filename)
        if caption_cues(data, path) is not None:  # validated, then kept raw: the summary reads the cues' start times
            return [NewItem(item_id=t.item_id, title=t.title, text=decode(data, path)) for t in parse_transcripts(data, path)]
        if PurePosixPath(path).suffix.lower() != ".jsonl":
            return [NewItem(item_id=t.item_id, title=t.title, text=t.text) for t in parse_transcripts(data, path)]
        text = decode(data, path)
    except TranscriptError as exc:
        return [NewItem(item_id=file_id, error=str(exc))]
    items: list[NewItem] = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            t = parse_jsonl_line(line, path, number)  # per line, so one bad record rejects only itself
            items.append(NewItem(item_id=t.item_id, title=t.title, text=t.text))
        except TranscriptError as exc:
            items.append(NewItem(item_id=transcript_item_id(path, str(number)), error=str(exc)))
    return items or [NewItem(item_id=file_id, error=f"{filename}: file is empty")]


def _file_item_id(filename: str) -> str:
    """A file's item id whether it is accepted or rejected (`transcript:<path>`); the name as sent when it is not a
    usable path (`../x.txt`, empty)."""
    try:
        return transcript_item_id(normalize_path(filename))
    except TranscriptError:
        return filename or "upload"


def text_items(texts: list[tuple[str, str]], limit: int) -> list[NewItem]:
    """Items from (id, text) pairs; empty or oversized texts are rejected per item."""
    items = []
    for item_id, text in texts:
        if not text.strip():
            items.append(NewItem(item_id=item_id, error=f"{item_id}: text is empty"))
        elif len(text.encode("utf-8")) > limit:
            items.append(NewItem(item_id=item_id, error=f"{item_id}: text is larger than the {limit:,}-byte limit "
                                                        "(EDURAG_MAX_TEXT_BYTES)"))
        else:
            items.append(NewItem(item_id=item_id, title=item_id, text=text))
    return items
