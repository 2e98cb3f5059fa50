"""Teacher pages: Align (lesson -> standards), Ask (a standards question) and Standard (one code and its progression).

Each handler reads the form, then calls the same function the JSON API route runs, so the page shows exactly what
the API returns; fields a newer API adds (practices, confidence) appear when present.
"""

from __future__ import annotations

import io
from typing import Any, Literal, get_args, get_origin
from urllib.parse import quote

from defusedcsv import csv
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from edurag.alignment.lesson_files import LESSON_SUFFIXES, LessonFileError, read_lesson
from edurag.alignment.search import align_scope
from edurag.markup import plain_text
from service.deps import ComponentsDep
from service.routes.align import align_route
from service.routes.ask import ask_route
from service.routes.frameworks import titles
from service.routes.standards import get_standard
from edurag.standards import BUILTIN_FRAMEWORKS
from service.schemas import AlignRequest, AlignResponse, AskRequest
from service.web.graph import layout
from service.web.highlight import segments
from service.web.session import require_reader
from service.web.templating import HTMLRoute, fragment_or_page, read_form, render, text_field, uploads

router = APIRouter(route_class=HTMLRoute, include_in_schema=False, dependencies=[Depends(require_reader)])

GRADES = ["K", *map(str, range(1, 13))]
GRADE_HINTS = [("K", "Kindergarten"), *((g, f"Grade {g}") for g in GRADES[1:]), ("K-2", "Grades K-2"),
               ("3-5", "Grades 3-5"), ("MS", "Middle school (6-8)"), ("HS", "High school (9-12)")]
CSV_COLUMNS = ("rank", "code", "official_code", "framework", "subject", "grades", "score", "confidence",
               "confidence_label", "text", "matched_passage")


def _literal_choices(field: str) -> tuple[str, ...]:
    """The values an AlignRequest field accepts when its type is a Literal (empty otherwise)."""
    annotation = AlignRequest.model_fields[field].annotation
    literal = next((a for a in (annotation, *get_args(annotation)) if get_origin(a) is Literal), None)
    return tuple(get_args(literal)) if literal else ()


def align_options(c: Any) -> dict[str, Any]:
    """Choices the Align and Ask forms offer: the API schema's values, frameworks as the registry holds them ((id,
    title) pairs: the title shown, the id sent), and what
    Align ranks when no framework is chosen (EDURAG_ALIGN_FRAMEWORKS, see edurag.alignment.search.align_scope)."""
    named = titles(c)
    frameworks = [(f, named.get(f, f)) for f in sorted(c.catalog.frameworks(), key=lambda f: (f not in BUILTIN_FRAMEWORKS, f))]
    scope = align_scope(c)
    listed = ", ".join(f.upper() for f in scope or ())
    align_default = f"{listed} (copies in other frameworks listed)" if scope else "Any framework"
    return {"grade_hints": GRADE_HINTS, "grades": GRADES, "subjects": _literal_choices("subject"),
            "frameworks": frameworks, "align_default": align_default, "max_k": c.settings.max_k,
            "suffixes": ", ".join(LESSON_SUFFIXES)}


async def _lesson_text(form: FormData, c: Any) -> str:
    """The pasted text, or the uploaded lesson file's text (.txt/.docx/.pdf); 400 for an unreadable file."""
    files = uploads(form, "file")
    if files:
        upload = files[0]
        limit = c.settings.max_upload_bytes
        try:
            return read_lesson(await upload.read(limit + 1), upload.filename or "upload", limit)
        except LessonFileError as exc:
            raise HTTPException(413 if "limit" in str(exc) else 400, str(exc)) from exc
    text = form.get("text")
    return text if isinstance(text, str) else ""


def _align_request(form: FormData, text: str) -> AlignRequest:
    """The API's request model from the form (its validation is the API's: 422 with each problem)."""
    grade = text_field(form, "grade")
    only_grade = form.get("only_grade") == "on" and grade in GRADES
    k = text_field(form, "k") or "5"
    return AlignRequest(text=text, k=int(k) if k.isdigit() else 0,
                        grade=grade if only_grade else None, grade_hint=None if only_grade else grade,
                        subject=text_field(form, "subject"), framework=text_field(form, "framework"))


def _run_align(form: FormData, text: str, c: Any) -> tuple[AlignRequest, AlignResponse]:
    body = _align_request(form, text)
    return body, align_route(body, c)


@router.get("/")
@router.get("/app/align")
def align_page(request: Request, c: ComponentsDep) -> Response:
    """The Align form."""
    return render(request, "align.html", page="align", options=align_options(c), form={})


@router.post("/app/align")
async def align_submit(request: Request, c: ComponentsDep) -> Response:
    """Align a pasted or uploaded lesson: ranked standards, highlighted passages, practices, grounded answer."""
    form = await read_form(request, c.settings.max_text_bytes)
    text = await _lesson_text(form, c)
    body, result = _run_align(form, text, c)
    # The lesson is shown as /align read it (TeX and Markdown as text), where its matched passages can be found.
    return fragment_or_page(request, "_align_results.html", "align.html",
                            {"options": align_options(c), "form": dict(form)}, result=result, body=body, lesson=text,
                            segments=segments(plain_text(text), [s.passage for s in result.standards]), page="align")


@router.post("/app/align.csv")
async def align_csv(request: Request, c: ComponentsDep) -> Response:
    """The same alignment as a CSV table (one row per ranked standard)."""
    form = await read_form(request, c.settings.max_text_bytes)
    _, result = _run_align(form, await _lesson_text(form, c), c)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    ranked = [(rank, s) for rank, s in enumerate(result.standards, 1)]
    for rank, s in ranked + [("practice", p) for p in getattr(result, "practices", [])]:
        writer.writerow([rank, s.code, s.official_code, s.framework, s.subject, " ".join(s.grades), s.score,
                         getattr(s, "confidence", ""), getattr(s, "confidence_label", ""), s.text, s.passage])
    return Response(buffer.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="alignment.csv"'})


@router.get("/app/ask")
def ask_page(request: Request, c: ComponentsDep) -> Response:
    """The Ask form."""
    return render(request, "ask.html", page="ask", options=align_options(c), form={})


@router.post("/app/ask")
async def ask_submit(request: Request, c: ComponentsDep) -> Response:
    """Answer a standards question with the grounded answer and its clickable citations."""
    form = await read_form(request, c.settings.max_text_bytes)
    question = form.get("question")
    grade, k = text_field(form, "grade"), text_field(form, "k")
    body = AskRequest(question=question if isinstance(question, str) else "", grade=grade if grade in GRADES else None,
                      subject=text_field(form, "subject"), framework=text_field(form, "framework"),
                      k=int(k) if k and k.isdigit() else None)
    result = ask_route(body, c)
    return fragment_or_page(request, "_ask_answer.html", "ask.html", {"options": align_options(c), "form": dict(form)},
                            result=result, question=body.question, page="ask")


@router.get("/app/standards")
def standards_search(request: Request, c: ComponentsDep, code: str | None = None) -> Response:
    """The code search box; a code goes to its page (404 page for an unknown one)."""
    if code and code.strip():
        return RedirectResponse("/app/standards/" + quote(code.strip(), safe=""), status_code=303)
    return render(request, "standard.html", page="standards", standard=None)


@router.get("/app/standards/{code:path}")
def standard_page(request: Request, code: str, c: ComponentsDep, framework: str | None = None) -> Response:
    """A standard: text, grade, domain, cluster, sub-standards and its progression graph (any code form; within
    `framework` when given, as GET /standards/{code}?framework= resolves it)."""
    try:
        detail = get_standard(code, c, framework=framework or None)
    except HTTPException as exc:
        return render(request, "standard.html", status=exc.status_code, page="standards", standard=None,
                      message=exc.detail, query=code)
    return render(request, "standard.html", page="standards", standard=detail, graph=layout(detail), query=code)
