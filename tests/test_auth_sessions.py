"""Login, refresh rotation, reuse detection, logout and session management."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.db import utcnow
from app.models import AuthSession, RefreshToken
from tests.conftest import PASSWORD, User, login, new_user, register


def _refresh(client: TestClient, token: str) -> tuple[int, dict[str, object]]:
    response = client.post("/v1/auth/refresh", json={"refresh_token": token})
    return response.status_code, response.json()


def test_login_returns_bearer_tokens_that_open_the_account(client: TestClient) -> None:
    handle = register(client, "sunflower")
    response = client.post("/v1/auth/token", json={"username": handle, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["access_token"].startswith("cha_") and len(body["access_token"]) >= 40
    assert body["refresh_token"].startswith("chr_")
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == handle
    assert me.json()["role"] == "victim"


def test_refresh_rotates_and_the_old_access_token_still_works_until_expiry(
    client: TestClient, alice: User
) -> None:
    status, body = _refresh(client, alice.refresh)
    assert status == 200
    assert body["refresh_token"] != alice.refresh
    assert body["session_id"] == alice.session_id
    new_auth = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/v1/me", headers=new_auth).status_code == 200


def test_reused_refresh_token_revokes_the_family(
    client: TestClient, alice: User, app: FastAPI
) -> None:
    status, first = _refresh(client, alice.refresh)
    assert status == 200
    status, second = _refresh(client, str(first["refresh_token"]))
    assert status == 200
    # The stale first token comes back (a thief, or a confused client): the family dies.
    status, body = _refresh(client, alice.refresh)
    assert status == 401
    assert body["status"] == 401
    status, _ = _refresh(client, str(second["refresh_token"]))
    assert status == 401
    latest = {"Authorization": f"Bearer {second['access_token']}"}
    assert client.get("/v1/me", headers=latest).status_code == 401
    events = client.get("/v1/me/security-events", headers=new_user(client).auth)
    assert events.status_code == 200  # another account's log is unaffected


def test_retry_within_grace_window_gets_the_same_pair(client: TestClient, alice: User) -> None:
    status, first = _refresh(client, alice.refresh)
    status_again, again = _refresh(client, alice.refresh)
    assert (status, status_again) == (200, 200)
    assert again["access_token"] == first["access_token"]
    assert again["refresh_token"] == first["refresh_token"]


def test_grace_window_covers_only_the_latest_rotation(client: TestClient, alice: User) -> None:
    _, first = _refresh(client, alice.refresh)
    status, _ = _refresh(client, str(first["refresh_token"]))
    assert status == 200
    status, _ = _refresh(client, alice.refresh)
    assert status == 401


def test_grace_window_expires(client: TestClient, alice: User, app: FastAPI) -> None:
    status, _ = _refresh(client, alice.refresh)
    assert status == 200
    with app.state.ctx.sessionmaker.begin() as session:
        session.execute(update(RefreshToken).values(used_at=utcnow() - timedelta(minutes=5)))
    status, _ = _refresh(client, alice.refresh)
    assert status == 401


def test_idle_refresh_token_expires(client: TestClient, alice: User, app: FastAPI) -> None:
    with app.state.ctx.sessionmaker.begin() as session:
        session.execute(update(RefreshToken).values(created_at=utcnow() - timedelta(days=15)))
    status, body = _refresh(client, alice.refresh)
    assert status == 401
    assert "idle" in str(body["detail"])


def test_absolute_session_expiry(client: TestClient, alice: User, app: FastAPI) -> None:
    with app.state.ctx.sessionmaker.begin() as session:
        session.execute(update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert _refresh(client, alice.refresh)[0] == 401
    assert client.get("/v1/me", headers=alice.auth).status_code == 401


def test_unknown_and_malformed_refresh_tokens_are_401(client: TestClient) -> None:
    assert _refresh(client, "chr_" + "A" * 43)[0] == 401
    assert _refresh(client, "not-a-token")[0] == 401
    response = client.post("/v1/auth/refresh", json={"refresh_token": "x" * 500})
    assert response.status_code == 422


def test_logout_ends_the_session_at_once(client: TestClient, alice: User) -> None:
    assert client.post("/v1/auth/logout", headers=alice.auth).status_code == 204
    assert client.get("/v1/me", headers=alice.auth).status_code == 401
    assert _refresh(client, alice.refresh)[0] == 401


def test_sessions_list_shows_server_side_facts(client: TestClient, alice: User) -> None:
    other = login(client, alice.username)
    response = client.get("/v1/sessions", headers=alice.auth)
    assert response.status_code == 200
    items = response.json()["items"]
    assert {item["id"] for item in items} == {alice.session_id, other.session_id}
    current = [item for item in items if item["current"]]
    assert [item["id"] for item in current] == [alice.session_id]
    assert current[0]["device"] == "testclient"
    assert current[0]["address"] == "testclient"


def test_revoke_one_session(client: TestClient, alice: User) -> None:
    other = login(client, alice.username)
    response = client.delete(f"/v1/sessions/{other.session_id}", headers=alice.auth)
    assert response.status_code == 204
    assert client.get("/v1/me", headers=other.auth).status_code == 401
    assert client.get("/v1/me", headers=alice.auth).status_code == 200


def test_another_accounts_session_id_is_404(client: TestClient, alice: User, bob: User) -> None:
    response = client.delete(f"/v1/sessions/{bob.session_id}", headers=alice.auth)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/me", headers=bob.auth).status_code == 200


def test_revoke_all_ends_every_session(client: TestClient, alice: User) -> None:
    other = login(client, alice.username)
    response = client.post("/v1/sessions/revoke-all", headers=alice.auth)
    assert response.json() == {"revoked": 2}
    assert client.get("/v1/me", headers=alice.auth).status_code == 401
    assert client.get("/v1/me", headers=other.auth).status_code == 401


def test_password_change_ends_the_other_sessions(client: TestClient, alice: User) -> None:
    other = login(client, alice.username)
    new_password = "a different long passphrase 42"
    response = client.post(
        "/v1/me/password",
        headers=alice.auth,
        json={"current_password": PASSWORD, "new_password": new_password},
    )
    assert response.status_code == 204
    assert client.get("/v1/me", headers=alice.auth).status_code == 200
    assert client.get("/v1/me", headers=other.auth).status_code == 401
    login(client, alice.username, new_password)
    failed = client.post("/v1/auth/token", json={"username": alice.username, "password": PASSWORD})
    assert failed.status_code == 401


def test_password_change_needs_the_current_password(client: TestClient, alice: User) -> None:
    response = client.post(
        "/v1/me/password",
        headers=alice.auth,
        json={"current_password": "wrong wrong wrong wrong", "new_password": "x" * 20 + "yz"},
    )
    assert response.status_code == 401


def test_tampered_or_missing_access_tokens_are_401(client: TestClient, alice: User) -> None:
    tampered = alice.access[:-2] + ("AA" if not alice.access.endswith("AA") else "BB")
    for headers in (
        {},
        {"Authorization": f"Bearer {tampered}"},
        {"Authorization": f"Basic {alice.access}"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {alice.refresh}"},
        {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."},
    ):
        response = client.get("/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


def test_expired_access_token_is_401(client: TestClient, alice: User, app: FastAPI) -> None:
    from app.models import AccessToken

    with app.state.ctx.sessionmaker.begin() as session:
        session.execute(update(AccessToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/v1/me", headers=alice.auth).status_code == 401


def test_tokens_are_stored_only_as_hashes(client: TestClient, alice: User, app: FastAPI) -> None:
    with app.state.ctx.engine.connect() as conn:
        dump = "\n".join(str(row) for row in conn.execute(select(RefreshToken)).all())
    assert alice.refresh not in dump
    assert alice.refresh.encode().hex() not in dump
