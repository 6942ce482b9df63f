"""Key ring, field encryption, master-key rotation and crypto-shredding."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app import cli
from app.crypto.fields import DataKey, DecryptionError, decrypt_field, encrypt_field, new_data_key
from app.crypto.keyring import KeyRing, KeyRingError, load_keyring
from app.errors import NotFound
from app.models import Account, AccountKey
from app.security import rotation
from app.security.keys import load_data_key
from tests.conftest import PASSWORD, User, login, new_user, stored_bytes

MARKER = "MARKER-5f1c0e-never-in-plaintext"


def _key(account: uuid.UUID | None = None) -> DataKey:
    return DataKey.from_bytes(account or uuid.uuid4(), new_data_key())


def test_field_round_trip_keeps_every_string_byte_exact() -> None:
    key = _key()
    row = uuid.uuid4()
    for value in ["", "plain", "NUL\x00inside", "\u202eRTL override", "😀" * 1000, "\ud800"]:
        sealed = encrypt_field(key, value, table="t", column="c", row_id=row)
        assert decrypt_field(key, sealed, table="t", column="c", row_id=row) == value


def test_same_value_encrypts_differently_each_time() -> None:
    key, row = _key(), uuid.uuid4()
    a = encrypt_field(key, MARKER, table="t", column="c", row_id=row)
    b = encrypt_field(key, MARKER, table="t", column="c", row_id=row)
    assert a != b and MARKER.encode() not in a


@pytest.mark.parametrize("moved_to", ["row", "column", "table", "account"])
def test_a_ciphertext_moved_elsewhere_fails_to_decrypt(moved_to: str) -> None:
    key, row = _key(), uuid.uuid4()
    sealed = encrypt_field(key, MARKER, table="incidents", column="description", row_id=row)
    where = {"table": "incidents", "column": "description", "row_id": row}
    if moved_to == "row":
        where["row_id"] = uuid.uuid4()
    elif moved_to == "column":
        where["column"] = "location"
    elif moved_to == "table":
        where["table"] = "subjects"
    other_key = DataKey(account_id=uuid.uuid4(), aead=key.aead) if moved_to == "account" else key
    with pytest.raises(DecryptionError):
        decrypt_field(other_key, sealed, **where)  # type: ignore[arg-type]


def test_flipped_bit_fails_closed() -> None:
    key, row = _key(), uuid.uuid4()
    sealed = bytearray(encrypt_field(key, MARKER, table="t", column="c", row_id=row))
    for index in (0, 5, len(sealed) // 2, len(sealed) - 1):
        tampered = bytearray(sealed)
        tampered[index] ^= 0x01
        with pytest.raises(DecryptionError):
            decrypt_field(key, bytes(tampered), table="t", column="c", row_id=row)
    with pytest.raises(DecryptionError):
        decrypt_field(key, bytes(sealed[:20]), table="t", column="c", row_id=row)


def test_keyring_round_trips_and_rejects_garbage(tmp_path: Path) -> None:
    ring = KeyRing.generate()
    again = KeyRing.from_json(ring.to_json())
    assert again.current_id == ring.current_id and again.hmac_key == ring.hmac_key
    for text in [
        "",
        "{}",
        "not json",
        '{"version": 1, "current": "x", "master_keys": {}, "hmac_key": ""}',
    ]:
        with pytest.raises(KeyRingError):
            KeyRing.from_json(text)
    path = tmp_path / "ring.json"
    load_keyring(path, None, allow_generate=True)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(KeyRingError):
        load_keyring(tmp_path / "missing.json", None, allow_generate=False)


def test_wrapped_key_of_one_account_cannot_serve_another(client: TestClient, app: FastAPI) -> None:
    a, b = new_user(client), new_user(client)
    ctx = app.state.ctx
    with ctx.sessionmaker.begin() as session:
        rows = session.scalars(select(AccountKey)).all()
        first, second = rows
        first.wrapped_key, second.wrapped_key = second.wrapped_key, first.wrapped_key
    # Each wrapped key is bound to its account id: swapping them makes both unreadable.
    assert client.get("/v1/me", headers=a.auth).status_code == 500
    assert client.get("/v1/me", headers=b.auth).status_code == 500


def test_planted_marker_never_reaches_the_database_file(
    client: TestClient, app: FastAPI, settings: object
) -> None:
    marker_email = f"{MARKER.lower()}@example.org"
    created = client.post(
        "/v1/accounts",
        json={"username": MARKER, "password": PASSWORD + "!", "email": marker_email},
    )
    user = login(client, created.json()["username"], PASSWORD + "!")
    assert client.get("/v1/me", headers=user.auth).json()["username"].startswith(MARKER + "-")
    blob = stored_bytes(app)
    for needle in (MARKER, marker_email):
        assert needle.encode() not in blob
        assert needle.lower().encode() not in blob


def test_planted_marker_never_reaches_table_contents(client: TestClient, app: FastAPI) -> None:
    created = client.post("/v1/accounts", json={"username": MARKER, "password": PASSWORD + "!"})
    login(client, created.json()["username"], PASSWORD + "!")
    dump = []
    with app.state.ctx.engine.connect() as conn:
        for table in app.state.ctx.engine.dialect.get_table_names(conn):
            dump.extend(repr(row) for row in conn.exec_driver_sql(f'SELECT * FROM "{table}"'))
    text = "\n".join(dump)
    assert MARKER not in text and MARKER.encode().hex() not in text


def test_rotation_rewraps_every_account_and_can_resume(client: TestClient, app: FastAPI) -> None:
    users = [new_user(client) for _ in range(5)]
    ctx = app.state.ctx
    old_id = ctx.keyring.current_id
    ring = ctx.keyring.with_new_master_key()
    # Interrupted after two batches of two...
    progress = rotation.rewrap_all(ctx.sessionmaker, ring, batch_size=2, max_batches=2)
    assert (progress.rewrapped, progress.remaining) == (4, 1)
    object.__setattr__(ctx, "keyring", ring)
    # ...the service still reads every account, old key or new...
    for user in users:
        assert client.get("/v1/me", headers=user.auth).status_code == 200
    # ...and a second run finishes the job.
    progress = rotation.rewrap_all(ctx.sessionmaker, ring, batch_size=2)
    assert (progress.rewrapped, progress.remaining) == (1, 0)
    with ctx.sessionmaker() as session:
        assert set(session.scalars(select(AccountKey.kek_id)).all()) == {ring.current_id}
    assert rotation.unused_key_ids(ctx.sessionmaker, ring) == [old_id]
    retired = ring.without_key(old_id)
    object.__setattr__(ctx, "keyring", retired)
    for user in users:
        assert client.get("/v1/me", headers=user.auth).status_code == 200


def test_cli_rotate_then_status(
    client: TestClient,
    app: FastAPI,
    settings: object,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user = new_user(client)
    ctx = app.state.ctx
    monkeypatch.setenv("DATABASE_URL", ctx.settings.effective_database_url)
    monkeypatch.setenv("DATA_DIR", str(ctx.settings.data_dir))
    from app.settings import get_settings

    get_settings.cache_clear()
    try:
        assert cli.main(["keys", "rotate", "--batch-size", "1"]) == 0
        assert cli.main(["keys", "status"]) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "re-wrapped 1 account keys; 0 remaining" in out
    assert "account keys not yet on the current key: 0" in out
    # A fresh app reading the rotated ring still opens the account.
    from app.main import create_app

    fresh = create_app(ctx.settings)
    with TestClient(fresh) as other:
        assert other.get("/v1/me", headers=user.auth).status_code == 200
    fresh.state.ctx.engine.dispose()


def test_erasure_destroys_the_data_key_and_everything_with_it(
    client: TestClient, app: FastAPI, tmp_path: Path
) -> None:
    alice = new_user(client)
    bob = new_user(client)
    ctx = app.state.ctx
    with ctx.sessionmaker() as session:
        account = session.scalars(
            select(Account).join(AccountKey).where(Account.id == _me_id(client, alice))
        ).one()
        sealed, account_id = account.username_enc, account.id
    wrong = client.request(
        "DELETE", "/v1/me", headers=alice.auth, json={"password": "not my password at all"}
    )
    assert wrong.status_code == 401
    response = client.request("DELETE", "/v1/me", headers=alice.auth, json={"password": PASSWORD})
    assert response.status_code == 204
    assert client.get("/v1/me", headers=alice.auth).status_code == 401
    with ctx.sessionmaker() as session:
        assert session.get(AccountKey, account_id) is None
        assert session.get(Account, account_id) is None
        with pytest.raises(NotFound):
            load_data_key(session, ctx.keyring, account_id)
    # The ciphertext, had it survived somewhere, opens with no key the service still holds.
    for candidate in _every_unwrappable_key(ctx):
        with pytest.raises(DecryptionError):
            decrypt_field(
                DataKey.from_bytes(account_id, candidate),
                sealed,
                table="accounts",
                column="username",
                row_id=account_id,
            )
    assert client.get("/v1/me", headers=bob.auth).status_code == 200
    failed = client.post("/v1/auth/token", json={"username": alice.username, "password": PASSWORD})
    assert failed.status_code == 401


def _me_id(client: TestClient, user: User) -> uuid.UUID:
    return uuid.UUID(client.get("/v1/me", headers=user.auth).json()["id"])


def _every_unwrappable_key(ctx: object) -> list[bytes]:
    from app.crypto.fields import unwrap_data_key_bytes

    keys = []
    with ctx.sessionmaker() as session:  # type: ignore[attr-defined]
        for row in session.scalars(select(AccountKey)).all():
            keys.append(
                unwrap_data_key_bytes(ctx.keyring, row.account_id, row.kek_id, row.wrapped_key)  # type: ignore[attr-defined]
            )
    return keys
