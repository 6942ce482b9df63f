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
