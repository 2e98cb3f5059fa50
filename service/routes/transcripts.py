"""Transcripts: admin upload (.txt/.vtt/.srt/.jsonl), listing and deletion, and search over the ingested chunks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, UploadFile

from edurag.chunk_ids import COURSE_KEY, POSITION_KEY, SOURCE_FILE_KEY, TITLE_KEY
from ingestion.transcript_store import (ingest_transcripts, list_transcript_sources, nearest_transcript_chunks,
                                        remove_transcript_source)
from ingestion.transcripts import TranscriptError, normalize_path, parse_uploads
from service.auth import AdminDep, UserDep
from service.errors import errors
from service.deps import ComponentsDep, check_k, check_text_size
from service.schemas import (DeleteResponse, IngestFileReport, IngestResponse, SearchRequest, TranscriptHit,
                             TranscriptSource)

router = APIRouter(tags=["transcripts"])


@router.post("/ingest/transcripts", response_model=IngestResponse, dependencies=[AdminDep],
             responses=errors(400, 413, 422))
async def upload_transcripts(files: Annotated[list[UploadFile], File(min_length=1, description=".txt, .vtt, .srt or .jsonl; "
                                                                     "the file name may carry folders (biology/week1.txt)")],
                             c: ComponentsDep) -> IngestResponse:
    """Parse every file first; if any is bad, nothing is ingested and each problem is reported (400).

    Each file is a source identified by its normalized relative path; re-sending a source replaces only its chunks.
    """
    limit = c.settings.max_upload_bytes
    parsed, errors = parse_uploads([(upload.filename or "", await upload.read(limit + 1)) for upload in files], limit)
    if errors:
        raise HTTPException(400, {"message": "no transcript was ingested", "errors": errors})
    report, sources = ingest_transcripts(c, [t for _, ts in parsed for t in ts])
    files_out = [IngestFileReport(id=s.id, file=name, transcripts=s.transcripts, chunks=s.chunks)
                 for (name, _), s in zip(parsed, sources)]
    return IngestResponse(files=files_out, **{k: v for k, v in report.as_dict().items() if k != "collection"})


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
