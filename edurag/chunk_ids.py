"""The one definition of chunk ids (source id + record + position + content hash, stable across runs and machines),
of transcript source and item ids, and of the metadata keys they use."""

from __future__ import annotations

import hashlib
import json

from langchain_core.documents import Document

SOURCE_KEY = "source"
RECORD_KEY = "record"
POSITION_KEY = "chunk_index"
TRANSCRIPT_PREFIX = "transcript:"
CODE_KEY = "code"  # a standard chunk's short code
SOURCE_FILE_KEY = "source_file"  # a transcript chunk's source path (its source id without the prefix)
TITLE_KEY = "title"
COURSE_KEY = "course"


def standard_source_id(code: str, framework: str | None = None) -> str:
    """The source id of a standard's chunk: `standard:6.RP.A.3` for the built-in CCSS/NGSS, `standard:{framework}/{code}`
    for imported frameworks (their codes are unique only within the framework)."""
    return f"standard:{framework}/{code}" if framework else f"standard:{code}"


def transcript_source_id(path: str) -> str:
    """The source key of a transcript source (a normalized path, ingestion.transcripts.normalize_path): every chunk of
    the source carries it, and re-ingest cleanup is scoped by it."""
    return TRANSCRIPT_PREFIX + path


def transcript_item_id(path: str, record: str = "") -> str:
    """The id of one transcript (a whole file, or one `.jsonl` record of it) in job results and summaries."""
    return transcript_source_id(path) + (f"#{record}" if record else "")


def content_hash(doc: Document) -> str:
    """sha256 of the chunk text and its metadata (so a metadata change also re-embeds)."""
    payload = json.dumps({"text": doc.page_content, "meta": doc.metadata}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def chunk_id(doc: Document) -> str:
    """`{source}[#{record}]:{position}:{hash}`; used by LangChain's indexing API as record key and Chroma id.

    The record part appears for sources holding several records (a .jsonl of dialogues), so every chunk of a source
    has its own (record, position) and the id says which one it is.
    """
    record = doc.metadata.get(RECORD_KEY)
    return f"{doc.metadata[SOURCE_KEY]}{f'#{record}' if record else ''}:{doc.metadata.get(POSITION_KEY, 0)}:{content_hash(doc)}"
