"""Existence is never an oracle, as far as global ids allow (issue 12; SECURITY.md, "Limits and
what is not protected"): for every create that takes a client-chosen id, B reusing A's id gets
exactly the answer B gets for reusing his own id with other content, so it tells him nothing
of whose id it is or what it holds. (A fresh id still answers 201: see SECURITY.md.)"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import User
from tests.diary.support import incident_body, subject_body
from tests.evidence.support import jpeg_with_exif, multipart
from tests.exports.jobs_support import hold_jobs

Create = Callable[[TestClient, User, str, str], Any]


def _incident(client: TestClient, user: User, id_: str, text: str) -> Any:
    return client.post(
        "/v1/incidents", json=incident_body(id=id_, description=text), headers=user.auth
    )


def _subject(client: TestClient, user: User, id_: str, text: str) -> Any:
    return client.post("/v1/subjects", json=subject_body(text, id=id_), headers=user.auth)


def _evidence(client: TestClient, user: User, id_: str, text: str) -> Any:
    return multipart(client, user.auth, jpeg_with_exif() + text.encode(), fields={"id": id_})


def _export(client: TestClient, user: User, id_: str, text: str) -> Any:
    return client.post(
        "/v1/exports",
        json={"id": id_, "format": "json" if "first" in text else "pdf"},
        headers=user.auth,
    )


def _shape(response: Any) -> tuple[int, str, dict[str, Any]]:
    body = {k: v for k, v in response.json().items() if k != "request_id"}
    return response.status_code, response.headers["content-type"], body


@pytest.mark.parametrize("create", [_incident, _subject, _evidence, _export])
def test_existence_is_never_an_oracle_another_accounts_id_answers_like_bobs_own(
    client: TestClient,
    alice: User,
    bob: User,
    create: Create,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hold_jobs(monkeypatch)  # exports stay queued: only the create's answer matters here
    secret = "Alice's secret first words"
    theirs, mine = str(uuid.uuid4()), str(uuid.uuid4())
    assert create(client, alice, theirs, secret).status_code in (201, 202)
    assert create(client, bob, mine, "Bob's first words").status_code in (201, 202)
    own_reused = create(client, bob, mine, "Bob's other words")
    alices_id = create(client, bob, theirs, "Bob's other words")
    assert own_reused.status_code == 409
    assert _shape(alices_id) == _shape(own_reused)
    assert secret not in alices_id.text and theirs not in alices_id.text
