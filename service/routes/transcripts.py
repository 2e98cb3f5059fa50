"""Transcripts: admin upload (.txt/.vtt/.jsonl) and deletion, and search over the ingested chunks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, UploadFile

from edurag.chunk_ids import COURSE_KEY, POSITION_KEY, SOURCE_FILE_KEY, TITLE_KEY
from ingestion.service import ingest_transcripts, nearest_transcript_chunks, remove_transcripts
from ingestion.transcripts import parse_uploads
from service.auth import AdminDep, UserDep
from service.deps import ComponentsDep, check_k, check_text_size
from service.schemas import IngestFileReport, IngestResponse, SearchRequest, TranscriptHit

router = APIRouter(tags=["transcripts"])


@router.post("/ingest/transcripts", response_model=IngestResponse, dependencies=[AdminDep])
async def upload_transcripts(files: Annotated[list[UploadFile], File(description=".txt, .vtt or .jsonl")],
                             c: ComponentsDep) -> IngestResponse:
    """Parse every file first; if any is bad, nothing is ingested and each problem is reported (400)."""
    limit = c.settings.max_upload_bytes
    parsed, errors = parse_uploads([(upload.filename or "upload", await upload.read(limit + 1)) for upload in files], limit)
    if errors:
        raise HTTPException(400, {"message": "no transcript was ingested", "errors": errors})
    report, chunks = ingest_transcripts(c, [t for _, ts in parsed for t in ts])
    files_out = [IngestFileReport(file=name, transcripts=len(ts), chunks=chunks.get(name.rsplit("/", 1)[-1], 0))
                 for name, ts in parsed]
    return IngestResponse(files=files_out, **{k: v for k, v in report.as_dict().items() if k != "collection"})


@router.delete("/ingest/transcripts/{source_file}", dependencies=[AdminDep])
def delete_transcripts(source_file: str, c: ComponentsDep) -> dict:
    """Remove every chunk of one uploaded file (404 if there are none)."""
    removed = remove_transcripts(c, source_file)
    if not removed:
        raise HTTPException(404, f"no ingested transcript file named {source_file!r}")
    return {"source_file": source_file, "deleted": removed}


@router.post("/transcripts/search", response_model=list[TranscriptHit], dependencies=[UserDep])
def search_transcripts(body: SearchRequest, c: ComponentsDep) -> list[TranscriptHit]:
    """Transcript chunks nearest to the query."""
    check_text_size(body.text, c)
    check_k(body.k, c)
    hits = nearest_transcript_chunks(c, body.text, body.k, body.course)
    return [TranscriptHit(id=h.id, text=h.text, score=round(h.score, 4), title=h.metadata.get(TITLE_KEY, ""),
                          course=h.metadata.get(COURSE_KEY, ""), source_file=h.metadata.get(SOURCE_FILE_KEY, ""),
                          chunk_index=int(h.metadata.get(POSITION_KEY, 0))) for h in hits]
