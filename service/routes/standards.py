"""GET /standards/{code}: one standard with its hierarchy and relations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from edurag.components import Components
from edurag.frameworks.bloom import classify
from edurag.frameworks.crosswalk import crosswalker_for
from edurag.standards import BUILTIN_FRAMEWORKS, Catalog, Standard
from service.auth import UserDep
from service.errors import errors
from service.deps import ComponentsDep
from service.routes.frameworks import check_framework
from service.schemas import CrosswalkMatchOut, RelatedOut, StandardDetail

router = APIRouter(prefix="/standards", tags=["standards"], dependencies=[UserDep])


def _refs(catalog: Catalog, codes: list[str], framework: str) -> list[RelatedOut]:
    out = []
    for code in codes:
        found = catalog.resolve(code, framework) or (catalog.resolve(code) if framework == "ngss" else None)
        out.append(RelatedOut(code=found.code if found else code, text=found.text if found else None))
    return out


CROSSWALK_SHOWN = 3  # closest Common Core standards shown with an imported framework's standard


def common_core_matches(c: Components, s: Standard) -> list[CrosswalkMatchOut]:
    """The closest Common Core standards of an imported framework's math or ELA standard (the crosswalk POST
    /crosswalk runs, CROSSWALK_SHOWN best); [] for built-in standards and other subjects."""
    if s.framework in BUILTIN_FRAMEWORKS or s.subject not in ("math", "ela") or "ccss" not in c.catalog.frameworks():
        return []
    return [CrosswalkMatchOut(**m.as_dict()) for m in crosswalker_for(c).crosswalk("ccss", source=s, k=CROSSWALK_SHOWN)]


def detail(catalog: Catalog, s: Standard, crosswalk: list[CrosswalkMatchOut] | None = None) -> StandardDetail:
    """A standard with parent, children and relations resolved to texts (within its framework; NGSS connections
    name CCSS codes), its licence, its Bloom levels and the given crosswalk to Common Core."""
    f = s.framework
    return StandardDetail(
        code=s.code, official_code=s.official_code, framework=s.framework, subject=s.subject, level=s.level,
        grades=s.grades, text=s.text, domain=s.domain, cluster=s.cluster, details=s.details,
        parent=_refs(catalog, [s.parent], f)[0] if s.parent else None, children=_refs(catalog, s.children, f),
        progress_to=_refs(catalog, s.progress_to, f), progress_from=_refs(catalog, s.progress_from, f),
        related=_refs(catalog, s.related, f), connections=_refs(catalog, s.connections, f),
        exact_match=s.exact_match, licence=s.licence, bloom=classify(s.text).as_dict(), crosswalk=crosswalk or [],
    )


@router.get("/{code}", response_model=StandardDetail,
            responses=errors(404, 409))
def get_standard(code: Annotated[str, Path(examples=["6.RP.A.3"], description="Any written form of the code.")],
                 c: ComponentsDep,
                 framework: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$", examples=["ccss"],
                                                        description="Resolve the code within this framework (GET /frameworks).")] = None,
                 ) -> StandardDetail:
    """Look a standard up by any written form of its code, within a framework (TEKS 6.4.B with
    framework=tx-teks-2012). Without one: CCSS/NGSS forms (short 6.RP.A.3, official CCSS.Math.Content.6.RP.A.3, 2010
    print 6.RP.3, corestandards.org HSA-REI.B.4, any case, dots or hyphens; see edurag.codes), else a code only one
    imported framework has; 409 names the frameworks when several have it. A math or ELA standard of an imported
    framework comes with its closest Common Core standards (`crosswalk`)."""
    check_framework(framework, c)
    result = c.catalog.resolve_all(code, framework)
    if result.ambiguous:
        raise HTTPException(404, result.message())
    found = c.catalog.get(result.codes[0], framework) if result.found else None
    if found is None and framework is None:
        candidates = c.catalog.resolve_anywhere(code)
        if len(candidates) > 1:
            raise HTTPException(409, f"code {code!r} exists in several frameworks ({', '.join(s.framework for s in candidates)}): "
                                     "add ?framework=")
        found = candidates[0] if candidates else None
    if found is None:
        where = f" in framework {framework!r}" if framework else ""
        raise HTTPException(404, f"unknown standard code {code!r}{where}: " + (
            result.message() if result.suggestions else "try a code like 6.RP.A.3, RL.5.1 or MS-PS1-1, or name the "
                                                       "framework (?framework=tx-teks-2012)"))
    return detail(c.catalog, found, common_core_matches(c, found))
