"""Open uploads: capped in number per account, listed for an app that lost its URLs, and
freed at once by DELETE (TESTING.md "Evidence": resumable uploads)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import User
from tests.evidence import support as s


@pytest.fixture
def limited(database_url: str, app: FastAPI) -> Iterator[TestClient]:
    small = Settings(
        environment="test",
        data_dir=app.state.ctx.settings.data_dir,
        database_url=database_url,
        account_quota_bytes=100_000,
        max_open_uploads=3,
    )
    application = create_app(small)
    with TestClient(application, raise_server_exceptions=False) as client:
        yield client
    application.state.ctx.engine.dispose()


def test_the_number_of_open_uploads_is_capped_per_account(
    limited: TestClient, alice: User, bob: User
) -> None:
    for _ in range(3):
        s.create_upload(limited, alice.auth, 10)
    refused = s.create(limited, alice.auth, 10)
    assert refused.status_code == 429 and refused.json()["type"].endswith("/too-many-open-uploads")
    assert s.create(limited, bob.auth, 10).status_code == 201  # another account is unaffected
    # A finished upload no longer counts.
    first = limited.get("/v1/uploads", headers=alice.auth).json()["items"][0]["location"]
    assert limited.delete(first, headers={**alice.auth, **s.TUS}).status_code == 204
    data = s.jpeg_with_exif()
    done = s.create_upload(limited, alice.auth, len(data))
    assert s.patch(limited, alice.auth, done, 0, data).status_code == 204
    s.create_upload(limited, alice.auth, 10)
    assert s.create(limited, alice.auth, 10).status_code == 429


def test_unfinished_uploads_are_listed_for_the_caller_only(
    client: TestClient, alice: User, bob: User
) -> None:
    incident = client.post(
        "/v1/incidents",
        headers=alice.auth,
        json={"occurred_at": "2024-03-01T20:05:00Z", "behaviours": ["loitering"]},
    ).json()["id"]
    data = s.jpeg_with_exif()
    location = s.create_upload(
        client, alice.auth, len(data), filename="gate.jpg", caption="At the gate",
        incident_ids=incident,
    )  # fmt: skip
    assert s.patch(client, alice.auth, location, 0, data[:100]).status_code == 204
    finished = s.upload(client, alice.auth, data)
    s.create_upload(client, bob.auth, 50)

    listed = client.get("/v1/uploads", headers=alice.auth)
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert item["location"] == location and item["id"] != finished
    assert (item["offset"], item["length"]) == (100, len(data))
    assert (item["file_name"], item["caption"], item["incident_ids"]) == (
        "gate.jpg", "At the gate", [incident],
    )  # fmt: skip
    assert item["expires_at"] > item["created_at"]
    assert client.get("/v1/uploads").status_code == 401
    # Resumed from what the list says, it finishes.
    assert s.patch(client, alice.auth, location, item["offset"], data[100:]).status_code == 204
    assert client.get("/v1/uploads", headers=alice.auth).json()["items"] == []


def test_delete_frees_the_reservation_at_once(limited: TestClient, alice: User) -> None:
    big = s.create_upload(limited, alice.auth, 90_000)
    assert s.create(limited, alice.auth, 20_000).status_code == 413  # 90,000 are reserved
    assert limited.delete(big, headers={**alice.auth, **s.TUS}).status_code == 204
    assert s.create(limited, alice.auth, 20_000).status_code == 201
    assert s.head(limited, alice.auth, big).status_code == 404
