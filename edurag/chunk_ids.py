"""The one definition of chunk ids: source id + position + content hash, stable across runs and machines."""

from __future__ import annotations

import hashlib
import json

from langchain_core.documents import Document

SOURCE_KEY = "source"
POSITION_KEY = "chunk_index"
CODE_KEY = "code"  # a standard chunk's short code
SOURCE_FILE_KEY = "source_file"  # a transcript chunk's file name (what DELETE /ingest/transcripts/{file} removes)
TITLE_KEY = "title"
COURSE_KEY = "course"


def standard_source_id(code: str) -> str:
    """`standard:{code}`: the source id of a standard's chunk."""
    return f"standard:{code}"


def transcript_source_id(source_file: str, item: str = "") -> str:
    """`transcript:{file}` or `transcript:{file}#{item}` (the record within a .jsonl): the source id of a transcript."""
    return f"transcript:{source_file}" + (f"#{item}" if item else "")


def content_hash(doc: Document) -> str:
    """sha256 of the chunk text and its metadata (so a metadata change also re-embeds)."""
    payload = json.dumps({"text": doc.page_content, "meta": doc.metadata}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def chunk_id(doc: Document) -> str:
    """`{source}:{position}:{hash}`; used by LangChain's indexing API as record key and Chroma id."""
    return f"{doc.metadata[SOURCE_KEY]}:{doc.metadata.get(POSITION_KEY, 0)}:{content_hash(doc)}"
