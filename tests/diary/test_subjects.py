"""Subjects: the people responsible, with their orders and warnings; revisions and withdrawal."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import User
from tests.diary.support import (
    create_incident,
    create_subject,
    incident_body,
    integrity,
    subject_body,
    with_etag,
)


def test_create_and_get_a_subject_with_orders_and_a_warning(
    client: TestClient, alice: User
) -> None:
    response = client.post("/v1/subjects", json=subject_body(), headers=alice.auth)
    assert response.status_code == 201
    body = response.json()
    assert response.headers["ETag"] == body["etag"]
    assert response.headers["Location"] == f"/v1/subjects/{body['id']}"
    assert body == {
        "id": body["id"],
        "revision": 1,
        "etag": body["etag"],
        "recorded_at": body["recorded_at"],
        "updated_at": body["recorded_at"],
        "name": "Mark",
        "relationship": "ex_partner",
        "description": "Tall, grey coat",
        "addresses": ["4 Oak Lane"],
        "vehicles": ["Blue Ford AB12 CDE"],
        "online_accounts": ["@mark_handle"],
        "orders": [
            {
                "kind": "restraining_order",
                "starts_on": "2024-01-10",
                "ends_on": "2026-01-10",
                "conditions": "Not to contact her directly or indirectly",
                "reference": "Court 22/123",
            },
            {
                "kind": "police_information_notice",
                "starts_on": "2023-11-02",
                "ends_on": None,
                "conditions": "Warned about messages",
                "reference": None,
            },
        ],
    }
    assert client.get(f"/v1/subjects/{body['id']}", headers=alice.auth).json() == body


def test_an_unknown_subject_needs_only_a_label(client: TestClient, alice: User) -> None:
    response = client.post("/v1/subjects", json={"name": "Man in a blue car"}, headers=alice.auth)
    assert response.status_code == 201
    assert response.json()["relationship"] == "unknown"
    assert response.json()["orders"] == []


def test_amend_lists_revisions_and_withdraw_keeps_the_chain(
    client: TestClient, alice: User
) -> None:
    subject = create_subject(client, alice)
    url = f"/v1/subjects/{subject['id']}"
    amended = client.patch(
        url, json={"vehicles": ["Red van"]}, headers=with_etag(alice, subject["etag"])
    )
    assert amended.status_code == 200
    assert (amended.json()["revision"], amended.json()["vehicles"]) == (2, ["Red van"])
    assert amended.json()["orders"] == subject["orders"]
    stale = client.patch(url, json={"name": "M"}, headers=with_etag(alice, subject["etag"]))
    assert stale.status_code == 412 and stale.json()["current"] == amended.json()
    assert client.patch(url, json={"name": "M"}, headers=alice.auth).status_code == 428
    withdrawn = client.request(
        "DELETE",
        url,
        json={"reason": "Duplicate"},
        headers=with_etag(alice, amended.json()["etag"]),
    )
    assert withdrawn.status_code == 204
    assert client.get(url, headers=alice.auth).status_code == 410
    assert client.get("/v1/subjects", headers=alice.auth).json()["items"] == []
    items = client.get(f"{url}/revisions", headers=alice.auth).json()["items"]
    assert [(i["kind"], i["content"], i["withdrawal_reason"]) for i in items] == [
        ("created", None, None),
        ("amended", None, None),
        ("withdrawn", None, "Duplicate"),
    ]
    assert integrity(client, alice) | {"head": ""} == {
        "ok": True,
        "length": 3,
        "head": "",
        "broken_at": None,
        "reason": None,
    }


def test_list_subjects_pages_oldest_first(client: TestClient, alice: User) -> None:
    made = [create_subject(client, alice, name=f"S{n}")["id"] for n in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/subjects", params=params, headers=alice.auth).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made


def test_orders_are_validated(client: TestClient, alice: User) -> None:
    for order in (
        {"kind": "not_an_order", "starts_on": "2024-01-01"},
        {"kind": "restraining_order", "starts_on": "2024-01-01", "ends_on": "2023-01-01"},
        {"kind": "restraining_order", "starts_on": "1066-10-14"},
        {"kind": "restraining_order"},
    ):
        response = client.post(
            "/v1/subjects", json=subject_body(orders=[order]), headers=alice.auth
        )
        assert response.status_code == 422, order
    for bad in ({"relationship": "enemy"}, {"name": ""}, {"name": "x" * 201}):
        assert (
            client.post("/v1/subjects", json=subject_body(**bad), headers=alice.auth).status_code
            == 422
        )


def test_incidents_may_only_name_live_subjects_of_the_account(
    client: TestClient, alice: User, bob: User
) -> None:
    mine = create_subject(client, alice)
    theirs = create_subject(client, bob)
    unknown = "0b7e8f4c-6a2d-4c1e-8f3a-9d5b2e1c7a64"
    for ids in ([theirs["id"]], [unknown], [mine["id"], theirs["id"]]):
        response = client.post(
            "/v1/incidents", json=incident_body(subject_ids=ids), headers=alice.auth
        )
        assert response.status_code == 422
        assert "Mark" not in response.text  # nothing of Bob's subject is echoed
    entry = create_incident(client, alice, subject_ids=[mine["id"]])
    client.delete(f"/v1/subjects/{mine['id']}", headers=with_etag(alice, mine["etag"]))
    # The incident keeps the id it names, but no new reference to a withdrawn subject.
    assert client.get(f"/v1/incidents/{entry['id']}", headers=alice.auth).json()["subject_ids"] == [
        mine["id"]
    ]
    again = client.post(
        "/v1/incidents", json=incident_body(subject_ids=[mine["id"]]), headers=alice.auth
    )
    assert again.status_code == 422
    assert again.json()["errors"] == [
        {"loc": ["body", "subject_ids", 0], "msg": "is not one of your subjects"}
    ]
