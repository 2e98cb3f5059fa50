"""POST /summarize: one dialogue or transcript, map-reduce when it is longer than the generator's window."""

from __future__ import annotations

from fastapi import APIRouter

from edurag.summarization.mapreduce import summarize_text
from service.auth import UserDep
from service.errors import errors
from service.deps import ComponentsDep, check_adapter, check_text_size
from service.schemas import SummarizeRequest, SummarizeResponse

router = APIRouter(tags=["summarize"], dependencies=[UserDep])


@router.post("/summarize", response_model=SummarizeResponse, responses=errors(400, 404, 413, 422))
def summarize_route(body: SummarizeRequest, c: ComponentsDep) -> SummarizeResponse:
    """Summarize with the chosen prompt strategy (and adapter, for Hugging Face generators)."""
    check_text_size(body.text, c)
    check_adapter(body.adapter, c)
    result = summarize_text(c.generator, body.text, body.strategy, body.adapter)
    info = c.generator.info() | ({"adapter": body.adapter} if body.adapter else {})
    return SummarizeResponse(summary=result.summary, generator=info, chunks=result.chunks)
