"""One link between evidence and an incident, counted the same whichever side made it."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.models import Evidence, IncidentRevision
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
    etag = client.get(f"/v1/incidents/{incident}", headers=alice.auth).headers["etag"]
    assert etag != made.headers["etag"]  # the link from the file changed what it shows
    patched = client.patch(
        f"/v1/incidents/{incident}",
        json={"evidence_ids": [photo, other]},
        headers=with_etag(alice, etag),
    )
    assert patched.status_code == 200, patched.text
    assert _count(client, alice, incident) == 2
    listed = client.get(f"/v1/evidence?incident_id={incident}", headers=alice.auth).json()
    assert {item["id"] for item in listed["items"]} == {photo, other}
    # A deleted file no longer counts, from either side.
    etag = client.get(f"/v1/evidence/{photo}", headers=alice.auth).headers["etag"]
    assert client.delete(f"/v1/evidence/{photo}", headers=with_etag(alice, etag)).status_code == 204
    assert _count(client, alice, incident) == 1


def _evidence_ids(client: TestClient, user: User, incident_id: str) -> list[str]:
    one = client.get(f"/v1/incidents/{incident_id}", headers=user.auth)
    assert one.status_code == 200, one.text
    listed = client.get("/v1/incidents", headers=user.auth).json()["items"]
    [same] = [item for item in listed if item["id"] == incident_id]
    assert same["evidence_ids"] == one.json()["evidence_ids"]
    return list(one.json()["evidence_ids"])


def _incident_ids(client: TestClient, user: User, evidence_id: str) -> list[str]:
    one = client.get(f"/v1/evidence/{evidence_id}", headers=user.auth)
    assert one.status_code == 200, one.text
    listed = client.get("/v1/evidence", headers=user.auth).json()["items"]
    [same] = [item for item in listed if item["id"] == evidence_id]
    assert same["incident_ids"] == one.json()["incident_ids"]
    return list(one.json()["incident_ids"])


def test_one_link_reads_the_same_from_both_sides(client: TestClient, alice: User) -> None:
    first = client.post("/v1/incidents", json=incident_body(), headers=alice.auth)
    second = client.post("/v1/incidents", json=incident_body(), headers=alice.auth)
    a, b = first.json()["id"], second.json()["id"]
    # Made from the evidence side: the incident lists the file too.
    tyres = s.new_evidence(client, alice.auth, "Tyres", [a])
    assert _evidence_ids(client, alice, a) == [tyres]
    assert _incident_ids(client, alice, tyres) == [a]
    # Made from the incident side: the file names the incident too, and the answer to the
    # PATCH already shows both sides.
    car = s.new_evidence(client, alice.auth, "Car")
    patched = client.patch(
        f"/v1/incidents/{b}",
        json={"evidence_ids": [car]},
        headers=with_etag(alice, second.headers["etag"]),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["evidence_ids"] == [car]
    assert _incident_ids(client, alice, car) == [b]
    assert _evidence_ids(client, alice, b) == [car]
    # Both sides at once (a names tyres; tyres also linked from b's side): each shown once.
    both = client.patch(
        f"/v1/incidents/{b}",
        json={"evidence_ids": [car, tyres]},
        headers=with_etag(alice, patched.headers["etag"]),
    )
    assert both.status_code == 200, both.text
    assert (
        sorted(both.json()["evidence_ids"]) == both.json()["evidence_ids"] == sorted([car, tyres])
    )
    assert _incident_ids(client, alice, tyres) == sorted([a, b])
    # A caption change on the evidence side keeps what it stores, and answers with both sides.
    etag = client.get(f"/v1/evidence/{tyres}", headers=alice.auth).headers["etag"]
    recaptioned = client.patch(
        f"/v1/evidence/{tyres}", json={"caption": "Slashed tyres"}, headers=with_etag(alice, etag)
    )
    assert recaptioned.status_code == 200, recaptioned.text
    assert recaptioned.json()["incident_ids"] == sorted([a, b])
    # Withdrawn from the incident side: the link from b is gone; deleted evidence drops out.
    etag = client.get(f"/v1/incidents/{b}", headers=alice.auth).headers["etag"]
    withdrawn = client.delete(f"/v1/incidents/{b}", headers=with_etag(alice, etag))
    assert withdrawn.status_code == 204, withdrawn.text
    assert _incident_ids(client, alice, tyres) == [a]
    assert _incident_ids(client, alice, car) == []
    etag = client.get(f"/v1/evidence/{tyres}", headers=alice.auth).headers["etag"]
    assert client.delete(f"/v1/evidence/{tyres}", headers=with_etag(alice, etag)).status_code == 204
    assert _evidence_ids(client, alice, a) == []


def test_a_link_from_another_account_is_not_shown(
    app: FastAPI, client: TestClient, alice: User, bob: User
) -> None:
    """Were another account's rows to name yours (they cannot through the API), neither side
    reads them: each side's links are looked up within the caller's account."""
    mine = client.post("/v1/incidents", json=incident_body(), headers=alice.auth).json()["id"]
    my_photo = s.new_evidence(client, alice.auth, "Mine")
    theirs = client.post("/v1/incidents", json=incident_body(), headers=bob.auth).json()["id"]
    their_photo = s.new_evidence(client, bob.auth, "Theirs", [theirs])
    with app.state.ctx.sessionmaker.begin() as session:
        row = session.scalars(select(Evidence).where(Evidence.id == uuid.UUID(their_photo))).one()
        row.incident_ids = f"|{mine}|{theirs}|"
        made = session.scalars(
            select(IncidentRevision).where(IncidentRevision.incident_id == uuid.UUID(theirs))
        ).one()
        made.evidence_ids = f"|{my_photo}|"
    assert _evidence_ids(client, alice, mine) == []
    assert _incident_ids(client, alice, my_photo) == []
    assert sorted(_incident_ids(client, bob, their_photo)) == sorted([mine, theirs])  # stored


def test_another_account_using_the_same_ids_never_links_yours(
    client: TestClient, alice: User, bob: User
) -> None:
    """Ids are unique per account, so Bob may create an incident and a file with the very ids
    of Alice's (found out or guessed). His link between them is his alone: her file does not
    become listed by her incident, from either side."""
    incident = client.post("/v1/incidents", json=incident_body(), headers=alice.auth)
    mine = incident.json()["id"]
    my_photo = s.new_evidence(client, alice.auth, "Mine")
    copied = s.multipart(client, bob.auth, s.jpeg_with_exif(), fields={"id": my_photo})
    assert copied.status_code == 201, copied.text
    theirs = client.post(
        "/v1/incidents", json=incident_body(id=mine, evidence_ids=[my_photo]), headers=bob.auth
    )
    assert theirs.status_code == 201, theirs.text
    assert _incident_ids(client, bob, my_photo) == [mine]  # his own link, on his own objects
    assert _incident_ids(client, alice, my_photo) == []
    assert _evidence_ids(client, alice, mine) == []


def test_a_link_made_from_the_other_side_changes_the_etag_of_what_it_shows_on(
    client: TestClient, alice: User
) -> None:
    """The ETag validates what is read: a file that names an incident changes the incident's
    evidence_ids, so its ETag too, though the incident has no new revision; the same for a
    file that an incident lists. Each new ETag is the one an amendment and a withdrawal take."""
    made = client.post("/v1/incidents", json=incident_body(), headers=alice.auth)
    incident, before = made.json()["id"], made.headers["etag"]
    photo = s.new_evidence(client, alice.auth, "Tyres", [incident])
    now = client.get(f"/v1/incidents/{incident}", headers=alice.auth)
    assert now.json()["revision"] == 1 and now.json()["evidence_ids"] == [photo]
    assert now.headers["etag"] != before and now.json()["etag"] == now.headers["etag"]
    stale = client.patch(
        f"/v1/incidents/{incident}", json={"location": "Car park"}, headers=with_etag(alice, before)
    )
    assert stale.status_code == 412, stale.text
    assert stale.headers["etag"] == now.headers["etag"]
    assert stale.json()["current"]["evidence_ids"] == [photo]
    amended = client.patch(
        f"/v1/incidents/{incident}",
        json={"location": "Car park"},
        headers=with_etag(alice, now.headers["etag"]),
    )
    assert amended.status_code == 200, amended.text
    # From the incident side: the file's ETag changes with it, and a delete needs the new one.
    other = client.post("/v1/incidents", json=incident_body(), headers=alice.auth)
    car = s.new_evidence(client, alice.auth, "Car")
    car_before = client.get(f"/v1/evidence/{car}", headers=alice.auth).headers["etag"]
    listed = client.patch(
        f"/v1/incidents/{other.json()['id']}",
        json={"evidence_ids": [car]},
        headers=with_etag(alice, other.headers["etag"]),
    )
    assert listed.status_code == 200, listed.text
    car_now = client.get(f"/v1/evidence/{car}", headers=alice.auth).headers["etag"]
    assert car_now != car_before
    gone = client.delete(f"/v1/evidence/{car}", headers=with_etag(alice, car_before))
    assert gone.status_code == 412, gone.text
    assert gone.headers["etag"] == car_now
    assert (
        client.delete(f"/v1/evidence/{car}", headers=with_etag(alice, car_now)).status_code == 204
    )
    # The incident's ETag follows the file going too, and its withdrawal takes that ETag.
    after = client.get(f"/v1/incidents/{incident}", headers=alice.auth).headers["etag"]
    assert after == amended.headers["etag"]  # the file that names it is still there
    withdrawn = client.delete(f"/v1/incidents/{incident}", headers=with_etag(alice, after))
    assert withdrawn.status_code == 204, withdrawn.text
