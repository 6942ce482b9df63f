"""Group commit (app.group_commit): concurrent writes share a transaction, never an outcome.

The requests are sent at once through one event loop (httpx over ASGI), so they queue behind
each other and are committed in batches; COMMITs are counted to show that they were. Each
request must get its own answer, a failing one must change nothing and fail nothing else, and
every account's chain must verify with exactly its acknowledged writes, in the order written.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from app.db import make_engine
from app.group_commit import GroupCommit
from app.models import ChainEvent
from tests.conftest import User, new_user
from tests.diary.support import create_incident, incident_body, integrity, with_etag

Request = tuple[str, str, dict[str, Any], dict[str, str]]


@contextmanager
def _commits(app: FastAPI) -> Iterator[list[int]]:
    engine = app.state.ctx.engine
    count = [0]

    def on_commit(_conn: Any) -> None:
        count[0] += 1

    event.listen(engine, "commit", on_commit)
    try:
        yield count
    finally:
        event.remove(engine, "commit", on_commit)


def _send_at_once(app: FastAPI, requests: list[Request]) -> list[httpx.Response]:
    async def send() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return list(
                await asyncio.gather(
                    *(http.request(m, url, json=body, headers=h) for m, url, body, h in requests)
                )
            )

    return asyncio.run(send())


def _chain_seqs(database_url: str) -> dict[uuid.UUID, list[tuple[int, uuid.UUID]]]:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(ChainEvent.account_id, ChainEvent.seq, ChainEvent.object_id).order_by(
                ChainEvent.account_id, ChainEvent.seq
            )
        ).all()
    engine.dispose()
    chains: dict[uuid.UUID, list[tuple[int, uuid.UUID]]] = {}
    for account_id, seq, object_id in rows:
        chains.setdefault(account_id, []).append((seq, object_id))
    return chains


def test_concurrent_creates_across_accounts_are_batched_and_each_gets_its_own_entry(
    app: FastAPI, client: TestClient, database_url: str
) -> None:
    users = [new_user(client) for _ in range(4)]
    requests: list[Request] = [
        ("POST", "/v1/incidents", incident_body(description=f"{u}-{n}"), users[u].auth)
        for n in range(12)
        for u in range(4)
    ]
    with _commits(app) as commits:
        responses = _send_at_once(app, requests)
    assert [r.status_code for r in responses] == [201] * len(requests)
    assert commits[0] < len(requests) / 2, "concurrent creates should share commits"
    for (_, _, body, _), response in zip(requests, responses, strict=True):
        assert response.json()["description"] == body["description"]
    for u, user in enumerate(users):
        listed = client.get("/v1/incidents", params={"limit": 100}, headers=user.auth).json()
        mine = sorted(item["description"] for item in listed["items"])
        assert mine == sorted(f"{u}-{n}" for n in range(12))
        report = integrity(client, user)
        assert (report["ok"], report["length"], report["broken_at"]) == (True, 12, None)
    chains = _chain_seqs(database_url)
    assert sorted(len(chain) for chain in chains.values()) == [12] * 4
    for chain in chains.values():
        assert [seq for seq, _ in chain] == list(range(1, 13))


def test_one_accounts_concurrent_creates_keep_the_order_they_were_committed_in(
    app: FastAPI, client: TestClient, alice: User, database_url: str
) -> None:
    requests: list[Request] = [
        ("POST", "/v1/incidents", incident_body(description=f"entry {n}"), alice.auth)
        for n in range(40)
    ]
    responses = _send_at_once(app, requests)
    assert [r.status_code for r in responses] == [201] * 40
    ids = {r.json()["id"]: r.json()["description"] for r in responses}
    assert len(ids) == 40
    (chain,) = _chain_seqs(database_url).values()
    assert [seq for seq, _ in chain] == list(range(1, 41))
    assert {str(object_id) for _, object_id in chain} == set(ids)
    report = integrity(client, alice)
    assert (report["ok"], report["length"]) == (True, 40)


def test_a_failing_write_in_a_batch_changes_nothing_and_fails_nothing_else(
    app: FastAPI, client: TestClient, alice: User, database_url: str
) -> None:
    entry = create_incident(client, alice)
    taken = entry["id"]  # her own id again, with other content: 409
    stale = entry["etag"]
    assert client.patch(
        f"/v1/incidents/{entry['id']}", json={"description": "now"}, headers=with_etag(alice, stale)
    ).is_success
    bad_token = {"Authorization": "Bearer cha_" + "x" * 40}
    good = [
        ("POST", "/v1/incidents", incident_body(description=f"good {n}"), alice.auth)
        for n in range(10)
    ]
    failing: list[Request] = [
        ("POST", "/v1/incidents", incident_body(id=taken, description="other"), alice.auth),
        ("POST", "/v1/incidents", incident_body(subject_ids=[str(uuid.uuid4())]), alice.auth),
        ("PATCH", f"/v1/incidents/{entry['id']}", {"description": "x"}, with_etag(alice, stale)),
        ("POST", "/v1/incidents", incident_body(), bad_token),
        ("POST", "/v1/subjects", {"name": "Mark", "relationship": "ex_partner"}, bad_token),
    ]
    requests = good[:5] + [r for pair in zip(failing, good[5:], strict=True) for r in pair]
    responses = _send_at_once(app, requests)
    by_request = list(zip(requests, responses, strict=True))
    for request, response in by_request:
        if request in good:
            assert response.status_code == 201, response.text
            assert response.json()["description"] == request[2]["description"]
    codes = [response.status_code for request, response in by_request if request in failing]
    assert codes == [409, 422, 412, 401, 401], [r.text for r in responses]
    listed = client.get("/v1/incidents", params={"limit": 100}, headers=alice.auth).json()
    assert sorted(i["description"] for i in listed["items"]) == sorted(
        [f"good {n}" for n in range(10)] + ["now"]
    )
    report = integrity(client, alice)
    assert (report["ok"], report["length"]) == (True, 12)  # create + amend + 10 good


def test_concurrent_amendments_with_one_etag_let_exactly_one_win_in_a_batch(
    app: FastAPI, client: TestClient, alice: User
) -> None:
    entry = create_incident(client, alice)
    requests: list[Request] = [
        (
            "PATCH",
            f"/v1/incidents/{entry['id']}",
            {"description": f"v{n}"},
            with_etag(alice, entry["etag"]),
        )
        for n in range(8)
    ]
    responses = _send_at_once(app, requests)
    assert sorted(r.status_code for r in responses) == [200] + [412] * 7
    (winner,) = [r.json() for r in responses if r.status_code == 200]
    current = client.get(f"/v1/incidents/{entry['id']}", headers=alice.auth).json()
    assert (current["description"], current["revision"]) == (winner["description"], 2)
    assert integrity(client, alice)["length"] == 2


@contextmanager
def _connection_lost_on_insert(app: FastAPI, nth: int) -> Iterator[None]:
    """The connection dies at the nth incident INSERT (one per batch of planned creates), as in
    a failover or restart.

    PostgreSQL: the backend is terminated from another connection, so the statement fails
    with the driver's own error and SQLAlchemy invalidates the connection. SQLite has no
    server to lose; its nearest real failure is the statement being interrupted.
    """
    engine = app.state.ctx.engine
    seen = [0]
    armed: list[Any] = []

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        while armed:  # the interrupt is for one statement only
            armed.pop().set_progress_handler(None, 1)
        if not statement.lstrip().upper().startswith("INSERT INTO INCIDENTS"):
            return
        seen[0] += 1
        if seen[0] != nth:
            return
        raw = conn.connection.driver_connection
        if engine.dialect.name == "postgresql":
            admin = make_engine(str(engine.url.render_as_string(hide_password=False)))
            with admin.connect() as other:
                other.exec_driver_sql(f"SELECT pg_terminate_backend({raw.info.backend_pid})")
            admin.dispose()
        else:
            raw.set_progress_handler(lambda: 1, 1)  # non-zero aborts: "interrupted"
            armed.append(raw)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)


@pytest.fixture
def batches_of_eight(app: FastAPI) -> None:
    """At most 8 writes a batch, so a burst of 24 is several batches, each one INSERT."""
    app.state.group_commit = GroupCommit(
        app.state.ctx, writer_turn=app.state.ctx.writer_turn, window_ms=2, max_batch=8
    )


@pytest.mark.usefixtures("batches_of_eight")
def test_a_connection_lost_mid_batch_answers_503_to_every_write_of_it_and_loses_nothing(
    app: FastAPI, client: TestClient, alice: User
) -> None:
    """TESTING: database outage -- never a 500; nothing unacknowledged is kept, all else is."""
    requests: list[Request] = [
        ("POST", "/v1/incidents", incident_body(description=f"entry {n}"), alice.auth)
        for n in range(24)
    ]
    with _connection_lost_on_insert(app, nth=2):
        responses = _send_at_once(app, requests)
    codes = sorted({r.status_code for r in responses})
    assert set(codes) <= {201, 503} and 503 in codes, [r.text for r in responses]
    for response in responses:
        if response.status_code == 503:
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["type"].endswith("/service-unavailable")
            assert response.headers["retry-after"]
    acknowledged = {r.json()["id"] for r in responses if r.status_code == 201}
    after = client.post(
        "/v1/incidents", json=incident_body(description="after"), headers=alice.auth
    )
    assert after.status_code == 201, after.text
    listed = client.get("/v1/incidents", params={"limit": 100}, headers=alice.auth).json()
    assert {i["id"] for i in listed["items"]} == acknowledged | {after.json()["id"]}
    report = integrity(client, alice)
    assert (report["ok"], report["length"]) == (True, len(acknowledged) + 1)
