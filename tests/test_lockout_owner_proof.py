"""An attacker's failures cannot keep the owner out on a new device (issue 12, item 5).

Five wrong passwords put the account in back-off (429, Retry-After). The back-off stays for
the attacker, but the owner gets through with proof the attacker lacks: the right password
and a TOTP code, or the right password and a one-time recovery code. Every other attempt
during the back-off gets the same 429 as an attempt without any proof.
"""

from __future__ import annotations

import time

import pyotp
from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, User
from tests.sharing.support import enable_totp

NEW_PHONE = {"User-Agent": "Owner's new phone 2.0"}


def _token(client: TestClient, user: User, password: str, **extra: str) -> object:
    body = {"username": user.username, "password": password, **extra}
    return client.post("/v1/auth/token", json=body, headers=NEW_PHONE)


def _lock_out(client: TestClient, user: User) -> None:
    statuses = [
        client.post(
            "/v1/auth/token", json={"username": user.username, "password": f"attacker guess {i}"}
        ).status_code
        for i in range(6)
    ]
    assert statuses == [401] * 5 + [429]


def _shape(response: object) -> tuple[int, str, str]:
    body = response.json()  # type: ignore[attr-defined]
    return (
        response.status_code,  # type: ignore[attr-defined]
        body["type"],
        response.headers["content-type"],  # type: ignore[attr-defined]
    )


def _kinds(client: TestClient, user: User) -> list[str]:
    events = client.get("/v1/me/security-events", headers=user.auth).json()["items"]
    return [e["kind"] for e in events]


def _recovery_codes(client: TestClient, user: User, **extra: str) -> list[str]:
    response = client.post(
        "/v1/me/recovery-codes", headers=user.auth, json={"password": PASSWORD, **extra}
    )
    assert response.status_code == 201, response.text
    codes = response.json()["codes"]
    assert len(codes) == len(set(codes)) == 10
    return list(codes)


def _next_code(totp: pyotp.TOTP) -> str:
    return totp.at(time.time() + 30)  # the next step: enrolment used the current one


def test_brute_force_lockout_lets_the_owner_through_with_password_and_totp(
    client: TestClient, alice: User
) -> None:
    totp = enable_totp(client, alice)
    _lock_out(client, alice)
    plain = _token(client, alice, PASSWORD)
    assert plain.status_code == 429  # type: ignore[attr-defined]
    wrong_code = _token(client, alice, PASSWORD, totp_code="000000")
    assert _shape(wrong_code) == _shape(plain)
    assert wrong_code.headers["retry-after"]  # type: ignore[attr-defined]
    # The attacker's guesses with a made-up code look exactly like the lock-out itself.
    guess = _token(client, alice, "attacker guess again", totp_code=_next_code(totp))
    assert _shape(guess) == _shape(plain)

    owner = _token(client, alice, PASSWORD, totp_code=_next_code(totp))
    assert owner.status_code == 200, owner.text  # type: ignore[attr-defined]
    kinds = _kinds(client, alice)
    assert kinds[0] == "new_device" and "lockout_passed_totp" in kinds
    assert "lockout_proof_failed" in kinds  # the owner sees that someone knew her password
    # The back-off is kept: the attacker is still locked out.
    assert _token(client, alice, "attacker guess later").status_code == 429  # type: ignore[attr-defined]


def test_brute_force_lockout_lets_the_owner_through_with_password_and_recovery_code(
    client: TestClient, alice: User
) -> None:
    replaced = _recovery_codes(client, alice)
    codes = _recovery_codes(client, alice)  # a new set: the first stops working
    _lock_out(client, alice)
    old = _token(client, alice, PASSWORD, recovery_code=replaced[0])
    assert old.status_code == 429  # type: ignore[attr-defined]
    # A recovery code with the wrong password is refused like any lock-out, and not spent.
    stolen = _token(client, alice, "attacker guess with a code", recovery_code=codes[0])
    assert stolen.status_code == 429  # type: ignore[attr-defined]
    owner = _token(client, alice, PASSWORD, recovery_code=codes[0].upper().replace("-", " "))
    assert owner.status_code == 200, owner.text  # type: ignore[attr-defined]
    kinds = _kinds(client, alice)
    assert "lockout_passed_recovery_code" in kinds and "recovery_code_used" in kinds
    # Each code works once.
    again = _token(client, alice, PASSWORD, recovery_code=codes[0])
    assert again.status_code == 429  # type: ignore[attr-defined]
    assert _token(client, alice, PASSWORD, recovery_code=codes[1]).status_code == 200  # type: ignore[attr-defined]


def test_brute_force_wrong_proofs_with_the_right_password_are_limited(
    client: TestClient, alice: User
) -> None:
    codes = _recovery_codes(client, alice)
    _lock_out(client, alice)
    for i in range(5):
        assert _token(client, alice, PASSWORD, recovery_code=f"nope-{i}").status_code == 429  # type: ignore[attr-defined]
    # Whoever knows the password cannot keep guessing proofs: even a good code now waits.
    assert _token(client, alice, PASSWORD, recovery_code=codes[0]).status_code == 429  # type: ignore[attr-defined]


def test_a_recovery_code_stands_in_for_the_totp_code(client: TestClient, alice: User) -> None:
    totp = enable_totp(client, alice)
    codes = _recovery_codes(client, alice, totp_code=_next_code(totp))
    assert _token(client, alice, PASSWORD, recovery_code=codes[3]).status_code == 200  # type: ignore[attr-defined]
    assert _token(client, alice, PASSWORD, recovery_code=codes[3]).status_code == 401  # type: ignore[attr-defined]


def test_recovery_codes_need_the_password(client: TestClient, alice: User) -> None:
    refused = client.post(
        "/v1/me/recovery-codes", headers=alice.auth, json={"password": "not my password at all"}
    )
    assert refused.status_code == 401
    assert client.post("/v1/me/recovery-codes", json={"password": PASSWORD}).status_code == 401
