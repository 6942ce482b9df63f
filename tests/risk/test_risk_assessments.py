"""S-DASH screenings: recorded sealed, history kept, suggestions cite the diary."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import User, stored_bytes
from tests.diary.support import incident_body, subject_body

MARKER = "RISK-MARKER-41c9"


def _answers(**yes: str) -> dict[str, Any]:
    return {qid: {"answer": "yes", "context": text} for qid, text in yes.items()}


def test_a_screening_is_recorded_with_its_result(client: TestClient, alice: User) -> None:
    body = {
        "answered_by": "victim",
        "crime_reference": "CRN-42",
        "answers": {
            **_answers(q1="I am terrified", q6="He said he would kill me"),
            "q2": {"answer": "no"},
            "q10": {"answer": "unknown"},
        },
    }
    response = client.post("/v1/risk-assessments", json=body, headers=alice.auth)
    assert response.status_code == 201, response.text
    out = response.json()
    assert out["crime_reference"] == "CRN-42"
    assert out["answers"]["q6"] == {"answer": "yes", "context": "He said he would kill me"}
    assert out["result"]["yes_count"] == 2
    assert out["result"]["yes_question_ids"] == ["q1", "q6"]
    assert out["result"]["answered_count"] == 3  # "unknown" is not an answer
    assert "predict" in out["result"]["note"].lower()


def test_history_is_kept_newest_first(client: TestClient, alice: User, bob: User) -> None:
    for n in range(3):
        answers = _answers(**{f"q{i}": "x" for i in range(1, n + 2)})
        client.post("/v1/risk-assessments", json={"answers": answers}, headers=alice.auth)
    page = client.get("/v1/risk-assessments?limit=2", headers=alice.auth).json()
    assert [item["result"]["yes_count"] for item in page["items"]] == [3, 2]
    rest = client.get(
        f"/v1/risk-assessments?limit=2&cursor={page['next_cursor']}", headers=alice.auth
    ).json()
    assert [item["result"]["yes_count"] for item in rest["items"]] == [1]
    assert client.get("/v1/risk-assessments", headers=bob.auth).json()["items"] == []


def test_ex_partner_with_threats_is_flagged(client: TestClient, alice: User) -> None:
    subject = client.post(
        "/v1/subjects", json=subject_body(relationship="ex_partner"), headers=alice.auth
    ).json()["id"]
    body = {"subject_id": subject, "answers": _answers(q6="threatened to kill me")}
    out = client.post("/v1/risk-assessments", json=body, headers=alice.auth).json()
    history = client.get("/v1/risk-assessments", headers=alice.auth).json()["items"]
    assert history[0]["id"] == out["id"]
    assert history[0]["result"]["flags"], history[0]["result"]


def test_suggestions_cite_the_incidents_behind_them(client: TestClient, alice: User) -> None:
    damage = client.post(
        "/v1/incidents",
        json=incident_body(behaviours=["damage_to_property"]),
        headers=alice.auth,
    ).json()["id"]
    loiter = client.post(
        "/v1/incidents",
        json=incident_body(occurred_at="2024-03-05T10:00:00Z", behaviours=["loitering"]),
        headers=alice.auth,
    ).json()["id"]
    response = client.get("/v1/risk-assessments/suggestions", headers=alice.auth)
    assert response.status_code == 200
    body = response.json()
    assert [q["id"] for q in body["questions"]] == [f"q{i}" for i in range(1, 12)]
    by_question = {s["question_id"]: s["incident_ids"] for s in body["suggestions"]}
    assert by_question["q3"] == [damage]
    assert by_question["q5"] == [loiter]
    assert all(s["suggested_answer"] == "yes" for s in body["suggestions"])


def test_the_summary_carries_the_latest_screening(client: TestClient, alice: User) -> None:
    client.post("/v1/risk-assessments", json={"answers": _answers(q1="yes")}, headers=alice.auth)
    summary = client.get("/v1/chronology", headers=alice.auth).json()
    screening = summary["risk_screening"]
    assert screening["latest"]["result"]["yes_count"] == 1
    assert len(screening["history"]) == 1


def test_bad_screenings_are_422(client: TestClient, alice: User) -> None:
    for body in (
        {"answers": {"q12": {"answer": "yes"}}},
        {"answers": {"q1": {"answer": "maybe"}}},
        {"answers": {"q1": {"answer": "yes", "score": 3}}},
        {"answers": {}, "answered_by": "abuser"},
        {"answers": {}, "owner_id": "x"},
        {"answers": {"q1": {"answer": "yes", "context": "x" * 5000}}},
    ):
        response = client.post("/v1/risk-assessments", json=body, headers=alice.auth)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"


def test_another_accounts_subject_is_404(client: TestClient, alice: User, bob: User) -> None:
    subject = client.post("/v1/subjects", json=subject_body(), headers=alice.auth).json()["id"]
    body = {"subject_id": subject, "answers": {}}
    assert client.post("/v1/risk-assessments", json=body, headers=bob.auth).status_code == 404


def test_answers_are_encrypted(client: TestClient, alice: User, app: FastAPI) -> None:
    body = {"crime_reference": MARKER, "answers": _answers(q1=MARKER)}
    client.post("/v1/risk-assessments", json=body, headers=alice.auth)
    assert MARKER.encode() not in stored_bytes(app)


def test_screenings_need_a_token(client: TestClient) -> None:
    assert client.get("/v1/risk-assessments").status_code == 401
    assert client.post("/v1/risk-assessments", json={"answers": {}}).status_code == 401
    assert client.get("/v1/risk-assessments/suggestions").status_code == 401
