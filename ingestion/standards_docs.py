"""Standards as LangChain documents: one chunk per standard, hierarchy in the text and the metadata."""

from __future__ import annotations

from langchain_core.documents import Document

from edurag.chunk_ids import CODE_KEY, POSITION_KEY, SOURCE_KEY, standard_source_id
from edurag.standards import BUILTIN_FRAMEWORKS, Catalog, Standard


def standard_source(standard: Standard) -> str:
    """The chunk's source id: `standard:6.RP.A.3` for built-in CCSS/NGSS, `standard:tx-teks-2012/6.4.B` for the rest
    (codes are unique only within a framework)."""
    return standard_source_id(standard.code, None if standard.framework in BUILTIN_FRAMEWORKS else standard.framework)


def standard_metadata(standard: Standard) -> dict:
    """Metadata stored with a standard's chunk (filters: framework, subject, grades; no `grades` key when the source
    names none, as CASE items without educationLevel: Chroma refuses empty lists)."""
    metadata = {
        SOURCE_KEY: standard_source(standard),
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
    if not standard.grades:
        del metadata["grades"]
    return metadata


def standard_document(standard: Standard, catalog: Catalog) -> Document:
    """The chunk of one standard."""
    return Document(page_content=standard.document(catalog), metadata=standard_metadata(standard))


def standard_documents(catalog: Catalog, framework: str | None = None) -> list[Document]:
    """One document per indexable standard of the catalog, or of one framework (built-in sub-standards are folded
    into their parent)."""
    return [standard_document(s, catalog) for s in catalog.indexable(framework)]
