"""One link between evidence and an incident, counted the same whichever side made it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import User
from tests.diary.support import incident_body, with_etag
from tests.evidence import support as s


def _count(client: TestClient, user: User, incident_id: str) -> int:
    timeline = client.get("/v1/chronology", headers=user.auth).json()["timeline"]
    return next(e["evidence_count"] for e in timeline if e["incident_id"] == incident_id)


def test_evidence_linked_from_either_side_counts_once_on_the_incident(
    client: TestClient, alice: User
) -> None:
    made = client.post("/v1/incidents", json=incident_body(), headers=alice.auth)
    incident = made.json()["id"]
    assert _count(client, alice, incident) == 0
    # From the evidence side (the upload names the incident): it counts on the incident.
    photo = s.new_evidence(client, alice.auth, "Tyres", [incident])
    assert _count(client, alice, incident) == 1
    # From the incident side, a second file; and the first named from both sides counts once.
    other = s.new_evidence(client, alice.auth, "Car")
    patched = client.patch(
        f"/v1/incidents/{incident}",
        json={"evidence_ids": [photo, other]},
        headers=with_etag(alice, made.headers["etag"]),
    )
    assert patched.status_code == 200, patched.text
    assert _count(client, alice, incident) == 2
    listed = client.get(f"/v1/evidence?incident_id={incident}", headers=alice.auth).json()
    assert {item["id"] for item in listed["items"]} == {photo, other}
    # A deleted file no longer counts, from either side.
    etag = client.get(f"/v1/evidence/{photo}", headers=alice.auth).headers["etag"]
    assert client.delete(f"/v1/evidence/{photo}", headers=with_etag(alice, etag)).status_code == 204
    assert _count(client, alice, incident) == 1
