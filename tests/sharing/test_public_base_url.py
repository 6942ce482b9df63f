"""Absolute URLs come from PUBLIC_BASE_URL, never from the request's Host header (issue 12)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.main import create_app
from app.settings import Settings
from tests.conftest import User, new_user
from tests.sharing.shares_support import share_body


def test_a_spoofed_host_header_does_not_change_the_share_url(
    client: TestClient, alice: User
) -> None:
    spoofed = client.post(
        "/v1/shares",
        headers={**alice.auth, "Host": "evil.example", "X-Forwarded-Host": "evil.example"},
        json=share_body(),
    )
    assert spoofed.status_code == 201, spoofed.text
    made = spoofed.json()
    assert made["url"] == "http://127.0.0.1:8000/s/" + made["token"]
    assert "evil" not in spoofed.text
    assert spoofed.headers["location"] == f"/v1/shares/{made['id']}"


def test_the_share_url_uses_the_configured_public_base_url(settings: Settings) -> None:
    configured = settings.model_copy(update={"public_base_url": "https://chronicle.example/"})
    application: FastAPI = create_app(configured)
    try:
        with TestClient(application, raise_server_exceptions=False) as client:
            victim = new_user(client)
            made = client.post(
                "/v1/shares", headers={**victim.auth, "Host": "evil.example"}, json=share_body()
            ).json()
            assert made["url"] == "https://chronicle.example/s/" + made["token"]
    finally:
        application.state.ctx.engine.dispose()


def test_public_base_url_must_be_an_http_url() -> None:
    for bad in ("chronicle.example", "ftp://chronicle.example", "https://x.example/?a=1"):
        with pytest.raises(ValidationError):
            Settings(environment="test", public_base_url=bad)
