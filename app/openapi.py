"""The OpenAPI document: generated from the app, committed as openapi/openapi.json.

FastAPI describes validation errors as application/json HTTPValidationError; this service
answers every error as application/problem+json, so the document is corrected to say so.
Run `python -m app.openapi > openapi/openapi.json` (or `make openapi`) after changing the API.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from app.security.actor import current_actor

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                },
            },
        },
    },
}
_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_BODY_ERRORS = {
    "400": "The body is not valid JSON",
    "413": "Request body too large",
    "415": "Unsupported media type",
}


def build_openapi(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = PROBLEM_SCHEMA
    doc["components"]["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "Access token"}
    }
    bearer_operations = {
        context.original_route.operation_id
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        and _needs_actor(context.original_route.dependant)
    }
    for path_item in doc.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = {"description": "Invalid request", "content": _PROBLEM}
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                # Answered before the route runs (app.middleware, the JSON parser), so no
                # route declares them: a body that is not JSON, too large, or another type.
                for status, description in _BODY_ERRORS.items():
                    responses.setdefault(status, {"description": description, "content": _PROBLEM})
            if operation.get("operationId") in bearer_operations:
                # Clients and fuzzers learn from this which operations refuse anonymous callers.
                operation["security"] = [{"bearer": []}]
    return doc


def _needs_actor(dependant: Dependant) -> bool:
    """Whether the route resolves the current actor anywhere in its dependency tree."""
    return any(d.call is current_actor or _needs_actor(d) for d in dependant.dependencies)


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def render(app: FastAPI) -> str:
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    import os
    import tempfile
    from pathlib import Path

    from app.main import create_app
    from app.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        print(render(create_app(Settings(data_dir=Path(tmp), environment="test"))), end="")
