"""GET /standards/{code}: one standard with its hierarchy and relations."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from edurag.standards import Catalog, Standard
from service.auth import UserDep
from service.errors import errors
from service.deps import ComponentsDep
from service.schemas import RelatedOut, StandardDetail

router = APIRouter(prefix="/standards", tags=["standards"], dependencies=[UserDep])


def _refs(catalog: Catalog, codes: list[str]) -> list[RelatedOut]:
    out = []
    for code in codes:
        found = catalog.resolve(code)
        out.append(RelatedOut(code=found.code if found else code, text=found.text if found else None))
    return out


def detail(catalog: Catalog, s: Standard) -> StandardDetail:
    """A standard with parent, children and relations resolved to texts."""
    return StandardDetail(
        code=s.code, official_code=s.official_code, framework=s.framework, subject=s.subject, level=s.level,
        grades=s.grades, text=s.text, domain=s.domain, cluster=s.cluster, details=s.details,
        parent=_refs(catalog, [s.parent])[0] if s.parent else None, children=_refs(catalog, s.children),
        progress_to=_refs(catalog, s.progress_to), progress_from=_refs(catalog, s.progress_from),
        related=_refs(catalog, s.related), connections=_refs(catalog, s.connections),
    )


@router.get("/{code}", response_model=StandardDetail, responses=errors(404))
def get_standard(code: str, c: ComponentsDep) -> StandardDetail:
    """Look a standard up by any written form of its code: short (6.RP.A.3), official (CCSS.Math.Content.6.RP.A.3),
    2010 print (6.RP.3, A-REI.3), corestandards.org (HSA-REI.B.4), any case, dots or hyphens (see edurag.codes).

    404 when no standard or several match; the detail names the candidates or the nearest codes."""
    result = c.catalog.resolve_all(code)
    if result.ambiguous:
        raise HTTPException(404, result.message())
    if not result.found:
        raise HTTPException(404, f"unknown standard code {code!r}: " + (
            result.message() if result.suggestions else "try a code like 6.RP.A.3, RL.5.1 or MS-PS1-1"))
    return detail(c.catalog, c.catalog.by_code[result.codes[0]])
