"""The committed spec is the app's spec, and every operation is named and documented."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app import openapi
from app.openapi import render
from tests.conftest import User
from tests.diary.support import incident_body, subject_body, with_etag
from tests.evidence import support as evidence_support
from tests.exports import jobs_support

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


def test_declared_response_headers_are_sent(client: TestClient, alice: User) -> None:
    """Each ETag / Location the spec declares for a status comes with a real response."""
    spec = json.loads(SPEC.read_text())
    operations = {op["operationId"]: op for item in spec["paths"].values() for op in item.values()}
    checked: set[tuple[str, str]] = set()

    def sent(operation_id: str, response: httpx.Response) -> httpx.Response:
        status = str(response.status_code)
        declared = operations[operation_id]["responses"][status].get("headers", {})
        missing = [name for name in declared if name not in response.headers]
        assert missing == [], (operation_id, status, response.text)
        checked.update((operation_id, name) for name in declared)
        return response

    subject = sent(
        "subjects_create", client.post("/v1/subjects", json=subject_body(), headers=alice.auth)
    )
    subject_id, subject_etag = subject.json()["id"], subject.headers["etag"]
    sent("subjects_get", client.get(f"/v1/subjects/{subject_id}", headers=alice.auth))
    stale = with_etag(alice, '"0-stale"')
    sent(
        "subjects_update",
        client.patch(f"/v1/subjects/{subject_id}", json={"name": "B"}, headers=stale),
    )
    sent("subjects_delete", client.request("DELETE", f"/v1/subjects/{subject_id}", headers=stale))
    sent(
        "subjects_update",
        client.patch(
            f"/v1/subjects/{subject_id}", json={"name": "B"}, headers=with_etag(alice, subject_etag)
        ),
    )

    incident = sent(
        "incidents_create", client.post("/v1/incidents", json=incident_body(), headers=alice.auth)
    )
    incident_id, incident_etag = incident.json()["id"], incident.headers["etag"]
    sent(
        "incidents_create",
        client.post(
            "/v1/incidents", json={**incident_body(), "id": incident_id}, headers=alice.auth
        ),
    )
    sent("incidents_get", client.get(f"/v1/incidents/{incident_id}", headers=alice.auth))
    sent(
        "incidents_update",
        client.patch(f"/v1/incidents/{incident_id}", json={"description": "x"}, headers=stale),
    )
    sent(
        "incidents_delete", client.request("DELETE", f"/v1/incidents/{incident_id}", headers=stale)
    )
    sent(
        "incidents_update",
        client.patch(
            f"/v1/incidents/{incident_id}",
            json={"description": "x"},
            headers=with_etag(alice, incident_etag),
        ),
    )

    evidence = sent(
        "evidence_create",
        evidence_support.multipart(client, alice.auth, evidence_support.jpeg_with_exif()),
    )
    evidence_id, evidence_etag = evidence.json()["id"], evidence.headers["etag"]
    sent("evidence_get", client.get(f"/v1/evidence/{evidence_id}", headers=alice.auth))
    sent(
        "evidence_content_get",
        client.get(f"/v1/evidence/{evidence_id}/content", headers=alice.auth),
    )
    ranged = {**alice.auth, "Range": "bytes=0-9"}
    sent("evidence_content_get", client.get(f"/v1/evidence/{evidence_id}/content", headers=ranged))
    sent(
        "evidence_update",
        client.patch(f"/v1/evidence/{evidence_id}", json={"caption": "c"}, headers=stale),
    )
    sent("evidence_delete", client.request("DELETE", f"/v1/evidence/{evidence_id}", headers=stale))
    sent(
        "evidence_update",
        client.patch(
            f"/v1/evidence/{evidence_id}",
            json={"caption": "c"},
            headers=with_etag(alice, evidence_etag),
        ),
    )

    job = sent(
        "exports_create", client.post("/v1/exports", json={"format": "json"}, headers=alice.auth)
    )
    done = jobs_support.wait(client, alice, job.json()["id"])
    assert done["status"] == "done", done
    sent("exports_download", client.get(f"/v1/exports/{done['id']}/download", headers=alice.auth))

    victim_side = {
        (op, name)
        for op, headers in openapi._SENT_HEADERS.items()
        if not op.startswith(("clients_", "shares_", "grants_"))
        for name in headers
    } | {(op, "ETag") for op in openapi._STALE}
    assert victim_side <= checked
