"""Hostile, oversized, impossible and smuggled input: refused as problem+json or kept exact,
and diary text never reaches the database file in the clear."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import User, stored_bytes
from tests.diary.support import (
    create_incident,
    create_subject,
    full_incident_body,
    incident_body,
    integrity,
    subject_body,
    with_etag,
)

HOSTILE = "\u0000 \u202eRTL\u202c 😀👩🏽‍🚒 ';DROP TABLE x;-- <script>x</script>&\"\\é\u200f\r\n"
SOON = (datetime.now(UTC) + timedelta(hours=12)).isoformat()
FAR = (datetime.now(UTC) + timedelta(days=3)).isoformat()


def _assert_problem(response: Any, status: int = 422) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and {"type", "title", "detail"} <= set(body)


def _nothing_stored(client: TestClient, user: User) -> None:
    assert client.get("/v1/incidents", headers=user.auth).json()["items"] == []
    assert client.get("/v1/subjects", headers=user.auth).json()["items"] == []
    assert integrity(client, user)["length"] == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"behaviours": ["stalking_generally"]},
        {"behaviours": []},
        {"behaviours": ["LOITERING"]},
        {"channel": "carrier_pigeon"},
        {"precision": "roughly"},
        {"impact": {"daily_life_changes": ["moved_planet"]}},
        {"ended_at": "2024-03-01T20:00:00Z"},  # before occurred_at
        {"occurred_at": FAR},
        {"occurred_at": "1899-12-31T23:59:59Z"},
        {"occurred_at": "2024-03-01T20:05:00"},  # naive
        {"occurred_at": "last Tuesday"},
        {"ended_at": FAR},
        {"description": "x" * 20_001},
        {"location": "x" * 5001},
        {"platform": "x" * 201},
        {"witnesses": "x" * 5001},
        {"police": {"references": ["x" * 101]}},
        {"police": {"references": ["r"] * 21}},
        {"behaviours": ["other"] * 21},
        {"subject_ids": [str(uuid.uuid4()) for _ in range(21)]},
        {"evidence_ids": [str(uuid.uuid4()) for _ in range(101)]},
        {"coordinates": {"latitude": 90.5, "longitude": 0}},
        {"coordinates": {"latitude": 0, "longitude": -181}},
        {"coordinates": {"latitude": 0}},
        {"reported_to_police": "maybe"},
        {"id": "not-a-uuid"},
    ],
)
def test_invalid_incidents_are_422_and_store_nothing(
    client: TestClient, alice: User, overrides: dict[str, Any]
) -> None:
    response = client.post("/v1/incidents", json=incident_body(**overrides), headers=alice.auth)
    _assert_problem(response)
    assert all(set(error) == {"loc", "msg"} for error in response.json()["errors"])
    _nothing_stored(client, alice)


def test_a_time_later_today_is_accepted(client: TestClient, alice: User) -> None:
    # A phone clock slightly ahead, or an evening entry typed in advance, is not refused.
    assert (
        client.post(
            "/v1/incidents", json=incident_body(occurred_at=SOON), headers=alice.auth
        ).status_code
        == 201
    )


@pytest.mark.parametrize(
    "field",
    ["owner_id", "account_id", "seq", "prev_hash", "recorded_at", "revision", "etag", "hash"],
)
def test_mass_assignment_is_422_and_stores_nothing(
    client: TestClient, alice: User, field: str
) -> None:
    smuggled = {field: 1 if field in ("seq", "revision") else "x"}
    _assert_problem(
        client.post("/v1/incidents", json=incident_body(**smuggled), headers=alice.auth)
    )
    _assert_problem(client.post("/v1/subjects", json=subject_body(**smuggled), headers=alice.auth))
    _nothing_stored(client, alice)
    entry = create_incident(client, alice)
    subject = create_subject(client, alice)
    for url, thing in (
        (f"/v1/incidents/{entry['id']}", entry),
        (f"/v1/subjects/{subject['id']}", subject),
    ):
        _assert_problem(client.patch(url, json=smuggled, headers=with_etag(alice, thing["etag"])))
        _assert_problem(
            client.request("DELETE", url, json=smuggled, headers=with_etag(alice, thing["etag"]))
        )
    nested = {"impact": {"fear_of_violence": True, field: "x"}}
    _assert_problem(client.post("/v1/incidents", json=incident_body(**nested), headers=alice.auth))
    assert integrity(client, alice)["length"] == 2
    assert client.get(f"/v1/incidents/{entry['id']}", headers=alice.auth).json() == entry


def test_lone_surrogates_are_refused(client: TestClient, alice: User) -> None:
    raw = json.dumps(incident_body(description="PLACEHOLDER")).replace("PLACEHOLDER", "a\\ud800b")
    response = client.post(
        "/v1/incidents",
        content=raw.encode(),
        headers={**alice.auth, "Content-Type": "application/json"},
    )
    _assert_problem(response)
    _nothing_stored(client, alice)


def test_bodies_over_the_limit_are_413(client: TestClient, alice: User) -> None:
    for size in (1024 * 1024, 100 * 1024 * 1024):
        response = client.post(
            "/v1/incidents",
            content=b'{"description": "' + b"a" * size + b'"}',
            headers={**alice.auth, "Content-Type": "application/json"},
        )
        _assert_problem(response, 413)
    emoji = client.post(
        "/v1/incidents", json=incident_body(description="😀" * 250_000), headers=alice.auth
    )
    assert emoji.status_code in (413, 422)
    _nothing_stored(client, alice)


def test_wrong_content_type_is_415(client: TestClient, alice: User) -> None:
    response = client.post(
        "/v1/incidents",
        content=b"description=x",
        headers={**alice.auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    _assert_problem(response, 415)


def test_hostile_strings_come_back_byte_exact_everywhere(client: TestClient, alice: User) -> None:
    subject = client.post("/v1/subjects", json=subject_body(marker=HOSTILE), headers=alice.auth)
    assert subject.status_code == 201, subject.text
    sent = full_incident_body(marker=HOSTILE, subject_ids=[subject.json()["id"]])
    created = client.post("/v1/incidents", json=sent, headers=alice.auth)
    assert created.status_code == 201, created.text
    entry = created.json()
    for name in ("platform", "location", "description", "witnesses"):
        assert entry[name] == sent[name]
    assert entry["impact"]["details"] == sent["impact"]["details"]
    assert entry["police"] == sent["police"]
    assert subject.json()["name"] == HOSTILE + "Mark"
    assert subject.json()["orders"][0]["conditions"].startswith(HOSTILE)
    # The same bytes through every read path.
    assert client.get(f"/v1/incidents/{entry['id']}", headers=alice.auth).json() == entry
    assert client.get("/v1/incidents", headers=alice.auth).json()["items"] == [entry]
    revisions = client.get(f"/v1/incidents/{entry['id']}/revisions", headers=alice.auth).json()
    assert revisions["items"][0]["content"]["description"] == sent["description"]
    sync = client.get("/v1/sync", headers=alice.auth).json()
    assert sync["items"][1]["incident"] == entry
    assert "\u202eRTL\u202c 😀".encode() in created.content  # raw UTF-8, not \u-escaped
    assert integrity(client, alice)["ok"] is True


def test_a_planted_marker_never_reaches_the_database_file(
    client: TestClient, alice: User, app: FastAPI
) -> None:
    marker = "PLANTED-MARKER-7f3a9c"
    subject = client.post("/v1/subjects", json=subject_body(marker=marker), headers=alice.auth)
    assert subject.status_code == 201
    sent = full_incident_body(marker=marker, subject_ids=[subject.json()["id"]])
    entry = client.post("/v1/incidents", json=sent, headers=alice.auth).json()
    amended = client.patch(
        f"/v1/incidents/{entry['id']}",
        json={"description": f"{marker} amended"},
        headers=with_etag(alice, entry["etag"]),
    ).json()
    other = create_incident(client, alice, description=f"{marker} to withdraw")
    client.request(
        "DELETE",
        f"/v1/incidents/{other['id']}",
        json={"reason": f"{marker} reason"},
        headers=with_etag(alice, other["etag"]),
    )
    assert amended["description"].startswith(marker)
    data = stored_bytes(app)
    needles = [marker.encode(enc) for enc in ("utf-8", "utf-16-le", "utf-16-be")]
    assert not any(needle in data for needle in needles)


def test_diary_responses_carry_the_protective_headers(client: TestClient, alice: User) -> None:
    entry = create_incident(client, alice)
    for response in (
        client.get("/v1/incidents", headers=alice.auth),
        client.get(f"/v1/incidents/{entry['id']}", headers=alice.auth),
        client.get("/v1/diary/integrity", headers=alice.auth),
    ):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-type"] == "application/json"
    refused = client.get("/v1/incidents", headers={**alice.auth, "Accept": "text/html"})
    _assert_problem(refused, 406)
    wrong_method = client.put(f"/v1/incidents/{entry['id']}", json={}, headers=alice.auth)
    assert wrong_method.status_code == 405
    assert set(wrong_method.headers["allow"].replace(" ", "").split(",")) == {
        "GET",
        "PATCH",
        "DELETE",
    }
