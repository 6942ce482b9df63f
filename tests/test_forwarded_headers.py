"""TRUST_FORWARDED_FOR is the only switch for X-Forwarded-For (issue 12), against real servers.

uvicorn applies X-Forwarded-* from loopback peers by default, which would let any local client
choose the address that rate limits count and the session list shows; every server start
passes --no-proxy-headers so the app's own setting decides.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.settings import Settings
from tests.conftest import PASSWORD, start_server, stop_server

SPOOFED = "203.0.113.9"


def _session_address(url: str) -> str:
    with httpx.Client(base_url=url, timeout=30) as http:
        registered = http.post(
            "/v1/accounts", json={"username": "forwarded-user", "password": PASSWORD}
        )
        assert registered.status_code == 201, registered.text
        body = {"username": registered.json()["username"], "password": PASSWORD}
        headers = {"X-Forwarded-For": SPOOFED, "X-Forwarded-Proto": "https"}
        token = http.post("/v1/auth/token", json=body, headers=headers)
        assert token.status_code == 200, token.text
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        sessions = http.get("/v1/sessions", headers=auth)
        assert sessions.status_code == 200, sessions.text
        (session,) = sessions.json()["items"]
        return str(session["address"])


@pytest.mark.parametrize("trusted", [False, True])
def test_x_forwarded_for_from_loopback_counts_only_when_trust_forwarded_for_is_on(
    settings: Settings, app: FastAPI, tmp_path: Path, trusted: bool
) -> None:
    configured = settings.model_copy(update={"trust_forwarded_for": trusted})
    server = start_server(configured, tmp_path / "server.log")
    try:
        address = _session_address(server.url)
    finally:
        stop_server(server)
    assert address == (SPOOFED if trusted else "127.0.0.1")
