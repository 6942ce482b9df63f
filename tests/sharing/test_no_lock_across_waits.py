"""Nothing waits while holding something scarce (DESIGN.md, TESTING.md "Concurrency").

Every time a file route waits (for a transfer thread, or for the next bytes of a body from the
network) a probe asks the database, from outside the request, whether a transaction is open:
on SQLite, whether the write lock can be taken at once; on PostgreSQL, whether any connection
of this database sits idle in a transaction. The routes are driven as their users would.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.evidence import transfer
from tests.conftest import User
from tests.evidence import support as s
from tests.sharing.shares_support import add_incident
from tests.sharing.support import World, grant, link_code


def _transaction_open(app: FastAPI) -> bool:
    engine = app.state.ctx.engine
    if engine.dialect.name == "sqlite":
        probe = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()
    with engine.connect() as conn:
        held = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    return bool(held)


@pytest.fixture
def waits(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The waits seen, each marked 'HELD' when a transaction was open across it."""
    seen: list[str] = []
    real_limiter, real_batches = transfer.transfer_limiter, transfer.Body.batches

    def limiter(request: Any) -> Any:
        seen.append(("HELD " if _transaction_open(app) else "") + f"thread {request.url.path}")
        return real_limiter(request)

    async def batches(
        self: transfer.Body, size: int = transfer.BATCH_BYTES
    ) -> AsyncIterator[bytes]:
        path = self._request.url.path
        seen.append(("HELD " if _transaction_open(app) else "") + f"body {path}")
        async for batch in real_batches(self, size):
            yield batch

    monkeypatch.setattr(transfer, "transfer_limiter", limiter)
    monkeypatch.setattr(transfer.Body, "batches", batches)
    yield seen


def test_no_route_holds_a_transaction_while_it_waits_for_a_thread_or_the_network(
    client: TestClient, world: World, alice: User, waits: list[str]
) -> None:
    incident = add_incident(client, alice)["id"]
    photo = s.jpeg_with_exif()
    one_shot = s.new_evidence(client, alice.auth, "At the gate", [incident])
    resumable = s.upload(client, alice.auth, photo, chunk=len(photo) // 3 + 1, filename="b.jpg")
    for evidence_id in (one_shot, resumable):
        got = client.get(f"/v1/evidence/{evidence_id}/content", headers=alice.auth)
        assert got.status_code == 200 and got.content == photo
    client_id = grant(client, alice, link_code(client, world.caseworker), scope="diary")["id"]
    cw = world.caseworker.auth
    got = client.get(f"/v1/clients/{client_id}/evidence/{one_shot}/content", headers=cw)
    assert got.status_code == 200 and got.content == photo
    ranged = client.get(
        f"/v1/clients/{client_id}/evidence/{resumable}/content",
        headers={**cw, "Range": "bytes=0-99"},
    )
    assert ranged.status_code == 206 and ranged.content == photo[:100]

    kinds = {wait.split()[-2] for wait in waits}
    assert kinds == {"thread", "body"} and len(waits) >= 10, waits
    assert [wait for wait in waits if wait.startswith("HELD")] == []
