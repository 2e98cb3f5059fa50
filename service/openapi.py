"""The OpenAPI document, made to describe what the running service does.

FastAPI's generated document is post-processed once per app:
- every 422 (and any other error FastAPI documents) uses `service.errors.Problem`, the body the handlers return;
- admin routes declare the bearer scheme with 401/403; read routes declare it (with 401/403) only when
  EDURAG_API_KEYS is set, since they are open otherwise;
- limits that come from settings (k at most EDURAG_MAX_K, items per job at most EDURAG_MAX_JOB_ITEMS) are written
  into the schemas, so a client (or a fuzzer) sees the same bounds the service enforces.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import iter_route_contexts

from edurag.settings import Settings
from service.auth import require_user
from service.errors import DESCRIPTIONS, Problem
from service.limits import dependency_calls, is_admin_route

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
SECURITY_SCHEME = "HTTPBearer"


def _problem_response(status: int) -> dict[str, Any]:
    return {"description": DESCRIPTIONS[status], "content": {"application/json": {"schema": PROBLEM_REF}}}


def _set_limit(schemas: dict[str, Any], model: str, field: str, **bounds: int) -> None:
    prop = schemas.get(model, {}).get("properties", {}).get(field)
    if prop is not None:
        prop.update(bounds)


def build_openapi(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """The app's OpenAPI document with the error model, security and limits of this deployment."""
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schemas["Problem"].pop("$defs", {}).items():
        schemas[name] = sub
    for model, defs in getattr(app.state, "extra_schemas", {}).items():
        schemas[model] = defs
    _set_limit(schemas, "AlignRequest", "k", maximum=settings.max_k)
    _set_limit(schemas, "SearchRequest", "k", maximum=settings.max_k)
    _set_limit(schemas, "CrosswalkRequest", "k", maximum=settings.max_k)
    for variant in schemas.get("AskRequest", {}).get("properties", {}).get("k", {}).get("anyOf", []):
        if variant.get("type") == "integer":
            variant["maximum"] = settings.max_k
    _set_limit(schemas, "SummarizeJobRequest", "texts", maxItems=settings.max_job_items)
    _set_limit(schemas, "SummarizeJobRequest", "items", maxItems=settings.max_job_items)

    for route in iter_route_contexts(app.routes):
        if getattr(route, "dependant", None) is None or not route.include_in_schema:
            continue
        admin = is_admin_route(route)
        reader = require_user in dependency_calls(route.dependant)
        for method in route.methods:
            operation = doc["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = {"application/json": {"schema": PROBLEM_REF}}
                    response["description"] = DESCRIPTIONS.get(int(status), response.get("description", ""))
            if admin or (reader and settings.api_keys):
                operation["security"] = [{SECURITY_SCHEME: []}]
                for status in (401, 403):
                    responses.setdefault(str(status), _problem_response(status))
            else:
                operation.pop("security", None)
    if not any("security" in op for path in doc["paths"].values() for op in path.values()):
        doc["components"].pop("securitySchemes", None)
    else:
        doc["components"].setdefault("securitySchemes", {})[SECURITY_SCHEME] = {"type": "http", "scheme": "bearer"}
    return doc


def install(app: FastAPI, settings: Settings) -> None:
    """Serve the post-processed document at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
