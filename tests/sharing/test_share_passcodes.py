"""Share passcodes: a minimum strength, and a lock-out the officer outlasts quickly (issue 12).

Whoever holds a leaked link can trip the per-share back-off with wrong guesses, and while it
lasts the officer's right passcode is refused too; so the back-off is capped short. The
passcode itself is held to the password policy's list of common and predictable choices.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.models import RateLimitBucket
from tests.conftest import User
from tests.sharing.shares_support import (
    PASSCODE,
    create_share,
    enter_passcode,
    share_body,
    token_of,
)
from tests.sharing.support import assert_problem


@pytest.mark.parametrize("weak", ["password1", "12345678", "qwertyuiop", "aaaaaaaaaa", "sunshine"])
def test_a_common_or_predictable_passcode_is_refused(
    client: TestClient, alice: User, weak: str
) -> None:
    response = client.post("/v1/shares", headers=alice.auth, json=share_body(passcode=weak))
    assert_problem(response, 422, "validation-error")
    assert ["body", "passcode"] in [error["loc"] for error in response.json()["errors"]]
    assert weak not in response.text
    assert client.get("/v1/shares", headers=alice.auth).json()["items"] == []


def _let_the_wait_pass(app: FastAPI) -> None:
    """As if the back-off had run out (the count of failures is kept)."""
    with app.state.ctx.sessionmaker.begin() as session:
        session.execute(
            update(RateLimitBucket)
            .where(RateLimitBucket.key.like("passcode:%"))
            .values(blocked_until=None)
        )


def test_brute_force_after_many_wrong_passcodes_the_right_one_waits_at_most_two_minutes(
    app: FastAPI, client: TestClient, alice: User
) -> None:
    token = token_of(create_share(client, alice, passcode=PASSCODE))
    for n in range(12):  # an attacker with the link, guessing whenever the wait runs out
        assert enter_passcode(client, token, f"guess-{n:04d}").status_code == 401
        _let_the_wait_pass(app)
    assert enter_passcode(client, token, "one guess too many").status_code == 401
    refused = enter_passcode(client, token)  # the officer, during the back-off
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 120
    _let_the_wait_pass(app)
    assert enter_passcode(client, token).status_code == 303
