"""The one definition of chunk ids: source id + position + content hash, stable across runs and machines."""

from __future__ import annotations

import hashlib
import json

from langchain_core.documents import Document

SOURCE_KEY = "source"
POSITION_KEY = "chunk_index"


def content_hash(doc: Document) -> str:
    """sha256 of the chunk text and its metadata (so a metadata change also re-embeds)."""
    payload = json.dumps({"text": doc.page_content, "meta": doc.metadata}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def chunk_id(doc: Document) -> str:
    """`{source}:{position}:{hash}`; used by LangChain's indexing API as record key and Chroma id."""
    return f"{doc.metadata[SOURCE_KEY]}:{doc.metadata.get(POSITION_KEY, 0)}:{content_hash(doc)}"
