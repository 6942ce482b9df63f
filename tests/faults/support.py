"""Helpers for the fault tests: a victim talking to real server processes over loopback.

Writers run in threads, each with its own connection, and record what the server acknowledged
(2xx) separately from what is unknown (the connection died before an answer), because after
a crash only the acknowledged writes are promised.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.conftest import PASSWORD
from tests.diary.support import incident_body


@dataclass
class Victim:
    username: str
    access: str
    refresh: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


def sign_up(base_url: str, username: str | None = None) -> Victim:
    username = username or f"victim-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=base_url, timeout=30) as http:
        created = http.post("/v1/accounts", json={"username": username, "password": PASSWORD})
        assert created.status_code == 201, created.text
        username = created.json()["username"]  # the handle, with the server's suffix
        token = http.post("/v1/auth/token", json={"username": username, "password": PASSWORD})
        assert token.status_code == 200, token.text
    body = token.json()
    return Victim(username, body["access_token"], body["refresh_token"])


@dataclass
class Outcomes:
    """What a set of writer threads saw, by the marker each write carried."""

    acknowledged: dict[str, str] = field(default_factory=dict)  # marker -> incident id
    unknown: set[str] = field(default_factory=set)  # sent, no answer (connection lost)
    refused: dict[str, int] = field(default_factory=dict)  # marker -> non-2xx status
    bodies: dict[str, Any] = field(default_factory=dict)  # marker -> problem body
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, marker: str, response: httpx.Response | None) -> None:
        with self.lock:
            if response is None:
                self.unknown.add(marker)
            elif response.is_success:
                self.acknowledged[marker] = str(response.json()["id"])
            else:
                self.refused[marker] = response.status_code
                self.bodies[marker] = (response.headers.get("content-type"), response.text)


def write_incidents(
    urls: Callable[[int], str], victim: Victim, outcomes: Outcomes, stop: threading.Event, n: int
) -> list[threading.Thread]:
    """Start `n` threads, each creating incidents (at `urls(i)`) until `stop` is set."""

    def run(worker: int) -> None:
        count = 0
        while not stop.is_set():
            count += 1
            marker = f"w{worker}-{count}-{uuid.uuid4().hex[:6]}"
            body = incident_body(description=f"incident {marker}")
            try:
                with httpx.Client(timeout=30) as http:
                    response = http.post(
                        urls(count) + "/v1/incidents", json=body, headers=victim.auth
                    )
            except httpx.TransportError:
                outcomes.record(marker, None)
                time.sleep(0.05)
                continue
            outcomes.record(marker, response)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    return threads


def all_incidents(base_url: str, victim: Victim) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    with httpx.Client(base_url=base_url, timeout=30) as http:
        while True:
            params: dict[str, Any] = {"limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = http.get("/v1/incidents", params=params, headers=victim.auth)
            assert page.status_code == 200, page.text
            items += page.json()["items"]
            cursor = page.json()["next_cursor"]
            if not cursor:
                return items


def integrity(base_url: str, victim: Victim) -> dict[str, Any]:
    response = httpx.get(base_url + "/v1/diary/integrity", headers=victim.auth, timeout=60)
    assert response.status_code == 200, response.text
    return dict(response.json())


def marker_of(incident: dict[str, Any]) -> str:
    description = str(incident["description"])
    assert description.startswith("incident "), description
    return description.removeprefix("incident ")


def assert_diary_whole(base_url: str, victim: Victim, outcomes: Outcomes) -> list[dict[str, Any]]:
    """Every acknowledged write is there, nothing else but in-flight ones, each reads back
    whole, and the chain verifies with one event per incident."""
    listed = all_incidents(base_url, victim)
    by_marker = {marker_of(item): item for item in listed}
    missing = set(outcomes.acknowledged) - set(by_marker)
    assert not missing, f"acknowledged writes lost: {sorted(missing)}"
    for marker, incident_id in outcomes.acknowledged.items():
        assert str(by_marker[marker]["id"]) == incident_id
    extra = set(by_marker) - set(outcomes.acknowledged)
    assert extra <= outcomes.unknown, f"writes that were refused are stored: {extra}"
    expected = incident_body()
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for item in listed:
            one = http.get(f"/v1/incidents/{item['id']}", headers=victim.auth)
            assert one.status_code == 200, one.text
            body = one.json()
            assert body == item
            assert body["behaviours"] == expected["behaviours"]
            assert body["occurred_at"] == "2024-03-01T20:05:00Z"
            assert body["revision"] == 1
    report = integrity(base_url, victim)
    assert report["ok"] is True, report
    assert report["length"] == len(listed)
    return listed
