"""The HTTP contract: problem+json everywhere, limits, negotiation, headers, logs."""

from __future__ import annotations

import json
import socket
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from app.main import create_app
from app.models import Account
from app.settings import Settings
from tests.conftest import PASSWORD, LiveServer, User

MARKER = "MARKER-b7e2-diary-text-never-logged"


def _is_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    assert "Traceback" not in response.text
    return dict(body)


def test_unknown_route_is_a_problem(client: TestClient) -> None:
    _is_problem(client.get("/v1/nothing-here"), 404)


def test_wrong_method_is_405_with_allow(client: TestClient) -> None:
    response = client.put("/v1/me", json={})
    _is_problem(response, 405)
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "PATCH", "DELETE"}


def test_wrong_content_type_is_415_and_changes_nothing(client: TestClient, app: FastAPI) -> None:
    body = json.dumps({"username": "form-user", "password": PASSWORD})
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        response = client.post("/v1/accounts", content=body, headers={"Content-Type": content_type})
        _is_problem(response, 415)
    with app.state.ctx.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 0


def test_unacceptable_accept_is_406(client: TestClient) -> None:
    _is_problem(client.get("/healthz", headers={"Accept": "text/html"}), 406)
    assert client.get("/healthz", headers={"Accept": "application/json"}).status_code == 200
    assert client.get("/healthz", headers={"Accept": "*/*"}).status_code == 200


def test_malformed_json_is_400_and_invalid_values_422(client: TestClient) -> None:
    response = client.post(
        "/v1/accounts", content=b'{"username": "x", ', headers={"Content-Type": "application/json"}
    )
    _is_problem(response, 400)
    assert response.json()["type"].endswith("/malformed-json") and response.json()["errors"]
    _is_problem(client.post("/v1/accounts", json={"username": 5}), 422)


def test_deeply_nested_json_is_rejected_cleanly(client: TestClient) -> None:
    nested = "[" * 50_000 + "]" * 50_000
    response = client.post(
        "/v1/accounts", content=nested, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 413, 422)
    assert response.headers["content-type"] == "application/problem+json"


def test_body_over_the_limit_is_413_before_it_is_read(live_server: LiveServer) -> None:
    limit = 1024 * 1024
    # Declared too large: refused from the headers alone (100x the limit is never sent).
    with socket.create_connection(("127.0.0.1", int(live_server.url.rsplit(":", 1)[1]))) as sock:
        sock.sendall(
            b"POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {limit * 100}\r\n\r\n".encode()
        )
        reply = sock.recv(65536).decode()
    assert reply.startswith("HTTP/1.1 413")
    assert "application/problem+json" in reply


def test_chunked_body_over_the_limit_is_413(live_server: LiveServer) -> None:
    def chunks() -> object:
        for _ in range(40):
            yield b" " * 65536

    response = httpx.post(
        live_server.url + "/v1/accounts",
        content=chunks(),  # type: ignore[arg-type]
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    _is_problem(response, 413)


def test_oversized_strings_are_422(client: TestClient) -> None:
    response = client.post("/v1/accounts", json={"username": "x" * 100_000, "password": PASSWORD})
    _is_problem(response, 422)


def test_security_headers_on_every_kind_of_response(client: TestClient, alice: User) -> None:
    for response in (
        client.get("/healthz"),
        client.get("/v1/me", headers=alice.auth),
        client.get("/v1/me"),
        client.get("/nowhere"),
        client.post("/v1/accounts", json={}),
    ):
        headers = response.headers
        assert headers["cache-control"] == "no-store"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-request-id"]
        assert "access-control-allow-origin" not in headers
    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "charset=utf-8" in metrics.headers["content-type"]


def test_cors_is_closed_by_default(client: TestClient) -> None:
    response = client.options(
        "/v1/me",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in response.headers


def test_wildcard_cors_with_credentials_is_refused_at_start_up() -> None:
    from pydantic import ValidationError

    from app.settings import Settings

    with pytest.raises(ValidationError):
        Settings(cors_origins=["*"])


def test_production_needs_a_database_and_a_key_ring() -> None:
    from pydantic import ValidationError

    from app.settings import Settings

    with pytest.raises(ValidationError, match="DATABASE_URL"):
        Settings(environment="production")


def test_forced_internal_error_is_generic_and_logs_no_content(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    def explode() -> None:
        raise RuntimeError(f"diary text {MARKER}")

    app.add_api_route("/v1/test-explode", explode, methods=["GET"])
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/v1/test-explode")
    body = _is_problem(response, 500)
    assert body["request_id"] == response.headers["x-request-id"]
    assert MARKER not in response.text
    assert MARKER not in caplog.text
    assert all(MARKER not in str(record.__dict__) for record in caplog.records)


def test_live_logs_hold_no_tokens_passwords_or_content(live_server: LiveServer) -> None:
    url = live_server.url
    username = f"{MARKER}-user"
    password = f"{MARKER} passphrase"
    created = httpx.post(url + "/v1/accounts", json={"username": username, "password": password})
    username = created.json()["username"]
    tokens = httpx.post(
        url + "/v1/auth/token", json={"username": username, "password": password}
    ).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    httpx.patch(url + "/v1/me", headers=auth, json={"email": "marker@example.org"})
    httpx.get(url + f"/v1/me?q={MARKER}", headers=auth)
    httpx.post(url + "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    httpx.post(url + "/v1/auth/token", json={"username": username, "password": "wrong " * 4})
    log = live_server.log_text()
    assert '"path": "/v1/me"' in log  # the access log is there...
    for secret in (MARKER, tokens["access_token"], tokens["refresh_token"], "marker@example"):
        assert secret not in log  # ...without any of these


def test_database_outage_is_503_and_recovers(client: TestClient, alice: User, app: FastAPI) -> None:
    engine = app.state.ctx.engine
    real_url = engine.url
    broken = app.state.ctx.engine.__class__  # noqa: F841 - documents intent
    from sqlalchemy import create_engine

    from app.db import make_sessionmaker

    dead = create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:1/none"
        if real_url.drivername.startswith("postgresql")
        else "sqlite:////nonexistent-dir/x.db"
    )
    healthy = app.state.ctx
    app.state.ctx = replace(healthy, sessionmaker=make_sessionmaker(dead))
    try:
        response = client.get("/v1/me", headers=alice.auth)
        _is_problem(response, 503)
        assert response.headers["retry-after"]
    finally:
        app.state.ctx = healthy
        dead.dispose()
    assert client.get("/v1/me", headers=alice.auth).status_code == 200


def test_no_secret_travels_in_a_query_string(app: FastAPI) -> None:
    spec = app.openapi()
    suspicious = ("token", "password", "secret", "passcode", "code", "key")
    for path, item in spec["paths"].items():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    assert not any(word in parameter["name"].lower() for word in suspicious), (
                        path,
                        parameter["name"],
                    )


def test_metrics_need_the_configured_token(settings: Settings) -> None:
    guarded = create_app(settings.model_copy(update={"metrics_token": SecretStr("s3cret-scrape")}))
    with TestClient(guarded, raise_server_exceptions=False) as scraper:
        assert scraper.get("/metrics").status_code == 401
        wrong = scraper.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "chronicle_http" not in wrong.text
        right = scraper.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
        assert right.status_code == 200 and "chronicle_http_requests_total" in right.text
    guarded.state.ctx.engine.dispose()
