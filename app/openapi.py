"""The OpenAPI document: generated from the app, committed as openapi/openapi.json.

FastAPI describes validation errors as application/json HTTPValidationError; this service
answers every error as application/problem+json, so the document is corrected to say so.
Run `make openapi` (`python -m app.cli openapi > openapi/openapi.json`) after changing the API.
"""

from __future__ import annotations

import json
from typing import Any, get_args

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from app.security.actor import access_token, current_actor

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


def _value_sets() -> dict[frozenset[str], str]:
    """Every closed value set of the API and its one schema name, so that generated clients
    get one type per set (e.g. one BehaviourCode enum, not one per field that uses it)."""
    from app.chronology import codes
    from app.chronology.law import Jurisdiction
    from app.chronology.schemas import Direction, FourCode
    from app.diary.revisions import RevisionKind
    from app.exports.jobs.schemas import ExportFormat, ExportStatus
    from app.risk.schemas import AnsweredBy
    from app.sharing.schemas import GrantStatus, OrganisationKind, Scope, StaffRole

    sets: dict[str, Any] = {
        "BehaviourCode": codes.BEHAVIOUR_CODES,
        "ChannelCode": codes.CHANNEL_CODES,
        "ImpactCode": codes.IMPACT_CODES,
        "VictimActionCode": codes.VICTIM_ACTION_CODES,
        "RelationshipCode": codes.RELATIONSHIP_CODES,
        "OrderKindCode": codes.ORDER_KINDS,
        "PrecisionCode": codes.PRECISIONS,
        "Jurisdiction": get_args(Jurisdiction),
        "Direction": get_args(Direction),
        "FourCode": get_args(FourCode),
        "ExportFormat": get_args(ExportFormat),
        "ExportStatus": get_args(ExportStatus),
        "AnsweredBy": get_args(AnsweredBy),
        "RevisionKind": get_args(RevisionKind),
        "Status": get_args(GrantStatus),  # grants and shares alike
        "OrganisationKind": get_args(OrganisationKind),
        "Scope": get_args(Scope),
        "StaffRole": get_args(StaffRole),
    }
    return {frozenset(values): name for name, values in sets.items()}


_ENUM_KEYS = ("type", "enum", "maxLength")


def _name_enums(doc: dict[str, Any]) -> None:
    """Replace each inline enum of a known value set by a reference to its named schema; what
    the field says of itself (description, default, title) stays beside the reference."""
    names = _value_sets()
    schemas = doc["components"]["schemas"]

    def visit(node: Any) -> Any:
        if isinstance(node, list):
            return [visit(item) for item in node]
        if not isinstance(node, dict):
            return node
        if isinstance(node.get("enum"), list) and frozenset(node["enum"]) in names:
            name = names[frozenset(node["enum"])]
            schemas.setdefault(
                name,
                {"title": name, "type": "string", "enum": list(node["enum"])},
            )
            rest = {k: v for k, v in node.items() if k not in _ENUM_KEYS}
            rest.pop("title", None)
            return {"$ref": f"#/components/schemas/{name}", **rest}
        return {key: visit(value) for key, value in node.items()}

    doc["paths"] = visit(doc["paths"])
    for name in list(schemas):
        if name not in names.values():
            schemas[name] = visit(schemas[name])


DESCRIPTION = (
    "The API behind the Chronicle diary app and the tools of the caseworkers a victim lets in. "
    "Errors are RFC 9457 problem details; large files are sent with tus 1.0 (`/v1/uploads`); "
    "`If-Match` with the `ETag` of the last read guards every change. The operations marked "
    "`x-internal` (the officer's HTML viewer, `/metrics`) are not part of the client API."
)

TAGS = [
    {"name": "accounts", "description": "Registration, your account, 2FA and recovery codes."},
    {"name": "sessions", "description": "Logging in and out, token refresh, your devices."},
    {"name": "diary", "description": "The diary as a whole: sync and its hash chain."},
    {"name": "subjects", "description": "The people the diary is about, and their orders."},
    {"name": "incidents", "description": "Incidents: each revision kept, each one chained."},
    {"name": "evidence", "description": "Evidence files: tus uploads, records, downloads."},
    {"name": "chronology", "description": "The course-of-conduct summary of your diary."},
    {"name": "risk", "description": "S-DASH risk screenings, and answers the diary suggests."},
    {"name": "exports", "description": "Signed PDFs, evidence bundles and your account export."},
    {"name": "shares", "description": "Links that let an officer open a chronology."},
    {"name": "grants", "description": "Your consent for a caseworker: scope and expiry."},
    {"name": "organisations", "description": "Support services and police forces, their staff."},
    {"name": "clients", "description": "A caseworker's clients, within each one's consent."},
    {"name": "audit", "description": "Who saw or did what with your diary."},
    {"name": "operations", "description": "Health and readiness, for the people who run it."},
    {"name": "viewer", "description": "The officer's HTML viewer (not part of the client API)."},
]
_INTERNAL_TAGS = {"viewer"}
_INTERNAL_PATHS = {"/metrics"}
_BINARY = {"type": "string", "format": "binary"}
_JSON_TYPES = ("application/json", "application/problem+json")


def _required_header(path: str, operation: dict[str, Any], parameter: dict[str, Any]) -> bool:
    """Headers the server refuses to do without, though the route reads them as optional to
    answer their absence with its own problem (428, 400, 412) rather than a bare 422."""
    name = parameter["name"].lower()
    if name == "if-match":
        return "428" in operation.get("responses", {})
    if path.startswith("/v1/uploads") and operation.get("operationId") != "evidence_uploads_list":
        if name == "tus-resumable":
            return True
        if name == "upload-length":
            return operation.get("operationId") == "evidence_upload_create"
        if name == "upload-offset":
            return operation.get("operationId") == "evidence_upload_patch"
    return False


def _describe_bodies(doc: dict[str, Any]) -> None:
    """Downloads declare a binary schema (generators drop a response without one), the routes
    that answer 428 require If-Match, and what is not the client API is marked x-internal."""
    for path, path_item in doc["paths"].items():
        for operation in path_item.values():
            for response in operation.get("responses", {}).values():
                media = response.get("content", {})
                files = [m for m in media if m not in _JSON_TYPES and "schema" not in media[m]]
                if (
                    files
                    and "application/json" in media
                    and "schema" not in media["application/json"]
                ):
                    # A download whose result may be a JSON file (an export): a file like the
                    # others, and listed after them, since generators take the first they know.
                    media["application/json"] = media.pop("application/json")
                    files.append("application/json")
                for media_type, content in media.items():
                    if media_type in files:
                        content["schema"] = dict(_BINARY)
                    elif "schema" not in content:
                        content["schema"] = {"type": "object"}
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "header" and _required_header(path, operation, parameter):
                    parameter["required"] = True
            if path in _INTERNAL_PATHS or _INTERNAL_TAGS & set(operation.get("tags", [])):
                operation["x-internal"] = True


_ETAG = {
    "description": "The version of what the body shows: send it as If-Match to change it.",
    "schema": {"type": "string"},
}
_LOCATION = {
    "description": "Where the created (or, on a repeat, the original) resource is read.",
    "schema": {"type": "string", "format": "uri-reference"},
}
_CURRENT_ETAG = {
    "description": "The current version (the body's `etag`): merge, then retry with it.",
    "schema": {"type": "string"},
}
_FILE_ETAG = {"description": "The file's strong validator.", "schema": {"type": "string"}}
# Response headers the routes set themselves (so FastAPI cannot see them), by operation and
# the statuses they come with; tests/test_openapi.py checks each against a real response.
_CREATES = ("200", "201", "202")
_SENT_HEADERS: dict[str, dict[str, tuple[tuple[str, ...], dict[str, Any]]]] = {
    **{
        op: {"ETag": (_CREATES, _ETAG), "Location": (_CREATES, _LOCATION)}
        for op in ("subjects_create", "incidents_create", "evidence_create")
    },
    **{
        op: {"ETag": (("200",), _ETAG)}
        for op in (
            "subjects_get",
            "subjects_update",
            "incidents_get",
            "incidents_update",
            "evidence_get",
            "evidence_update",
            "clients_evidence_get",
        )
    },
    "clients_incidents_create": {"ETag": (_CREATES, _ETAG)},
    **{
        op: {"Location": (_CREATES, _LOCATION)}
        for op in ("exports_create", "clients_exports_create", "shares_create", "grants_create")
    },
    **{
        op: {"ETag": (("200", "206"), _FILE_ETAG)}
        for op in ("evidence_content_get", "clients_evidence_content_get", "exports_download")
    },
}
# A stale If-Match (app.diary.revisions.require_match) answers 412 with the current ETag.
_STALE = (
    "subjects_update", "subjects_delete", "incidents_update", "incidents_delete",
    "evidence_update", "evidence_delete",
)  # fmt: skip


def _declare_headers(doc: dict[str, Any]) -> None:
    for path_item in doc["paths"].values():
        for operation in path_item.values():
            op = operation.get("operationId")
            responses = operation.get("responses", {})
            for name, (statuses, header) in _SENT_HEADERS.get(op, {}).items():
                for status in statuses:
                    if status in responses:
                        responses[status].setdefault("headers", {})[name] = header
            if op in _STALE and "412" in responses:
                responses["412"].setdefault("headers", {})["ETag"] = _CURRENT_ETAG


def build_openapi(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=DESCRIPTION,
        routes=app.routes,
        tags=TAGS,
        contact={"name": "Chronicle maintainers", "url": "https://chronicle.example/contact"},
        servers=[{"url": "/", "description": "This service (relative to where it is served)"}],
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = PROBLEM_SCHEMA
    _name_enums(doc)
    _describe_bodies(doc)
    _declare_headers(doc)
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
    """Whether the route needs an access token anywhere in its dependency tree."""
    return any(
        d.call in (current_actor, access_token) or _needs_actor(d) for d in dependant.dependencies
    )


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _sorted(node: Any, *, keep_order: bool = False) -> Any:
    """Keys sorted for stable diffs, except a response's media types: their order is the
    server's preference, and code generators take the first one they support."""
    if isinstance(node, list):
        return [_sorted(item) for item in node]
    if not isinstance(node, dict):
        return node
    keys = list(node) if keep_order else sorted(node)
    return {key: _sorted(node[key], keep_order=key == "content") for key in keys}


def render(app: FastAPI) -> str:
    return json.dumps(_sorted(app.openapi()), indent=2, ensure_ascii=False) + "\n"
