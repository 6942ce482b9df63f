"""`make demo`: a realistic, fictional diary in the running server, and what an officer gets.

It talks to the server only through the API, as the app would: it registers a victim, records
an ex-partner with a non-molestation order, 24 incidents over ten weeks (all seven s.2A(3)
kinds of conduct, threats, violence, breaches after the order, a rise in the last weeks), a few
evidence files and an S-DASH screening, then creates a share link and downloads the signed PDF
and the evidence bundle. Everyone in it is invented.

With a service admin (which `make demo` creates, as `python -m app.cli create-admin` does: admins
are never made through the API) it also sets up a support service: an organisation, its admin
and a caseworker (each with two-factor authentication), and the victim's consent (`assist`) for
that caseworker, with a first note; the caseworker can then sign in to the console.

Run: `make run` in one terminal, then `make demo` (or `python -m app.demo --url URL --out DIR`).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from struct import pack
from typing import Any

import httpx
import pyotp

from app.chronology.model import IncidentFacts, Order, SubjectFacts

PASSWORD = "demo " + "correct horse battery staple"
START = datetime(2026, 7, 6, tzinfo=UTC)  # a Monday; the diary runs into mid-September

# (day, hour:minute UK time as UTC+1 in summer, behaviours, channel, what happened)
INCIDENTS: list[tuple[int, str, list[str], str | None, str]] = [
    (0, "21:10", ["contacting"], "text_message", "Eleven texts after I said I needed space."),
    (5, "08:15", ["turning_up_at_home"], "in_person", "Mark was outside the flat at 8am."),
    (12, "22:40", ["contacting"], "phone_call", "Fourteen missed calls between 10pm and 1am."),
    (19, "17:30", ["following"], "in_person", "He followed me from the bus stop to Tesco."),
    (
        26,
        "12:05",
        ["monitoring_communications"],
        "social_media",
        "He quoted a private message only my sister had seen.",
    ),
    (33, "09:00", ["turning_up_at_work"], "in_person", "He waited in reception at my work."),
    (
        40,
        "23:55",
        ["threat_of_violence", "contacting"],
        "text_message",
        '"You\'ll regret leaving. I know where you park."',
    ),
    (
        45,
        "07:20",
        ["interfering_with_property", "damage_to_property"],
        "in_person",
        "Both tyres on my car slashed overnight.",
    ),
    (
        49,
        "19:45",
        ["publishing_material", "online_abuse"],
        "social_media",
        "He posted photos of me with my address in the caption.",
    ),
    (
        51,
        "20:30",
        ["watching_or_spying", "loitering"],
        "in_person",
        "Parked opposite my flat for two hours, watching the window.",
    ),
    (
        53,
        "18:10",
        ["third_party_contact"],
        "via_third_party",
        "His brother came to my door with a letter from him.",
    ),
    (
        55,
        "21:05",
        ["violence", "threat_to_kill"],
        "in_person",
        "He grabbed my arm at the car and said he would kill me if I went to the police.",
    ),
    (
        57,
        "14:00",
        ["breach_of_order", "contacting"],
        "text_message",
        "Texts the day after the order was served.",
    ),
    (
        58,
        "22:15",
        ["breach_of_order", "turning_up_at_home"],
        "in_person",
        "Banging on my door at night.",
    ),
    (60, "16:40", ["breach_of_order", "following"], "in_person", "Followed me home from work."),
    (61, "10:30", ["unwanted_gifts"], "post", "Flowers and a card signed 'always watching'."),
    (
        62,
        "21:50",
        ["breach_of_order", "watching_or_spying"],
        "in_person",
        "Car outside again, engine running.",
    ),
    (
        63,
        "08:05",
        ["breach_of_order", "loitering"],
        "in_person",
        "At the school gate when I dropped off my son.",
    ),
    (
        64,
        "23:30",
        ["threat_to_kill", "contacting"],
        "phone_call",
        "Voicemail: 'no order will keep you safe'.",
    ),
    (
        65,
        "13:15",
        ["breach_of_order", "turning_up_at_work"],
        "in_person",
        "Came to my office and had to be walked out by security.",
    ),
    (
        66,
        "19:00",
        ["breach_of_order", "contacting"],
        "messaging_app",
        "Messages from a new number, clearly him.",
    ),
    (67, "06:45", ["damage_to_property"], "in_person", "Wing mirror snapped off my car."),
    (
        68,
        "20:20",
        ["breach_of_order", "weapon", "threat_of_violence"],
        "in_person",
        "He showed me a knife through the car window.",
    ),
    (
        69,
        "22:00",
        ["breach_of_order", "following"],
        "in_person",
        "Followed my taxi home from my sister's.",
    ),
]
ORDER_SERVED_DAY = 56
ORDER_TERMS = (
    "Not to contact her directly or indirectly, not to come within 100 metres of her home or "
    "workplace."
)


def tiny_png(seed: int) -> bytes:
    """A small, valid PNG that differs by seed (stands in for a photo of the damage)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return pack(">I", len(data)) + kind + data + pack(">I", zlib.crc32(kind + data))

    row = bytes([0] + [(seed * 37 + x) % 256 for x in range(48)])
    raw = row * 16
    header = pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


DEMO_SUBJECT = uuid.uuid5(uuid.NAMESPACE_URL, "chronicle-demo:subject")
EXHIBIT_INCIDENTS = (7, 11, 22)  # the incidents (0-based) the demo's three photos belong to


def _when(day: int, clock: str) -> datetime:
    hour, minute = (int(part) for part in clock.split(":"))
    # Summer: UK time is UTC+1, so the diary's 21:10 is 20:10Z.
    return START + timedelta(days=day, hours=hour - 1, minutes=minute)


# What she did to make it stop (DOMAIN.md, FOUR: unwanted): she asked him to stop with the first
# texts, and blocked his number after the night of missed calls.
VICTIM_ACTIONS: dict[int, list[str]] = {0: ["asked_to_stop"], 12: ["blocked"]}


def _fear(behaviours: list[str]) -> bool:
    return any(b in behaviours for b in ("threat_of_violence", "threat_to_kill", "weapon"))


def facts() -> tuple[list[IncidentFacts], list[SubjectFacts]]:
    """The same diary as the analysis's input, without a server: for render tests and bench/."""
    served = (START + timedelta(days=ORDER_SERVED_DAY)).date()
    order = Order(
        kind="non_molestation_order",
        starts_on=served,
        ends_on=served + timedelta(days=365),
        conditions=ORDER_TERMS,
    )
    subject = SubjectFacts(
        id=DEMO_SUBJECT, label="Mark Ellis", relationship="ex_partner", orders=(order,)
    )
    incidents = [
        IncidentFacts(
            id=uuid.uuid5(uuid.NAMESPACE_URL, f"chronicle-demo:incident:{n}"),
            occurred_at=_when(day, clock),
            precision="exact",
            recorded_at=_when(day, clock) + timedelta(minutes=40),
            behaviours=tuple(behaviours),
            subject_ids=(DEMO_SUBJECT,),
            channel=channel,
            description=text,
            recorded_contemporaneously=day % 5 != 3,
            fear_of_violence=_fear(behaviours),
            alarm_or_distress=True,
            daily_life_changes=("changed_route",) if day > 30 else (),
            victim_actions=tuple(VICTIM_ACTIONS.get(day, ())),
            reported_to_police=day >= ORDER_SERVED_DAY - 1,
            evidence_count=1 if n in EXHIBIT_INCIDENTS else 0,
        )
        for n, (day, clock, behaviours, channel, text) in enumerate(INCIDENTS)
    ]
    return incidents, [subject]


def _ok(response: httpx.Response, *expected: int) -> Any:
    if response.status_code not in expected:
        sys.exit(f"{response.request.method} {response.request.url.path}: "
                 f"{response.status_code} {response.text[:300]}")  # fmt: skip
    return response.json() if response.content else None


def load(url: str, out: Path) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    with httpx.Client(base_url=url, timeout=60) as api:
        handle = _ok(
            api.post("/v1/accounts", json={"username": "demo-victim", "password": PASSWORD}), 201
        )["username"]
        token = _ok(
            api.post("/v1/auth/token", json={"username": handle, "password": PASSWORD}), 200
        )
        api.headers["Authorization"] = f"Bearer {token['access_token']}"
        served = (START + timedelta(days=ORDER_SERVED_DAY)).date()
        subject = _ok(
            api.post(
                "/v1/subjects",
                json={
                    "name": "Mark Ellis",
                    "relationship": "ex_partner",
                    "description": "Tall, shaved head, grey Ford Focus",
                    "vehicles": ["Grey Ford Focus KX19 ABC"],
                    "orders": [
                        {
                            "kind": "non_molestation_order",
                            "starts_on": served.isoformat(),
                            "ends_on": (served + timedelta(days=365)).isoformat(),
                            "conditions": ORDER_TERMS,
                            "reference": "Family Court FD26P00123",
                        }
                    ],
                },
            ),
            201,
        )
        incident_ids = []
        for day, clock, behaviours, channel, text in INCIDENTS:
            when = _when(day, clock)
            body: dict[str, Any] = {
                "occurred_at": when.isoformat(),
                "behaviours": behaviours,
                "subject_ids": [subject["id"]],
                "channel": channel,
                "description": text,
                "recorded_contemporaneously": day % 5 != 3,
                "impact": {
                    "fear_of_violence": _fear(behaviours),
                    "alarm_or_distress": True,
                    "daily_life_changes": ["changed_route"] if day > 30 else [],
                },
                "victim_actions": VICTIM_ACTIONS.get(day, []),
                "reported_to_police": day >= ORDER_SERVED_DAY - 1,
            }
            incident_ids.append(_ok(api.post("/v1/incidents", json=body), 201)["id"])
        names = ("tyres.png", "arm.png", "knife.png")
        for n, (index, name) in enumerate(zip(EXHIBIT_INCIDENTS, names, strict=True)):
            files = {"file": (name, io.BytesIO(tiny_png(n)), "image/png")}
            data = {"caption": f"Photo: {name.removesuffix('.png')}",
                    "incident_ids": [incident_ids[index]]}  # fmt: skip
            _ok(api.post("/v1/evidence", files=files, data=data), 201)
        answers = {q: {"answer": "yes"} for q in ("q1", "q2", "q3", "q5", "q7", "q8")}
        answers.update({q: {"answer": "no"} for q in ("q4", "q6", "q9")})
        _ok(
            api.post(
                "/v1/risk-assessments",
                json={"answered_by": "victim", "subject_id": subject["id"], "answers": answers},
            ),
            201,
        )
        expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        share = _ok(
            api.post(
                "/v1/shares",
                json={
                    "recipient_name": "PC Jane Smith",
                    "force": "Kent Police",
                    "crime_reference": "46/12345/26",
                    "expires_at": expires,
                    "scope": {"include_evidence": True},
                },
            ),
            201,
        )
        paths = {"share_url": share["url"]}
        for kind, name in (("pdf", "chronology.pdf"), ("bundle", "bundle.zip")):
            job = _ok(api.post("/v1/exports", json={"format": kind}), 202)
            deadline = time.monotonic() + 120
            while job["status"] in ("queued", "running") and time.monotonic() < deadline:
                time.sleep(0.5)
                job = _ok(api.get(f"/v1/exports/{job['id']}"), 200)
            if job["status"] != "done":
                sys.exit(f"the {kind} export ended {job['status']}")
            target = out / name
            with api.stream("GET", f"/v1/exports/{job['id']}/download") as download:
                if download.status_code != 200:
                    sys.exit(f"downloading the {kind}: {download.status_code}")
                with target.open("wb") as file:
                    for piece in download.iter_bytes():
                        file.write(piece)
            paths[kind] = str(target)
    paths["username"] = handle
    return paths


def _with_totp(api: httpx.Client, handle: str) -> tuple[dict[str, str], str]:
    """Log in (no second factor yet), turn on 2FA: (the bearer header, the TOTP secret)."""
    token = _ok(api.post("/v1/auth/token", json={"username": handle, "password": PASSWORD}), 200)
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    secret = _ok(api.post("/v1/me/totp", headers=auth), 200)["secret"]
    code = pyotp.TOTP(secret).now()
    _ok(api.post("/v1/me/totp/confirm", headers=auth, json={"code": code}), 204)
    return auth, secret


def _join(api: httpx.Client, inviter: dict[str, str], org_id: str, role: str, name: str) -> Any:
    invitation = _ok(
        api.post(f"/v1/organisations/{org_id}/invitations", headers=inviter, json={"role": role}),
        201,
    )
    body = {"code": invitation["code"], "username": name.split()[0].lower(),
            "password": PASSWORD, "display_name": name}  # fmt: skip
    return _ok(api.post("/v1/invitations/accept", json=body), 201)["username"]


def load_support_service(url: str, admin_handle: str, victim_handle: str) -> dict[str, str]:
    """An organisation with an admin and a caseworker whom the demo victim consents to."""
    with httpx.Client(base_url=url, timeout=60) as api:
        admin, _ = _with_totp(api, admin_handle)
        body = {"name": "Safe Haven Advocacy (demo)", "kind": "support_service"}
        org = _ok(api.post("/v1/organisations", headers=admin, json=body), 201)
        org_admin_handle = _join(api, admin, org["id"], "org_admin", "Priya Shah")
        org_admin, org_admin_secret = _with_totp(api, org_admin_handle)
        caseworker_handle = _join(api, org_admin, org["id"], "caseworker", "Sam Okafor")
        caseworker, secret = _with_totp(api, caseworker_handle)
        label = {"label": "Demo client"}
        code = _ok(api.post("/v1/caseworker/link-codes", headers=caseworker, json=label), 201)[
            "code"
        ]
        token = _ok(
            api.post("/v1/auth/token", json={"username": victim_handle, "password": PASSWORD}), 200
        )
        victim = {"Authorization": f"Bearer {token['access_token']}"}
        expires = (datetime.now(UTC) + timedelta(days=90)).isoformat()
        grant = {"link_code": code, "scope": "assist", "expires_at": expires}
        client = _ok(api.post("/v1/grants", headers=victim, json=grant), 201)
        note = {"text": "First meeting: talked through the diary and a safety plan."}
        _ok(api.post(f"/v1/clients/{client['id']}/notes", headers=caseworker, json=note), 201)
    return {
        "console_url": f"{url}/console/",
        "caseworker": caseworker_handle,
        "caseworker_totp_secret": secret,
        "org_admin": org_admin_handle,
        "org_admin_totp_secret": org_admin_secret,
        "client_id": client["id"],
    }


def _demo_admin() -> str:
    """A service admin in the server's own database, made as the CLI makes one."""
    from app.cli import new_admin  # the server's settings: DATA_DIR, DATABASE_URL
    from app.main import build_context
    from app.settings import get_settings

    ctx = build_context(get_settings())
    try:
        return new_admin(ctx, "demo-admin", PASSWORD)[1]
    finally:
        ctx.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.demo", description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=Path("demo-output"))
    parser.add_argument(
        "--no-console",
        dest="console",
        action="store_false",
        help="skip the support service (it needs the server's DATA_DIR / DATABASE_URL here)",
    )
    args = parser.parse_args(argv)
    try:
        paths = load(args.url, args.out)
    except httpx.TransportError as exc:
        sys.exit(f"cannot reach {args.url} ({exc}); start the server first: make run")
    print(f"Demo diary loaded for {paths['username']} (password: {PASSWORD!r}).")
    print(f"Open the officer's view:  {paths['share_url']}")
    print(f"Signed PDF:               {paths['pdf']}")
    print(f"Evidence bundle:          {paths['bundle']}")
    if args.console:
        console = load_support_service(args.url, _demo_admin(), paths["username"])
        print(f"Caseworker console:       {console['console_url']}")
        print(f"  caseworker {console['caseworker']}, org admin {console['org_admin']}, "
              f"password {PASSWORD!r}")  # fmt: skip
        print(f"  authenticator keys (add to an app, or `python -c \"import pyotp; "
              f"print(pyotp.TOTP('KEY').now())\"`): caseworker "
              f"{console['caseworker_totp_secret']}, org admin "
              f"{console['org_admin_totp_secret']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
