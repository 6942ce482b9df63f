"""Incidents: create, read, amend into revisions, withdraw, list with filters and pagination."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import User
from tests.diary.support import (
    create_incident,
    create_subject,
    full_incident_body,
    incident_body,
    integrity,
    with_etag,
)
from tests.evidence.support import new_evidence


def _meta(body: dict[str, Any]) -> dict[str, Any]:
    return {key: body[key] for key in ("id", "revision", "etag", "recorded_at", "updated_at")}


def test_create_returns_201_with_the_normalised_entry_etag_and_location(
    client: TestClient, alice: User
) -> None:
    subject = create_subject(client, alice)
    evidence_id = new_evidence(client, alice.auth)
    sent = full_incident_body(
        subject_ids=[subject["id"]],
        occurred_at="2024-03-01T21:05:00+01:00",
        evidence_ids=[evidence_id],
    )
    response = client.post("/v1/incidents", json=sent, headers=alice.auth)
    assert response.status_code == 201
    body = response.json()
    assert response.headers["ETag"] == body["etag"]
    assert response.headers["Location"] == f"/v1/incidents/{body['id']}"
    assert body["etag"].startswith('"1-') and body["etag"].endswith('"')
    assert body["recorded_at"] == body["updated_at"]
    assert body == {
        **_meta(body),
        "revision": 1,
        "occurred_at": "2024-03-01T20:05:00Z",  # stored and returned in UTC
        "ended_at": "2024-03-01T20:35:00Z",
        "precision": "approximate",
        "subject_ids": [subject["id"]],
        "behaviours": ["following", "loitering"],  # a set: sorted
        "via_third_party": True,
        "recorded_contemporaneously": False,
        "channel": "in_person",
        "platform": "platform",
        "location": "Outside 12 Elm Road",
        "coordinates": {"latitude": 51.5007, "longitude": -0.1246},
        "description": "He waited by the bins for half an hour.",
        "impact": {
            "fear_of_violence": True,
            "alarm_or_distress": True,
            "daily_life_changes": ["changed_route", "extra_security"],
            "details": "I now take the bus.",
        },
        "victim_actions": [],  # not said: nothing claimed on her behalf
        "witnesses": "My neighbour Sam",
        "reported_to_police": True,
        "police": {"references": ["CRN-2024-001"], "officer": "PC 1234 Jones", "outcome": "Logged"},
        "evidence_ids": [evidence_id],
    }
    fetched = client.get(f"/v1/incidents/{body['id']}", headers=alice.auth)
    assert fetched.status_code == 200
    assert fetched.json() == body
    assert fetched.headers["ETag"] == body["etag"]


def test_defaults_fill_what_a_quick_entry_leaves_out(client: TestClient, alice: User) -> None:
    body = create_incident(client, alice)
    assert {k: v for k, v in body.items() if k not in _meta(body)} == {
        "occurred_at": "2024-03-01T20:05:00Z",
        "ended_at": None,
        "precision": "exact",
        "subject_ids": [],
        "behaviours": ["loitering"],
        "via_third_party": False,
        "recorded_contemporaneously": None,  # not said: unknown, never "at the time"
        "channel": None,
        "platform": None,
        "location": None,
        "coordinates": None,
        "description": "He was outside the flat again.",
        "impact": {
            "fear_of_violence": False,
            "alarm_or_distress": False,
            "daily_life_changes": [],
            "details": None,
        },
        "victim_actions": [],
        "witnesses": None,
        "reported_to_police": False,
        "police": {"references": [], "officer": None, "outcome": None},
        "evidence_ids": [],
    }


def test_patch_makes_a_new_revision_and_every_revision_is_listed_oldest_first(
    client: TestClient, alice: User
) -> None:
    first = create_incident(client, alice)
    url = f"/v1/incidents/{first['id']}"
    response = client.patch(
        url,
        json={
            "description": "Later I remembered he had a dog.",
            "behaviours": ["watching_or_spying"],
        },
        headers=with_etag(alice, first["etag"]),
    )
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["revision"] == 2
    assert second["etag"] != first["etag"] and response.headers["ETag"] == second["etag"]
    assert second["recorded_at"] == first["recorded_at"]
    assert second["updated_at"] > first["updated_at"]
    assert second["description"] == "Later I remembered he had a dog."
    assert second["behaviours"] == ["watching_or_spying"]
    assert second["occurred_at"] == first["occurred_at"]  # untouched fields are kept

    revisions = client.get(f"{url}/revisions", headers=alice.auth)
    assert revisions.status_code == 200
    content_keys = set(incident_body()) | {"precision"}
    items = revisions.json()["items"]
    assert [(i["revision"], i["kind"], i["seq"]) for i in items] == [
        (1, "created", 1),
        (2, "amended", 2),
    ]
    assert [i["recorded_at"] for i in items] == [first["updated_at"], second["updated_at"]]
    assert items[0]["content"]["description"] == "He was outside the flat again."
    assert items[1]["content"]["description"] == "Later I remembered he had a dog."
    assert content_keys <= set(items[0]["content"])
    assert revisions.json()["next_cursor"] is None
    assert integrity(client, alice)["ok"] is True


def test_revisions_paginate(client: TestClient, alice: User) -> None:
    entry = create_incident(client, alice)
    etag = entry["etag"]
    for n in range(3):
        response = client.patch(
            f"/v1/incidents/{entry['id']}",
            json={"description": f"edit {n}"},
            headers=with_etag(alice, etag),
        )
        etag = response.json()["etag"]
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get(
            f"/v1/incidents/{entry['id']}/revisions", params=params, headers=alice.auth
        ).json()
        seen += [item["revision"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [1, 2, 3, 4]


def test_patch_without_if_match_is_428_and_changes_nothing(client: TestClient, alice: User) -> None:
    entry = create_incident(client, alice)
    response = client.patch(
        f"/v1/incidents/{entry['id']}", json={"description": "x"}, headers=alice.auth
    )
    assert response.status_code == 428
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get(f"/v1/incidents/{entry['id']}", headers=alice.auth).json() == entry


def test_stale_if_match_is_412_with_the_current_version_to_merge(
    client: TestClient, alice: User
) -> None:
    entry = create_incident(client, alice)
    url = f"/v1/incidents/{entry['id']}"
    phone = client.patch(url, json={"witnesses": "Sam"}, headers=with_etag(alice, entry["etag"]))
    assert phone.status_code == 200
    laptop = client.patch(
        url, json={"location": "Bus stop"}, headers=with_etag(alice, entry["etag"])
    )
    assert laptop.status_code == 412
    problem = laptop.json()
    assert problem["status"] == 412
    assert problem["current"] == phone.json()
    assert problem["etag"] == phone.json()["etag"] == laptop.headers["ETag"]
    merged = client.patch(
        url, json={"location": "Bus stop"}, headers=with_etag(alice, problem["etag"])
    )
    assert merged.status_code == 200
    assert (merged.json()["witnesses"], merged.json()["location"]) == ("Sam", "Bus stop")
    assert merged.json()["revision"] == 3


def test_if_match_accepts_a_list_and_a_star(client: TestClient, alice: User) -> None:
    entry = create_incident(client, alice)
    url = f"/v1/incidents/{entry['id']}"
    listed = client.patch(
        url, json={"witnesses": "A"}, headers=with_etag(alice, f'"0-x", {entry["etag"]}')
    )
    assert listed.status_code == 200
    star = client.patch(url, json={"witnesses": "B"}, headers=with_etag(alice, "*"))
    assert star.status_code == 200 and star.json()["revision"] == 3


def test_a_patch_that_changes_nothing_makes_no_revision(client: TestClient, alice: User) -> None:
    entry = create_incident(client, alice)
    same = client.patch(
        f"/v1/incidents/{entry['id']}",
        json={"description": entry["description"], "behaviours": ["loitering", "loitering"]},
        headers=with_etag(alice, entry["etag"]),
    )
    assert same.status_code == 200
    assert same.json() == entry
    assert integrity(client, alice)["length"] == 1


def test_patch_null_clears_an_optional_field_and_is_refused_for_a_required_one(
    client: TestClient, alice: User
) -> None:
    entry = create_incident(client, alice, witnesses="Sam", ended_at="2024-03-01T21:00:00Z")
    url = f"/v1/incidents/{entry['id']}"
    cleared = client.patch(
        url, json={"witnesses": None, "ended_at": None}, headers=with_etag(alice, entry["etag"])
    )
    assert cleared.status_code == 200
    assert (cleared.json()["witnesses"], cleared.json()["ended_at"]) == (None, None)
    for field in ("behaviours", "occurred_at", "precision", "description", "impact"):
        refused = client.patch(
            url, json={field: None}, headers=with_etag(alice, cleared.json()["etag"])
        )
        assert refused.status_code == 422, field
        assert refused.json()["errors"][0]["loc"][:2] == ["body", field]
    assert integrity(client, alice)["length"] == 2


def test_the_merged_entry_is_validated_as_a_whole(client: TestClient, alice: User) -> None:
    entry = create_incident(client, alice, ended_at="2024-03-01T21:00:00Z")
    response = client.patch(
        f"/v1/incidents/{entry['id']}",
        json={"occurred_at": "2024-03-02T10:00:00Z"},  # now after ended_at
        headers=with_etag(alice, entry["etag"]),
    )
    assert response.status_code == 422
    assert response.json()["type"].endswith("/validation-error")


def test_withdraw_erases_the_content_and_keeps_the_chain_valid(
    client: TestClient, alice: User
) -> None:
    entry = create_incident(client, alice)
    url = f"/v1/incidents/{entry['id']}"
    amended = client.patch(url, json={"witnesses": "Sam"}, headers=with_etag(alice, entry["etag"]))
    withdrawn = client.request(
        "DELETE",
        url,
        json={"reason": "Written in the wrong diary"},
        headers=with_etag(alice, amended.json()["etag"]),
    )
    assert withdrawn.status_code == 204 and withdrawn.content == b""
    gone = client.get(url, headers=alice.auth)
    assert gone.status_code == 410
    assert gone.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/incidents", headers=alice.auth).json()["items"] == []
    items = client.get(f"{url}/revisions", headers=alice.auth).json()["items"]
    assert [(i["revision"], i["kind"], i["content"], i["withdrawal_reason"]) for i in items] == [
        (1, "created", None, None),
        (2, "amended", None, None),
        (3, "withdrawn", None, "Written in the wrong diary"),
    ]
    report = integrity(client, alice)
    assert (report["ok"], report["length"], report["broken_at"]) == (True, 3, None)
    # Withdrawing again is harmless; amending a withdrawn entry is refused.
    again = client.request("DELETE", url, headers=with_etag(alice, amended.json()["etag"]))
    assert again.status_code == 204
    assert (
        client.patch(url, json={"witnesses": "x"}, headers=with_etag(alice, "*")).status_code == 410
    )
    assert integrity(client, alice)["length"] == 3


def test_withdraw_without_a_reason_and_without_a_body(client: TestClient, alice: User) -> None:
    entry = create_incident(client, alice)
    response = client.delete(
        f"/v1/incidents/{entry['id']}", headers=with_etag(alice, entry["etag"])
    )
    assert response.status_code == 204
    items = client.get(f"/v1/incidents/{entry['id']}/revisions", headers=alice.auth).json()
    assert items["items"][-1]["withdrawal_reason"] is None


def test_withdraw_needs_a_current_if_match(client: TestClient, alice: User) -> None:
    entry = create_incident(client, alice)
    url = f"/v1/incidents/{entry['id']}"
    assert client.delete(url, headers=alice.auth).status_code == 428
    stale = client.delete(url, headers=with_etag(alice, '"9-000000000000"'))
    assert stale.status_code == 412
    assert stale.json()["current"] == entry
    assert client.get(url, headers=alice.auth).status_code == 200


def _ids(client: TestClient, user: User, **params: Any) -> list[str]:
    response = client.get("/v1/incidents", params=params, headers=user.auth)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_list_is_ordered_by_occurred_then_recorded_and_pages_cover_everything(
    client: TestClient, alice: User
) -> None:
    late = create_incident(client, alice, occurred_at="2024-05-01T10:00:00Z")
    same_a = create_incident(client, alice, occurred_at="2024-04-01T10:00:00Z")
    early = create_incident(client, alice, occurred_at="2024-01-01T10:00:00+02:00")
    same_b = create_incident(client, alice, occurred_at="2024-04-01T10:00:00Z")
    expected = [early["id"], same_a["id"], same_b["id"], late["id"]]
    assert _ids(client, alice) == expected
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/incidents", params=params, headers=alice.auth).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


def test_list_filters_by_time_subject_behaviour_and_reporting(
    client: TestClient, alice: User
) -> None:
    mark = create_subject(client, alice)["id"]
    other = create_subject(client, alice, name="Unknown man")["id"]
    a = create_incident(client, alice, occurred_at="2024-01-05T10:00:00Z", subject_ids=[mark])
    b = create_incident(
        client,
        alice,
        occurred_at="2024-02-05T10:00:00Z",
        subject_ids=[other],
        behaviours=["turning_up_at_home", "following"],
        reported_to_police=True,
    )
    c = create_incident(client, alice, occurred_at="2024-03-05T10:00:00Z", behaviours=["other"])
    assert _ids(client, alice, **{"from": "2024-02-05T10:00:00Z"}) == [b["id"], c["id"]]
    assert _ids(client, alice, to="2024-02-05T10:00:00Z") == [a["id"]]  # `to` is exclusive
    assert _ids(client, alice, subject_id=mark) == [a["id"]]
    assert _ids(client, alice, subject_id=[mark, other]) == [a["id"], b["id"]]
    assert _ids(client, alice, behaviour="following") == [b["id"]]
    assert _ids(client, alice, behaviour=["other", "following"]) == [b["id"], c["id"]]
    assert _ids(client, alice, reported="true") == [b["id"]]
    assert _ids(client, alice, reported="false") == [a["id"], c["id"]]
    assert _ids(client, alice, behaviour="following", reported="false") == []


def test_filters_follow_amendments(client: TestClient, alice: User) -> None:
    entry = create_incident(client, alice, behaviours=["following"])
    client.patch(
        f"/v1/incidents/{entry['id']}",
        json={"behaviours": ["loitering"], "occurred_at": "2023-01-01T00:00:00Z"},
        headers=with_etag(alice, entry["etag"]),
    )
    assert _ids(client, alice, behaviour="following") == []
    assert _ids(client, alice, behaviour="loitering") == [entry["id"]]
    assert _ids(client, alice, to="2024-01-01T00:00:00Z") == [entry["id"]]


def test_bad_filters_are_422(client: TestClient, alice: User) -> None:
    for params in (
        {"from": "2024-03-01T00:00:00Z", "to": "2024-02-01T00:00:00Z"},
        {"from": "2024-03-01T00:00:00"},  # naive
        {"behaviour": "not_a_code"},
        {"subject_id": "not-a-uuid"},
        {"limit": 1_000_000},
        {"limit": -1},
        {"cursor": "%%%"},
    ):
        response = client.get("/v1/incidents", params=params, headers=alice.auth)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"


def test_every_incident_route_needs_a_token(client: TestClient) -> None:
    some_id = "0b7e8f4c-6a2d-4c1e-8f3a-9d5b2e1c7a64"
    for method, url in (
        ("POST", "/v1/incidents"),
        ("GET", "/v1/incidents"),
        ("GET", f"/v1/incidents/{some_id}"),
        ("PATCH", f"/v1/incidents/{some_id}"),
        ("DELETE", f"/v1/incidents/{some_id}"),
        ("GET", f"/v1/incidents/{some_id}/revisions"),
        ("GET", "/v1/sync"),
        ("GET", "/v1/diary/integrity"),
    ):
        response = client.request(method, url, json=incident_body() if method != "GET" else None)
        assert response.status_code == 401, (method, url)


def test_unknown_ids_are_404(client: TestClient, alice: User) -> None:
    url = "/v1/incidents/0b7e8f4c-6a2d-4c1e-8f3a-9d5b2e1c7a64"
    assert client.get(url, headers=alice.auth).status_code == 404
    assert client.patch(url, json={}, headers=with_etag(alice, "*")).status_code == 404
    assert client.delete(url, headers=with_etag(alice, "*")).status_code == 404
    assert client.get(f"{url}/revisions", headers=alice.auth).status_code == 404
    assert client.get("/v1/incidents/not-a-uuid", headers=alice.auth).status_code == 422


def test_what_she_did_to_make_it_stop_is_kept_amended_and_read_by_the_summary(
    client: TestClient, alice: User
) -> None:
    """DOMAIN.md, FOUR: a structured "I asked him to stop / blocked him" (free text is sealed)."""
    subject = create_subject(client, alice)
    asked = create_incident(
        client,
        alice,
        subject_ids=[subject["id"]],
        occurred_at="2026-03-02T19:00:00Z",
        victim_actions=["blocked", "asked_to_stop", "blocked"],
    )
    assert asked["victim_actions"] == ["asked_to_stop", "blocked"]  # sorted, once each
    later = create_incident(
        client,
        alice,
        subject_ids=[subject["id"]],
        occurred_at="2026-03-09T19:00:00Z",
        channel="text_message",
    )
    assert later["victim_actions"] == []
    assert client.get(f"/v1/incidents/{asked['id']}", headers=alice.auth).json()[
        "victim_actions"
    ] == ["asked_to_stop", "blocked"]
    bad = client.post(
        "/v1/incidents", json=incident_body(victim_actions=["begged"]), headers=alice.auth
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")

    chronology = client.get("/v1/chronology", headers=alice.auth).json()
    texts = [s["text"] for s in chronology["four"]["unwanted"]["statements"]]
    assert any("continued after the victim asked them to stop on 2 March 2026" in t for t in texts)
    assert any("continued after the victim blocked them on 2 March 2026" in t for t in texts)

    amended = client.patch(
        f"/v1/incidents/{asked['id']}",
        json={"victim_actions": []},
        headers=with_etag(alice, asked["etag"]),
    )
    assert amended.status_code == 200 and amended.json()["victim_actions"] == []
    assert integrity(client, alice)["ok"]
    taxonomy = client.get("/v1/taxonomy", headers=alice.auth).json()
    assert [a["code"] for a in taxonomy["victim_actions"]] == ["asked_to_stop", "blocked"]
