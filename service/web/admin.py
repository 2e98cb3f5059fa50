"""Admin page: key sign-in (once per browser session), transcript ingest/delete, blue-green re-index with progress,
rollback, adapter reload and /health in plain words.

Every action checks the signed-in session before reading the body, then the CSRF token, then runs the API's own
route function (the same code `Authorization: Bearer <admin key>` reaches).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from service.deps import ComponentsDep
from service.routes.adapters import reload_adapters
from service.routes.admin import get_index, rollback_reindex, start_reindex
from service.routes.health import health_report
from service.routes.jobs import JobsDep, get_job
from service.routes.transcripts import delete_transcripts, list_transcripts, upload_transcripts
from service.web.session import is_admin, require_admin_session, session_admin_check, sign_in, sign_out
from service.web.templating import HTMLRoute, is_htmx, read_form, render, text_field, uploads

router = APIRouter(prefix="/app/admin", route_class=HTMLRoute, include_in_schema=False)
admin_only = [Depends(require_admin_session)]


def health_words(report: dict[str, Any]) -> list[str]:
    """/health as sentences a coordinator can read."""
    embedder, generator = report.get("embedder", {}), report.get("generator", {})
    collections, chroma = report.get("collections") or {}, report.get("chroma", {})
    status = report.get("status", "unknown")
    lines = ["The service is running normally." if status == "ok" else f"The service reports status “{status}”."]
    if embedder:
        lines.append(f"Texts are embedded with {embedder.get('name')} ({embedder.get('dim')} dimensions, "
                     f"{embedder.get('backend')} backend).")
    if generator:
        kind = generator.get("kind")
        model = f" with {generator.get('model')}" if generator.get("model") else ""
        adapter = f", adapter {generator['adapter']}" if generator.get("adapter") else ""
        lines.append(f"Answers and summaries are written by the {kind} generator{model}{adapter}.")
    for name, count in collections.items():
        value = count if isinstance(count, int) else count.get("count", count) if isinstance(count, dict) else count
        lines.append(f"The {name} collection holds {value:,} chunks." if isinstance(value, int)
                     else f"The {name} collection: {value}.")
    if chroma:
        where = chroma.get("url") or chroma.get("path")
        lines.append(f"Chroma runs {chroma.get('mode')} ({where}).")
    for name, check in (report.get("checks") or {}).items():
        if not check["ok"]:
            lines.append(f"Problem: {name} does not answer ({check.get('error')}).")
    return lines


def _panel(request: Request, c: Any, **context: Any) -> Response:
    """The admin page (signed in or not), or the result fragment for htmx (with the source list swapped out of band)."""
    signed_in = is_admin(request)
    sources = list_transcripts(c) if signed_in else []
    if is_htmx(request) and "result" in context:
        return render(request, "_admin_result.html", sources=sources, oob=True, **context)
    return render(request, "admin.html", page="admin", health=health_words(health_report(c)),
                  index=get_index(c) if signed_in else None, sources=sources, **context)


@router.get("")
def admin_page(request: Request, c: ComponentsDep) -> Response:
    """Sign-in form, or the admin tools once signed in; /health in plain words either way."""
    return _panel(request, c)


@router.post("/signin")
async def admin_signin(request: Request, c: ComponentsDep) -> Response:
    """Check the key (admin, or a read key when EDURAG_API_KEYS is set) and remember the role for this session."""
    form = await read_form(request, 10_000)
    role = sign_in(request, str(form.get("key") or ""))
    if role is None:
        return render(request, "admin.html", status=403, page="admin", health=health_words(health_report(c)), index=None,
                      signin_error="That key is not right.")
    return RedirectResponse("/app/admin" if role == "admin" else "/", status_code=303)


@router.post("/signout")
async def admin_signout(request: Request, c: ComponentsDep) -> Response:
    """Forget this browser's sign-in."""
    await read_form(request, 10_000)
    sign_out(request)
    return RedirectResponse("/app/admin", status_code=303)


@router.post("/ingest", dependencies=admin_only)
async def admin_ingest(request: Request, c: ComponentsDep) -> Response:
    """Ingest transcript files; all are validated first, a bad one ingests nothing and each problem is listed. A
    `course` puts every file in that folder (`math7` + `unit rates.srt` -> `math7/unit rates.srt`, the path the API
    reads the course from): browsers send bare file names."""
    form = await read_form(request, c.settings.max_text_bytes)
    files = uploads(form, "files")
    if not files:
        raise HTTPException(422, "choose one or more transcript files (.txt, .vtt, .srt, .jsonl)")
    course = (text_field(form, "course") or "").strip("/ ")
    for upload in files if course else []:
        upload.filename = f"{course}/{upload.filename}"
    report = await upload_transcripts(files, c)
    return _panel(request, c, result="ingest", report=report)


@router.post("/delete", dependencies=admin_only)
async def admin_delete(request: Request, c: ComponentsDep) -> Response:
    """Delete every chunk of one ingested transcript file."""
    form = await read_form(request, c.settings.max_text_bytes)
    name = text_field(form, "source_file")
    if not name:
        raise HTTPException(422, "name the ingested file to delete")
    return _panel(request, c, result="delete", deleted=delete_transcripts(name, c))


@router.post("/reindex", dependencies=admin_only)
async def admin_reindex(request: Request, c: ComponentsDep, jobs: JobsDep) -> Response:
    """Start a blue-green re-index of the standards; the fragment follows its progress."""
    await read_form(request, c.settings.max_text_bytes)
    created = start_reindex(jobs, None)
    return _panel(request, c, result="reindex", job=get_job(created.id, jobs, session_admin_check(request)))


@router.post("/rollback", dependencies=admin_only)
async def admin_rollback(request: Request, c: ComponentsDep) -> Response:
    """Point the standards back at the previous version."""
    await read_form(request, c.settings.max_text_bytes)
    return _panel(request, c, result="rollback", state=rollback_reindex(c))


@router.post("/adapters/reload", dependencies=admin_only)
async def admin_reload(request: Request, c: ComponentsDep) -> Response:
    """Re-scan the adapters folder."""
    await read_form(request, c.settings.max_text_bytes)
    return _panel(request, c, result="reload", reload=reload_adapters(c))
