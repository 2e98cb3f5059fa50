"""POST /ask: questions about the standards themselves, answered from the standards graph."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Body

from edurag.ask import ask
from service.auth import UserDep
from service.deps import ComponentsDep, check_k, check_text_size
from service.errors import errors
from service.routes.frameworks import check_framework
from service.schemas import ASK_EXAMPLES, AskRequest, AskResponse

router = APIRouter(tags=["ask"], dependencies=[UserDep])


@router.post("/ask", response_model=AskResponse, responses=errors(400, 404, 413, 422))
def ask_route(body: Annotated[AskRequest, Body(openapi_examples=ASK_EXAMPLES)], c: ComponentsDep) -> AskResponse:
    """Answer from the coherence map, the hierarchy and the NGSS connections, citing every code named.

    Unknown codes are answered with "not found, did you mean ..." (and listed in `unresolved`), never with an
    invented standard; a code form that fits several standards (RP.3) is answered for each candidate."""
    check_text_size(body.question, c, "question")
    if body.k is not None:
        check_k(body.k, c)
    check_framework(body.framework, c)
    result = ask(c, body.question, body.grade, body.subject, body.framework, body.k)
    return AskResponse(**asdict(result))
