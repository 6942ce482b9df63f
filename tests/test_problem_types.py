"""problem+json `type` URIs start with PROBLEM_TYPE_BASE (default PUBLIC_BASE_URL + /problems/)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.errors import DEFAULT_PROBLEM_TYPE_BASE
from app.main import create_app
from app.settings import Settings


def _types(settings: Settings) -> list[str]:
    application: FastAPI = create_app(settings)
    try:
        with TestClient(application, raise_server_exceptions=False) as client:
            answers = [
                client.get("/v1/me"),  # a route's own problem (401)
                client.get("/v1/nothing-here"),  # the router's (404)
                client.post(
                    "/v1/accounts", content=b"{", headers={"Content-Type": "application/json"}
                ),
                # the outermost middleware's, before any route (413 on the declared length)
                client.post("/v1/accounts", content=b"x" * (settings.max_json_body_bytes + 1)),
            ]
    finally:
        application.state.ctx.engine.dispose()
    assert [a.status_code for a in answers] == [401, 404, 400, 413]
    return [a.json()["type"] for a in answers]


def test_the_default_base_is_the_public_base_url(settings: Settings) -> None:
    assert (
        Settings.model_fields["public_base_url"].default + "/problems/" == DEFAULT_PROBLEM_TYPE_BASE
    )
    moved = settings.model_copy(update={"public_base_url": "https://diary.example.org/"})
    assert _types(moved) == [
        "https://diary.example.org/problems/" + name
        for name in ("unauthorized", "not-found", "malformed-json", "payload-too-large")
    ]


def test_a_configured_base_names_every_problem_type(settings: Settings) -> None:
    configured = settings.model_copy(update={"problem_type_base": "urn:example:chronicle:"})
    assert _types(configured) == [
        "urn:example:chronicle:" + name
        for name in ("unauthorized", "not-found", "malformed-json", "payload-too-large")
    ]


def test_the_base_must_be_an_absolute_uri() -> None:
    with pytest.raises(ValidationError):
        Settings(environment="test", problem_type_base="/problems/")
