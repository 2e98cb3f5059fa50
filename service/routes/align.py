"""POST /align: standards for a lesson, task or question, with a grounded answer."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, HTTPException

from edurag.alignment.align import align
from edurag.frameworks.bloom import classify
from service.auth import UserDep
from service.errors import errors
from edurag.markup import has_words
from service.deps import ComponentsDep, check_adapter, check_k, check_text_size, field_problem
from service.routes.frameworks import check_framework
from service.schemas import AlignRequest, AlignResponse

router = APIRouter(tags=["align"], dependencies=[UserDep])


@router.post("/align", response_model=AlignResponse, responses=errors(400, 404, 413, 422))
def align_route(body: AlignRequest, c: ComponentsDep) -> AlignResponse:
    """Rank standards for the text; the answer cites only retrieved or mentioned codes."""
    check_text_size(body.text, c)
    if not has_words(body.text):  # e.g. only a Markdown rule or an empty math span: nothing to align
        raise HTTPException(422, field_problem("text", "text has no words once its TeX math and Markdown markup are read"))
    check_k(body.k, c)
    check_adapter(body.adapter, c)
    check_framework(body.framework, c)
    result = align(c, body.text, body.k, body.grade, body.subject, body.framework, body.adapter, body.grade_hint,
                   body.include_practices)
    items = [asdict(s) | {"bloom": classify(s.text).as_dict()} | ({} if body.explain else {"explain": None})
             for s in result.standards]
    practices = [asdict(s) | ({} if body.explain else {"explain": None}) for s in result.practices]
    return AlignResponse(standards=items, practices=practices, answer=result.answer, citations=result.citations)
