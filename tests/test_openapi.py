"""The committed spec is the app's spec, and every operation is named and documented."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI

from app.openapi import render

SPEC = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def test_committed_spec_matches_the_app(app: FastAPI) -> None:
    assert SPEC.read_text() == render(app), "run `make openapi` and commit openapi/openapi.json"


def test_every_operation_has_a_stable_id_a_tag_and_problem_errors(app: FastAPI) -> None:
    spec = json.loads(render(app))
    ids = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            ids.append(operation["operationId"])
            assert operation.get("tags"), (method, path)
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert "application/problem+json" in response["content"], (path, status)
    assert len(ids) == len(set(ids))
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def _inline_enums(node: object) -> list[tuple[str, ...]]:
    if isinstance(node, dict):
        found = [tuple(node["enum"])] if "enum" in node else []
        return found + [e for value in node.values() for e in _inline_enums(value)]
    if isinstance(node, list):
        return [e for value in node for e in _inline_enums(value)]
    return []


def test_each_value_set_is_one_named_schema_for_code_generators(app: FastAPI) -> None:
    spec = json.loads(render(app))
    schemas = spec["components"]["schemas"]
    enums = _inline_enums(spec)
    # Each set of codes appears once (in its schema), so a generated client has one type each.
    repeated = [values for values in set(enums) if enums.count(values) > 1]
    assert repeated == []
    for name in ("BehaviourCode", "ChannelCode", "PrecisionCode", "Scope", "Jurisdiction"):
        assert schemas[name]["enum"], name
    create = spec["paths"]["/v1/incidents"]["post"]["requestBody"]["content"]
    body = schemas[create["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert body["properties"]["behaviours"]["items"]["$ref"].endswith("/BehaviourCode")
    assert "Answer" not in schemas and "ScreeningAnswer" in schemas


def test_the_spec_describes_what_a_client_generator_needs(app: FastAPI) -> None:
    spec = json.loads(render(app))
    assert {tag["name"] for tag in spec["tags"]} >= {"incidents", "evidence", "viewer"}
    assert all(tag["description"] for tag in spec["tags"])
    assert spec["info"]["contact"] and spec["servers"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert operation.get("description"), (method, path)
            for response in operation["responses"].values():
                for media_type, content in response.get("content", {}).items():
                    assert "schema" in content, (method, path, media_type)
    download = spec["paths"]["/v1/exports/{export_id}/download"]["get"]["responses"]["200"]
    assert download["content"]["application/pdf"]["schema"]["format"] == "binary"
    assert spec["paths"]["/s/{token}"]["get"]["x-internal"] is True
    assert spec["paths"]["/metrics"]["get"]["x-internal"] is True
    patched = spec["paths"]["/v1/incidents/{incident_id}"]["patch"]["parameters"]
    assert any(p["name"] == "If-Match" and p["required"] for p in patched)
