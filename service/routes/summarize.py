"""POST /summarize: one dialogue, lecture or classroom transcript, at the requested length and format."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from service.auth import UserDep
from service.errors import errors
from service.deps import ComponentsDep, check_adapter, check_text_size
from service.schemas import SummarizeRequest, SummarizeResponse
from edurag.summarization.service import CaptionTextError, EmptyTextError, SummaryOptions, summarize_document

router = APIRouter(tags=["summarize"], dependencies=[UserDep])


@router.post("/summarize", response_model=SummarizeResponse, responses=errors(400, 404, 413, 422))
def summarize_route(body: SummarizeRequest, c: ComponentsDep) -> SummarizeResponse:
    """Summarize within a word budget (length or max_words) as a paragraph, bullets or an outline, with key terms and,
    for classroom transcripts, talk figures."""
    check_text_size(body.text, c)
    check_adapter(body.adapter, c)
    options = SummaryOptions(**body.model_dump(exclude={"text"}))
    try:
        result = summarize_document(c.generator, c.embedder, body.text, options)
    except (EmptyTextError, CaptionTextError) as exc:
        raise HTTPException(422, str(exc)) from exc
    info = c.generator.info() | ({"adapter": body.adapter} if body.adapter else {})
    return SummarizeResponse(**result.as_dict(), generator=info)
