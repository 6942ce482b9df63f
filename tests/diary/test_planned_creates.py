"""Planned creates (app.planned_writes): a batch's incident creates inserted all at once.

Each create in a burst is planned in memory and the batch inserts them with one statement per
table; these tests hold that path to the same promises as the write-by-write one: every
request gets its own exact answer (a repeated id is a replay or a 409, an unknown subject a
422), a failing one changes nothing else, the chains verify, and if the planned insert itself
fails the batch is run again write by write with the same outcome.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from app import group_commit as committing
from tests.conftest import User, new_user
from tests.diary.support import create_incident, incident_body, integrity
from tests.diary.test_group_commit import Request, _chain_seqs, _send_at_once


@contextmanager
def _inserts_into(app: FastAPI, table: str) -> Iterator[list[int]]:
    """How many INSERT statements into `table` the engine sends (a multi-row one is one)."""
    engine = app.state.ctx.engine
    count = [0]
    prefix = f"INSERT INTO {table.upper()} "

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(prefix):
            count[0] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _good(user: User, count: int, tag: str = "good") -> list[Request]:
    return [
        ("POST", "/v1/incidents", incident_body(description=f"{tag} {n}"), user.auth)
        for n in range(count)
    ]


def _mixed_burst(alice: User, existing: dict[str, Any]) -> tuple[list[Request], list[int]]:
    """Good creates with, between them, writes that each must get their own answer."""
    new_id = "6f1e2d3c-4b5a-4978-8a1b-2c3d4e5f6a7b"
    failing: list[tuple[Request, int]] = [
        (("POST", "/v1/incidents", incident_body(id=new_id, description="A"), alice.auth), 201),
        (("POST", "/v1/incidents", incident_body(id=new_id, description="A"), alice.auth), 200),
        (("POST", "/v1/incidents", incident_body(id=new_id, description="B"), alice.auth), 409),
        (("POST", "/v1/incidents", incident_body(id=existing["id"]), alice.auth), 200),
        (
            (
                "POST",
                "/v1/incidents",
                incident_body(id=existing["id"], description="C"),
                alice.auth,
            ),
            409,
        ),
        (
            (
                "POST",
                "/v1/incidents",
                incident_body(subject_ids=["0b9a8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d"]),
                alice.auth,
            ),
            422,
        ),
    ]
    good = _good(alice, 6)
    requests: list[Request] = []
    expected: list[int] = []
    for (request, status), extra in zip(failing, good, strict=True):
        requests += [request, extra]
        expected += [status, 201]
    return requests, expected


def _check_outcome(
    client: TestClient, alice: User, requests: list[Request], responses: list[Any]
) -> None:
    for (_, _, body, _), response in zip(requests, responses, strict=True):
        if response.status_code in (200, 201):
            assert response.json()["description"] == body["description"]
    listed = client.get("/v1/incidents", params={"limit": 100}, headers=alice.auth).json()
    assert sorted(i["description"] for i in listed["items"]) == sorted(
        ["He was outside the flat again.", "A"] + [f"good {n}" for n in range(6)]
    )
    report = integrity(client, alice)
    assert (report["ok"], report["length"], report["broken_at"]) == (True, 8, None)


def test_a_burst_of_creates_is_inserted_with_a_statement_per_batch_not_per_create(
    app: FastAPI, client: TestClient, alice: User, database_url: str
) -> None:
    requests = _good(alice, 32)
    with _inserts_into(app, "incidents") as inserts:
        responses = _send_at_once(app, requests)
    assert [r.status_code for r in responses] == [201] * 32
    assert inserts[0] <= 4, "a burst's creates should share their INSERTs"
    (chain,) = _chain_seqs(database_url).values()
    assert [seq for seq, _ in chain] == list(range(1, 33))
    assert {str(object_id) for _, object_id in chain} == {r.json()["id"] for r in responses}
    assert (integrity(client, alice)["ok"], integrity(client, alice)["length"]) == (True, 32)


def test_repeated_ids_and_bad_writes_in_a_planned_batch_each_get_their_own_answer(
    app: FastAPI, client: TestClient, alice: User
) -> None:
    existing = create_incident(client, alice)
    requests, expected = _mixed_burst(alice, existing)
    responses = _send_at_once(app, requests)
    assert [r.status_code for r in responses] == expected, [r.text for r in responses]
    replayed = [r.json()["id"] for r in responses if r.status_code == 200]
    assert replayed == ["6f1e2d3c-4b5a-4978-8a1b-2c3d4e5f6a7b", existing["id"]]
    assert responses[0].json() == responses[2].json()  # the replay answers the original
    _check_outcome(client, alice, requests, responses)


def test_a_batch_mixing_planned_creates_with_other_writes_keeps_every_chain_whole(
    app: FastAPI, client: TestClient, alice: User
) -> None:
    bob = new_user(client)
    entry = create_incident(client, alice)
    amend: Request = (
        "PATCH",
        f"/v1/incidents/{entry['id']}",
        {"description": "amended"},
        {**alice.auth, "If-Match": entry["etag"]},
    )
    subject: Request = ("POST", "/v1/subjects", {"name": "Mark"}, bob.auth)
    requests = [*_good(alice, 4, "a"), amend, *_good(bob, 4, "b"), subject, *_good(alice, 4)]
    responses = _send_at_once(app, requests)
    assert [r.status_code for r in responses] == [201] * 4 + [200] + [201] * 9
    assert responses[4].json()["description"] == "amended"
    for user, length in ((alice, 10), (bob, 5)):
        report = integrity(client, user)
        assert (report["ok"], report["length"], report["broken_at"]) == (True, length, None)


def test_a_failed_planned_insert_is_rolled_back_and_the_batch_run_write_by_write(
    app: FastAPI, client: TestClient, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing = create_incident(client, alice)
    real = committing.insert_planned
    failed: list[int] = []

    def fails_once(session: Any, plans: Any) -> None:
        real(session, plans)  # the rows are in: the rollback must take them out again
        if not failed and len(plans) > 1:
            failed.append(len(plans))
            raise IntegrityError("INSERT INTO incidents", {}, Exception("forced"))

    monkeypatch.setattr(committing, "insert_planned", fails_once)
    requests, expected = _mixed_burst(alice, existing)
    responses = _send_at_once(app, requests)
    assert failed, "the burst should have been planned, then its insert failed"
    assert [r.status_code for r in responses] == expected, [r.text for r in responses]
    _check_outcome(client, alice, requests, responses)


def test_subject_creates_in_a_burst_are_planned_too_and_a_repeated_id_is_answered_alone(
    app: FastAPI, client: TestClient, alice: User
) -> None:
    subject_id = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
    repeated: list[tuple[Request, int]] = [
        (("POST", "/v1/subjects", {"id": subject_id, "name": "Mark"}, alice.auth), 201),
        (("POST", "/v1/subjects", {"id": subject_id, "name": "Mark"}, alice.auth), 200),
        (("POST", "/v1/subjects", {"id": subject_id, "name": "Dave"}, alice.auth), 409),
    ]
    good: list[Request] = [
        ("POST", "/v1/subjects", {"name": f"person {n}"}, alice.auth) for n in range(9)
    ]
    requests = [request for request, _ in repeated] + good
    with _inserts_into(app, "subjects") as inserts:
        responses = _send_at_once(app, requests)
    assert [r.status_code for r in responses] == [s for _, s in repeated] + [201] * 9
    assert inserts[0] <= 3, "a burst's subject creates should share their INSERTs"
    assert responses[1].json() == responses[0].json()
    listed = client.get("/v1/subjects", params={"limit": 100}, headers=alice.auth).json()
    assert sorted(s["name"] for s in listed["items"]) == sorted(
        ["Mark"] + [f"person {n}" for n in range(9)]
    )
    report = integrity(client, alice)
    assert (report["ok"], report["length"], report["broken_at"]) == (True, 10, None)
