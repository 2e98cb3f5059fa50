"""Transcripts: admin upload (.txt/.vtt/.jsonl) and deletion, and search over the ingested chunks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, UploadFile

from edurag.settings import TRANSCRIPTS_COLLECTION
from ingestion.service import ingest_transcripts, remove_transcripts
from ingestion.transcripts import Transcript, TranscriptError, parse_transcripts
from service.auth import AdminDep, UserDep
from service.errors import errors
from service.deps import ComponentsDep, check_k, check_text_size
from service.schemas import IngestFileReport, IngestResponse, SearchRequest, TranscriptHit
from edurag.alignment.search import search_chunks
from vectorstore.chroma import where_all

router = APIRouter(tags=["transcripts"])


@router.post("/ingest/transcripts", response_model=IngestResponse, dependencies=[AdminDep],
             responses=errors(400, 413, 422))
async def upload_transcripts(files: Annotated[list[UploadFile], File(min_length=1, description=".txt, .vtt or .jsonl")],
                             c: ComponentsDep) -> IngestResponse:
    """Parse every file first; if any is bad, nothing is ingested and each problem is reported (400)."""
    limit = c.settings.max_upload_bytes
    parsed: list[tuple[str, list[Transcript]]] = []
    errors: list[str] = []
    for upload in files:
        name = upload.filename or "upload"
        data = await upload.read(limit + 1)
        if len(data) > limit:
            errors.append(f"{name}: larger than the {limit:,}-byte limit (EDURAG_MAX_UPLOAD_BYTES)")
            continue
        try:
            parsed.append((name, parse_transcripts(data, name)))
        except TranscriptError as exc:
            errors.append(str(exc))
    if errors:
        raise HTTPException(400, {"message": "no transcript was ingested", "errors": errors})
    report, chunks = ingest_transcripts(c, [t for _, ts in parsed for t in ts])
    files_out = [IngestFileReport(file=name, transcripts=len(ts), chunks=chunks.get(name.rsplit("/", 1)[-1], 0))
                 for name, ts in parsed]
    return IngestResponse(files=files_out, **{k: v for k, v in report.as_dict().items() if k != "collection"})


@router.delete("/ingest/transcripts/{source_file}", dependencies=[AdminDep], responses=errors(404))
def delete_transcripts(source_file: str, c: ComponentsDep) -> dict:
    """Remove every chunk of one uploaded file (404 if there are none)."""
    removed = remove_transcripts(c, source_file)
    if not removed:
        raise HTTPException(404, f"no ingested transcript file named {source_file!r}")
    return {"source_file": source_file, "deleted": removed}


@router.post("/transcripts/search", response_model=list[TranscriptHit], dependencies=[UserDep],
             responses=errors(400, 413, 422))
def search_transcripts(body: SearchRequest, c: ComponentsDep) -> list[TranscriptHit]:
    """Transcript chunks best matching the query: dense and BM25 hits fused (score = cosine + weight x BM25/max)."""
    check_text_size(body.text, c)
    check_k(body.k, c)
    hits = search_chunks(c, TRANSCRIPTS_COLLECTION, body.text, body.k, where_all(course=body.course))
    return [TranscriptHit(id=h.id, text=h.text, score=round(h.score, 4), title=h.metadata.get("title", ""),
                          course=h.metadata.get("course", ""), source_file=h.metadata.get("source_file", ""),
                          chunk_index=int(h.metadata.get("chunk_index", 0))) for h in hits]
