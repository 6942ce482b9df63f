"""Registration, password policy, enumeration resistance, brute-force defence, two-factor."""

from __future__ import annotations

import re
import statistics
import time

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.crypto.passwords import PasswordHasher
from app.models import Account, RateLimitBucket
from tests.conftest import PASSWORD, User, login, new_user, register


def _token(client: TestClient, username: str, password: str, **extra: str) -> object:
    return client.post("/v1/auth/token", json={"username": username, "password": password, **extra})


# Password policy -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("fourteen chars", False),  # 14
        ("fifteen chars!!", True),  # 15
        ("x7" * 40 + " a long passphrase of more than sixty-four characters", True),
        ("passwordpassword", False),  # a common password, repeated
        ("aaaaaaaaaaaaaaaaaaaa", False),
        ("123456789012345678", False),
        ("qwertyuiopasdfghjkl", False),
        ("1qaz2wsx3edc4rfv", False),  # on the shipped common-password list
        ("dragon 1234567890!", False),  # a common word padded with digits
        ("my chronicle password", False),
        ("😀 emoji are fine in a passphrase", True),
    ],
)
def test_password_policy(client: TestClient, password: str, accepted: bool) -> None:
    response = client.post("/v1/accounts", json={"username": "policy-user", "password": password})
    assert response.status_code == (201 if accepted else 422), response.text
    if not accepted:
        assert response.headers["content-type"] == "application/problem+json"
        assert password not in response.text


def test_password_containing_the_username_is_rejected(client: TestClient) -> None:
    response = client.post(
        "/v1/accounts", json={"username": "marigold", "password": "marigold is my name ok"}
    )
    assert response.status_code == 422


def test_passwords_are_not_truncated(client: TestClient) -> None:
    base = "b" + "correct horse battery staple " * 3  # more than 72 bytes
    handle = register(client, "long-pass", base + "one")
    assert _token(client, handle, base + "two").status_code == 401  # type: ignore[attr-defined]
    login(client, handle, base + "one")


def test_stored_hash_is_argon2id_at_owasp_minimum_and_salted(
    client: TestClient, app: FastAPI
) -> None:
    register(client, "hash-one")
    register(client, "hash-two")
    with app.state.ctx.sessionmaker() as session:
        hashes = session.scalars(select(Account.password_hash)).all()
    assert len(hashes) == 2 and hashes[0] != hashes[1]
    for stored in hashes:
        assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_raised_parameters_upgrade_the_hash_at_next_login(client: TestClient, app: FastAPI) -> None:
    handle = register(client, "upgrade-me")
    ctx = app.state.ctx
    object.__setattr__(
        ctx, "hasher", PasswordHasher(time_cost=3, memory_kib=19456, parallelism=1, concurrency=2)
    )
    login(client, handle)
    with ctx.sessionmaker() as session:
        stored = session.scalars(select(Account.password_hash)).one()
    assert stored.startswith("$argon2id$v=19$m=19456,t=3,p=1$")
    login(client, handle)


# Validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "ok-name"},
        {"username": 12345, "password": PASSWORD},
        {"username": "ok-name", "password": ["list"]},
        {"username": "ab", "password": PASSWORD},
        {"username": "x" * 300, "password": PASSWORD},
        {"username": "bad\x00name", "password": PASSWORD},
        {"username": "rtl\u202ename", "password": PASSWORD},
        {"username": "ok-name", "password": PASSWORD, "role": "admin"},
        {"username": "ok-name", "password": PASSWORD, "email": "not an email"},
        {"username": "ok-name", "password": "p" * 5000},
    ],
)
def test_bad_registrations_are_422_problems(client: TestClient, body: object) -> None:
    response = client.post("/v1/accounts", json=body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["status"] == 422
    assert problem["type"].endswith("/validation-error")
    assert all(set(error) == {"loc", "msg"} for error in problem["errors"])


def test_mass_assigned_role_is_refused_and_nothing_is_stored(
    client: TestClient, app: FastAPI
) -> None:
    response = client.post(
        "/v1/accounts",
        json={"username": "sneaky", "password": PASSWORD, "role": "admin", "owner_id": "x"},
    )
    assert response.status_code == 422
    with app.state.ctx.sessionmaker() as session:
        assert session.scalars(select(Account)).all() == []


def test_email_is_optional_and_kept_encrypted(client: TestClient, app: FastAPI) -> None:
    created = client.post(
        "/v1/accounts",
        json={"username": "with-mail", "password": PASSWORD, "email": "rose@example.org"},
    )
    user = login(client, created.json()["username"])
    assert client.get("/v1/me", headers=user.auth).json()["email"] == "rose@example.org"
    with app.state.ctx.sessionmaker() as session:
        row = session.scalars(select(Account)).one()
    assert b"rose@example.org" not in (row.email_enc or b"")
    assert b"with-mail" not in row.username_enc


def test_usernames_are_case_insensitive(client: TestClient) -> None:
    handle = register(client, "Heather")
    assert handle.startswith("Heather-")
    login(client, handle.lower())


def test_patch_me_updates_email_and_jurisdiction(client: TestClient, alice: User) -> None:
    response = client.patch(
        "/v1/me", headers=alice.auth, json={"email": "a@example.org", "jurisdiction": "scotland"}
    )
    assert response.status_code == 200
    assert response.json()["jurisdiction"] == "scotland"
    assert response.json()["email"] == "a@example.org"
    bad = client.patch("/v1/me", headers=alice.auth, json={"role": "admin"})
    assert bad.status_code == 422
    assert client.get("/v1/me", headers=alice.auth).json()["role"] == "victim"


# Enumeration -----------------------------------------------------------------------------


def _shape(response: object) -> tuple[int, object, list[str]]:
    body = response.json()  # type: ignore[attr-defined]
    if isinstance(body, dict):
        body.pop("request_id", None)
    names = sorted(
        k
        for k in response.headers
        if k not in ("x-request-id", "content-length")  # type: ignore[attr-defined]
    )
    return response.status_code, body, names  # type: ignore[attr-defined]


def test_registering_a_taken_name_looks_the_same_as_a_new_one(client: TestClient) -> None:
    first = client.post("/v1/accounts", json={"username": "lavender", "password": PASSWORD})
    again = client.post(
        "/v1/accounts", json={"username": "lavender", "password": "another long passphrase"}
    )
    first_shape, again_shape = _shape(first), _shape(again)
    # Only the random suffix of the returned handle differs.
    for shape in (first_shape, again_shape):
        assert isinstance(shape[1], dict)
        assert re.fullmatch(r"lavender-[0-9]{4}", shape[1].pop("username"))
    assert first_shape == again_shape
    assert first.status_code == 201


def test_unknown_user_and_wrong_password_look_the_same(client: TestClient, alice: User) -> None:
    wrong = _token(client, alice.username, "wrong password for alice")
    unknown = _token(client, "nobody-here", "wrong password for alice")
    assert _shape(wrong) == _shape(unknown)
    assert wrong.status_code == 401  # type: ignore[attr-defined]


def test_unknown_user_and_wrong_password_take_the_same_time(
    client: TestClient, alice: User
) -> None:
    def timed(username: str) -> float:
        started = time.perf_counter()
        _token(client, username, "wrong password " + username)
        return time.perf_counter() - started

    # Interleave so drift in machine load hits both equally; fewer than the lock-out threshold.
    known, unknown = [], []
    for i in range(4):
        known.append(timed(alice.username))
        unknown.append(timed(f"ghost-{i}"))
    ratio = statistics.median(known) / statistics.median(unknown)
    assert 0.5 < ratio < 2.0, (known, unknown)


# Brute force -----------------------------------------------------------------------------


def test_repeated_failures_back_off_with_retry_after(client: TestClient, alice: User) -> None:
    statuses = [
        _token(client, alice.username, f"wrong guess number {i}").status_code  # type: ignore[attr-defined]
        for i in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    blocked = _token(client, alice.username, PASSWORD)
    assert blocked.status_code == 429  # type: ignore[attr-defined]
    assert int(blocked.headers["retry-after"]) > 0  # type: ignore[attr-defined]
    assert blocked.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]


def test_lockout_is_the_same_for_unknown_accounts(client: TestClient) -> None:
    statuses = [
        _token(client, "does-not-exist", f"wrong guess number {i}").status_code  # type: ignore[attr-defined]
        for i in range(7)
    ]
    assert statuses == [401] * 5 + [429, 429]


def test_lockout_ends_after_the_back_off(client: TestClient, alice: User, app: FastAPI) -> None:
    for i in range(6):
        _token(client, alice.username, f"wrong guess number {i}")
    with app.state.ctx.sessionmaker.begin() as session:
        session.execute(update(RateLimitBucket).values(blocked_until=None))
    assert _token(client, alice.username, PASSWORD).status_code == 200  # type: ignore[attr-defined]


def test_a_known_device_is_not_locked_out_by_a_strangers_failures(
    client: TestClient, alice: User
) -> None:
    assert alice.device_token
    for i in range(8):
        _token(client, alice.username, f"attacker guess {i}")
    assert _token(client, alice.username, PASSWORD).status_code == 429  # type: ignore[attr-defined]
    owner = _token(client, alice.username, PASSWORD, device_token=alice.device_token)
    assert owner.status_code == 200  # type: ignore[attr-defined]


def test_another_accounts_device_token_does_not_bypass_the_limit(
    client: TestClient, alice: User
) -> None:
    attacker = new_user(client)
    assert attacker.device_token
    statuses = [
        _token(
            client, alice.username, f"guess {i} of many", device_token=attacker.device_token
        ).status_code  # type: ignore[attr-defined]
        for i in range(6)
    ]
    assert statuses == [401] * 5 + [429]


def test_failed_logins_show_in_the_owners_security_log(client: TestClient, alice: User) -> None:
    _token(client, alice.username, "someone else guessing")
    kinds = [
        e["kind"] for e in client.get("/v1/me/security-events", headers=alice.auth).json()["items"]
    ]
    assert kinds[0] == "login_failed"
    assert "login" in kinds and "new_device" in kinds and "account_created" in kinds


def test_new_device_is_flagged_once(client: TestClient, alice: User) -> None:
    client.post(
        "/v1/auth/token",
        json={"username": alice.username, "password": PASSWORD},
        headers={"User-Agent": "Unknown Phone 1.0"},
    )
    login(client, alice.username)
    events = client.get("/v1/me/security-events", headers=alice.auth).json()["items"]
    new_devices = [e["device"] for e in events if e["kind"] == "new_device"]
    assert sorted(new_devices) == ["Unknown Phone 1.0", "testclient"]


def test_security_log_pages_with_a_cursor(client: TestClient, alice: User) -> None:
    for _ in range(3):
        login(client, alice.username)
    first = client.get("/v1/me/security-events?limit=2", headers=alice.auth).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = client.get(
        f"/v1/me/security-events?limit=2&cursor={first['next_cursor']}", headers=alice.auth
    ).json()
    assert {e["id"] for e in first["items"]}.isdisjoint({e["id"] for e in second["items"]})
    bad = client.get("/v1/me/security-events?cursor=!!!", headers=alice.auth)
    assert bad.status_code == 422
    huge = client.get("/v1/me/security-events?limit=1000000", headers=alice.auth)
    assert huge.status_code == 422


# Two-factor ------------------------------------------------------------------------------


def _enable_totp(client: TestClient, user: User) -> pyotp.TOTP:
    start = client.post("/v1/me/totp", headers=user.auth)
    assert start.status_code == 200
    assert start.json()["otpauth_uri"].startswith("otpauth://totp/Chronicle:")
    totp = pyotp.TOTP(start.json()["secret"])
    confirm = client.post("/v1/me/totp/confirm", headers=user.auth, json={"code": totp.now()})
    assert confirm.status_code == 204
    return totp


def _code_at(totp: pyotp.TOTP, steps_from_now: int) -> str:
    return totp.at(time.time() + 30 * steps_from_now)


def test_totp_is_required_once_enabled(client: TestClient, alice: User) -> None:
    totp = _enable_totp(client, alice)
    assert client.get("/v1/me", headers=alice.auth).json()["totp_enabled"] is True
    missing = _token(client, alice.username, PASSWORD)
    assert missing.status_code == 401  # type: ignore[attr-defined]
    assert missing.json()["totp_required"] is True  # type: ignore[attr-defined]
    ok = _token(client, alice.username, PASSWORD, totp_code=_code_at(totp, 1))
    assert ok.status_code == 200  # type: ignore[attr-defined]


def test_totp_accepts_one_step_of_drift_but_not_two(client: TestClient, alice: User) -> None:
    totp = _enable_totp(client, alice)
    two_behind = _token(client, alice.username, PASSWORD, totp_code=_code_at(totp, -2))
    two_ahead = _token(client, alice.username, PASSWORD, totp_code=_code_at(totp, 2))
    assert (two_behind.status_code, two_ahead.status_code) == (401, 401)  # type: ignore[attr-defined]
    one_ahead = _token(client, alice.username, PASSWORD, totp_code=_code_at(totp, 1))
    assert one_ahead.status_code == 200  # type: ignore[attr-defined]


def test_a_totp_code_is_never_accepted_twice(client: TestClient, alice: User) -> None:
    totp = _enable_totp(client, alice)
    code = _code_at(totp, 1)
    assert _token(client, alice.username, PASSWORD, totp_code=code).status_code == 200  # type: ignore[attr-defined]
    assert _token(client, alice.username, PASSWORD, totp_code=code).status_code == 401  # type: ignore[attr-defined]


def test_totp_attempts_are_limited(client: TestClient, alice: User) -> None:
    _enable_totp(client, alice)
    statuses = [
        _token(client, alice.username, PASSWORD, totp_code="000000").status_code  # type: ignore[attr-defined]
        for _ in range(6)
    ]
    assert statuses[-1] == 429


def test_disabling_totp_needs_the_password_and_is_logged(client: TestClient, alice: User) -> None:
    totp = _enable_totp(client, alice)
    wrong = client.post(
        "/v1/me/totp/disable",
        headers=alice.auth,
        json={"password": "not the password at all", "totp_code": _code_at(totp, 1)},
    )
    assert wrong.status_code == 401
    ok = client.post(
        "/v1/me/totp/disable",
        headers=alice.auth,
        json={"password": PASSWORD, "totp_code": _code_at(totp, 1)},
    )
    assert ok.status_code == 204
    login(client, alice.username)
    kinds = [
        e["kind"] for e in client.get("/v1/me/security-events", headers=alice.auth).json()["items"]
    ]
    assert "totp_enabled" in kinds and "totp_disabled" in kinds


def test_wrong_confirmation_code_does_not_enable_totp(client: TestClient, alice: User) -> None:
    client.post("/v1/me/totp", headers=alice.auth)
    response = client.post("/v1/me/totp/confirm", headers=alice.auth, json={"code": "123456"})
    assert response.status_code == 422
    assert client.get("/v1/me", headers=alice.auth).json()["totp_enabled"] is False
    malformed = client.post("/v1/me/totp/confirm", headers=alice.auth, json={"code": "12345x"})
    assert malformed.status_code == 422


def test_other_users_are_unaffected(client: TestClient, alice: User) -> None:
    other = new_user(client)
    _enable_totp(client, alice)
    login(client, other.username)
