"""`make demo` loads its diary through the API of a real server and gets what an officer gets."""

from __future__ import annotations

import subprocess
import time
import zipfile
from pathlib import Path

import httpx
import pyotp
from fastapi import FastAPI

from app import demo
from app.cli import new_admin
from tests.conftest import LiveServer


def test_the_demo_diary_loads_and_yields_a_share_a_pdf_and_a_bundle(
    live_server: LiveServer, tmp_path: Path
) -> None:
    paths = demo.load(live_server.url, tmp_path / "out")
    pdf = Path(paths["pdf"])
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())  # table cells wrap
    assert "Mark Ellis" in flat
    # The first incident: 21:10 UK summer time, never the UTC 20:10.
    assert "6 July 2026, 21:10 BST" in flat and "6 July 2026, 20:10" not in flat
    with zipfile.ZipFile(paths["bundle"]) as bundle:
        assert any(name.endswith(".pdf") for name in bundle.namelist())
    viewer = httpx.get(paths["share_url"], timeout=30)
    assert viewer.status_code == 200 and "Mark Ellis" in viewer.text
    assert len(demo.INCIDENTS) == 24


def test_the_demo_sets_up_a_caseworker_with_a_consented_client(
    live_server: LiveServer, app: FastAPI, tmp_path: Path
) -> None:
    victim = demo.load(live_server.url, tmp_path / "out")["username"]
    _id, admin = new_admin(app.state.ctx, "demo-admin", demo.PASSWORD)
    console = demo.load_support_service(live_server.url, admin, victim)
    with httpx.Client(base_url=live_server.url, timeout=30) as api:
        code = pyotp.TOTP(console["caseworker_totp_secret"]).at(time.time() + 30)
        body = {"username": console["caseworker"], "password": demo.PASSWORD, "totp_code": code}
        token = api.post("/v1/auth/token", json=body)
        assert token.status_code == 200, token.text
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        clients = api.get("/v1/clients", headers=auth).json()["items"]
        assert [(c["id"], c["scope"]) for c in clients] == [(console["client_id"], "assist")]
        notes = api.get(f"/v1/clients/{console['client_id']}/notes", headers=auth).json()
        assert len(notes["items"]) == 1
