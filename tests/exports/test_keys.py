"""The service's signing keys: kept like the key ring, rotated without orphaning old bundles,
and published (current and retired) by GET /v1/keys."""

from __future__ import annotations

import base64
import logging
import stat
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.crypto.signing import (
    SigningKeyError,
    SigningKeys,
    load_signing_keys,
    rotate_signing_keys,
    save_signing_keys,
    signing_keys_for,
    signing_keys_path,
)
from app.exports.bundle.verify import load_public_keys, verify_bundle
from app.exports.keys_routes import router
from app.main import create_app
from app.settings import Settings
from tests.exports.builders import Diary, Evidence, make_bundle


def published(keys: SigningKeys) -> list[Ed25519PublicKey]:
    return [
        k for info in keys.public_keys() for k in load_public_keys(info.public_key_pem.encode())
    ]


def test_development_generates_keys_owner_only_with_a_loud_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "data" / "signing.json"
    with caplog.at_level(logging.WARNING, logger="app.crypto.signing"):
        keys = load_signing_keys(path, allow_generate=True)
    assert "NOT FOR PRODUCTION" in caplog.text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_signing_keys(path, allow_generate=False).public_keys() == keys.public_keys()


def test_production_refuses_to_start_without_signing_keys(tmp_path: Path) -> None:
    settings = Settings(
        environment="production",
        data_dir=tmp_path,
        database_url="postgresql://db/chronicle",
        keyring_path=tmp_path / "secrets" / "keyring.json",
    )
    assert signing_keys_path(settings) == tmp_path / "secrets" / "signing.json"
    with pytest.raises(SigningKeyError, match="no signing keys"):
        signing_keys_for(settings)
    assert not (tmp_path / "secrets").exists()


def test_the_file_round_trips_every_key_and_certificate(tmp_path: Path) -> None:
    keys = SigningKeys.generate().rotate()
    save_signing_keys(keys, tmp_path / "signing.json")
    loaded = load_signing_keys(tmp_path / "signing.json", allow_generate=False)
    assert loaded.public_keys() == keys.public_keys()
    assert loaded.pdf.certificate == keys.pdf.certificate
    assert loaded.pdf.ca_certificate == keys.pdf.ca_certificate
    _, signature = loaded.sign_manifest(b"manifest")
    keys.current.public_key.verify(signature, b"manifest")


def test_a_malformed_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "signing.json"
    path.write_text('{"version": 1, "current": "k", "manifest_keys": []}')
    with pytest.raises(SigningKeyError):
        load_signing_keys(path, allow_generate=False)


def test_the_current_key_cannot_be_a_retired_one() -> None:
    keys = SigningKeys.generate()
    retired = {kid: replace(k, retired_at=k.created_at) for kid, k in keys.manifest_keys.items()}
    with pytest.raises(SigningKeyError):
        SigningKeys(current_id=keys.current_id, manifest_keys=retired, pdf=keys.pdf)


def test_the_pdf_certificate_is_issued_by_the_service_ca() -> None:
    pdf = SigningKeys.generate().pdf
    pdf.certificate.verify_directly_issued_by(pdf.ca_certificate)
    usage = pdf.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    assert pdf.ca_certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_rotation_retires_the_old_key_and_old_bundles_still_verify(
    tmp_path: Path, diary: Diary, evidence: Evidence
) -> None:
    path = tmp_path / "signing.json"
    before = load_signing_keys(path, allow_generate=True)
    make_bundle(tmp_path / "old.zip", diary, evidence, before)
    after = rotate_signing_keys(path)
    make_bundle(tmp_path / "new.zip", diary, evidence, after)

    infos = after.public_keys()
    assert [(i.key_id, i.status) for i in infos] == [
        (after.current_id, "current"),
        (before.current_id, "retired"),
    ]
    assert infos[1].retired_at is not None and infos[0].retired_at is None
    assert after.pdf.certificate == before.pdf.certificate
    trusted = published(load_signing_keys(path, allow_generate=False))
    old, new = (
        verify_bundle(tmp_path / "old.zip", trusted),
        verify_bundle(tmp_path / "new.zip", trusted),
    )
    assert old.ok and old.key_id == before.current_id, old.problems
    assert new.ok and new.key_id == after.current_id, new.problems
    only_new = [after.current.public_key]
    assert not verify_bundle(tmp_path / "old.zip", only_new).ok


def keys_app(state: dict[str, object]) -> TestClient:
    app = FastAPI()
    app.include_router(router)
    for name, value in state.items():
        setattr(app.state, name, value)
    return TestClient(app)


def test_get_keys_publishes_current_and_retired_keys_and_the_pdf_certificates() -> None:
    keys = SigningKeys.generate().rotate()
    response = keys_app({"ctx": SimpleNamespace(signing_keys=keys)}).get("/v1/keys")
    assert response.status_code == 200
    body = response.json()
    assert "PRIVATE" not in response.text
    expected = [
        {
            "key_id": info.key_id,
            "algorithm": "Ed25519",
            "status": info.status,
            "created_at": info.created_at.isoformat().replace("+00:00", "Z"),
            "retired_at": info.retired_at.isoformat().replace("+00:00", "Z")
            if info.retired_at
            else None,
            "public_key_pem": info.public_key_pem,
            "public_key_base64": info.public_key_base64,
            "fingerprint_sha256": info.fingerprint_sha256,
        }
        for info in keys.public_keys()
    ]
    assert body["manifest_keys"] == expected
    assert [k["status"] for k in body["manifest_keys"]] == ["current", "retired"]
    raw = base64.b64decode(body["manifest_keys"][0]["public_key_base64"])
    assert raw == keys.current.public_key.public_bytes_raw()
    pdf = body["pdf_signing"]
    assert x509.load_pem_x509_certificate(pdf["certificate_pem"].encode()) == keys.pdf.certificate
    ca = x509.load_pem_x509_certificate(pdf["ca_certificate_pem"].encode())
    assert ca == keys.pdf.ca_certificate
    assert pdf["ca_certificate_sha256"] == ca.fingerprint(hashes.SHA256()).hex()


def test_the_app_makes_its_development_keys_once_at_start_and_publishes_them(
    tmp_path: Path,
) -> None:
    settings = Settings(environment="test", data_dir=tmp_path)
    app = create_app(settings)
    on_disk = load_signing_keys(tmp_path / "signing.json", allow_generate=False)
    assert app.state.ctx.signing_keys.current_id == on_disk.current_id  # before any request
    with TestClient(app) as client:
        first = client.get("/v1/keys").json()
        assert client.get("/v1/keys").json() == first
    assert first["manifest_keys"][0]["key_id"] == on_disk.current_id
    app.state.ctx.engine.dispose()
