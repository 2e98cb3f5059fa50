"""Standards as LangChain documents: one chunk per standard, hierarchy in the text and the metadata."""

from __future__ import annotations

from langchain_core.documents import Document

from edurag.chunk_ids import CODE_KEY, POSITION_KEY, SOURCE_KEY, standard_source_id
from edurag.standards import Catalog, Standard


def standard_metadata(standard: Standard) -> dict:
    """Metadata stored with a standard's chunk (filters: framework, subject, grades)."""
    return {
        SOURCE_KEY: standard_source_id(standard.code),
        POSITION_KEY: 0,
        CODE_KEY: standard.code,
        "official_code": standard.official_code,
        "framework": standard.framework,
        "subject": standard.subject,
        "grades": standard.grades,
        "domain": standard.domain,
        "cluster": standard.cluster,
        "statement": standard.text,
    }


def standard_documents(catalog: Catalog) -> list[Document]:
    """One document per standard in the catalog (sub-standards folded into their parent)."""
    return [Document(page_content=s.document(catalog), metadata=standard_metadata(s)) for s in catalog.indexable()]
