"""The service's signing keys: Ed25519 keys for export manifests, and the PDF signing identity.

Kept beside the master key ring, in a small JSON document (`signing.json`, 0600, written
atomically), generated on first run in development with a loud warning and required in
production. It holds:
- manifest keys: Ed25519, each with an id, a creation time and, once rotated out, a retirement
  time. One is current and signs new bundles; retired keys stay (and stay published by
  `GET /v1/keys`) so that every bundle ever issued can still be verified;
- the PDF signing identity: an ECDSA P-256 certificate and key for PAdES signatures, issued by
  a small service CA whose certificate a validator (pyHanko, poppler's pdfsig, Acrobat) is
  given as its trust root. ECDSA P-256 with SHA-256 is validated by both pyHanko and NSS.

`SigningKeys` is immutable: rotation returns a new object that the caller saves.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import NameOID

from app.private_files import private_dir
from app.settings import Settings

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST_ALGORITHM = "Ed25519"
CA_VALIDITY = timedelta(days=20 * 365)
CERT_VALIDITY = timedelta(days=10 * 365)

KeyStatus = Literal["current", "retired"]


class SigningKeyError(RuntimeError):
    """The signing key file is missing or malformed."""


def signing_keys_path(settings: Settings) -> Path:
    """`signing.json` in the same folder as the master key ring."""
    return settings.effective_keyring_path.parent / "signing.json"


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _new_key_id(now: datetime) -> str:
    return "k-" + now.strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(3)


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_pem(key: Ed25519PublicKey) -> str:
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode("ascii")


def key_fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, lowercase hex: what an officer compares."""
    return hashlib.sha256(_raw_public(key)).hexdigest()


def certificate_fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate (`openssl x509 -noout -fingerprint -sha256`), hex."""
    return cert.fingerprint(hashes.SHA256()).hex()


@dataclass(frozen=True)
class ManifestKey:
    key_id: str
    private_key: Ed25519PrivateKey = field(repr=False)
    created_at: datetime
    retired_at: datetime | None = None

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()


@dataclass(frozen=True)
class PublicKeyInfo:
    """One manifest key as published: never the private half."""

    key_id: str
    algorithm: str
    status: KeyStatus
    created_at: datetime
    retired_at: datetime | None
    public_key_pem: str
    public_key_base64: str  # the raw 32-byte key
    fingerprint_sha256: str


@dataclass(frozen=True)
class PdfIdentity:
    """The PAdES signing certificate and key, and the CA certificate (and key) that issued it."""

    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    ca_certificate: x509.Certificate
    ca_private_key: ec.EllipticCurvePrivateKey = field(repr=False)

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def ca_certificate_pem(self) -> str:
        return self.ca_certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @classmethod
    def generate(cls, now: datetime) -> PdfIdentity:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _ca_certificate(ca_key, now)
        key = ec.generate_private_key(ec.SECP256R1())
        return cls(
            certificate=_signing_certificate(key, ca_cert, ca_key, now),
            private_key=key,
            ca_certificate=ca_cert,
            ca_private_key=ca_key,
        )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Chronicle"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_certificate(key: ec.EllipticCurvePrivateKey, now: datetime) -> x509.Certificate:
    subject = _name(f"Chronicle export CA {now:%Y-%m-%d}")
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )


def _signing_certificate(
    key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    now: datetime,
) -> x509.Certificate:
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(_name("Chronicle export signing"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + CERT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # non-repudiation: what document signers expect
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )


@dataclass(frozen=True)
class SigningKeys:
    current_id: str
    manifest_keys: dict[str, ManifestKey]
    pdf: PdfIdentity

    def __post_init__(self) -> None:
        current = self.manifest_keys.get(self.current_id)
        if current is None or current.retired_at is not None:
            raise SigningKeyError("the current manifest key is missing or retired")

    @property
    def current(self) -> ManifestKey:
        return self.manifest_keys[self.current_id]

    def sign_manifest(self, data: bytes) -> tuple[str, bytes]:
        """(key id, raw 64-byte Ed25519 signature over exactly `data`)."""
        return self.current_id, self.current.private_key.sign(data)

    def public_keys(self) -> list[PublicKeyInfo]:
        """Every manifest key, current first, then retired ones newest first."""
        ordered = sorted(
            self.manifest_keys.values(),
            key=lambda k: (k.key_id != self.current_id, -k.created_at.timestamp(), k.key_id),
        )
        return [
            PublicKeyInfo(
                key_id=k.key_id,
                algorithm=MANIFEST_ALGORITHM,
                status="current" if k.key_id == self.current_id else "retired",
                created_at=k.created_at,
                retired_at=k.retired_at,
                public_key_pem=public_key_pem(k.public_key),
                public_key_base64=base64.b64encode(_raw_public(k.public_key)).decode("ascii"),
                fingerprint_sha256=key_fingerprint(k.public_key),
            )
            for k in ordered
        ]

    def rotate(self) -> SigningKeys:
        """A new current manifest key; the old one is kept, retired, for old bundles."""
        now = _now()
        kid = _new_key_id(now)
        while kid in self.manifest_keys:
            kid = _new_key_id(now)
        keys = {
            key_id: replace(k, retired_at=now) if key_id == self.current_id else k
            for key_id, k in self.manifest_keys.items()
        }
        keys[kid] = ManifestKey(kid, Ed25519PrivateKey.generate(), created_at=now)
        return SigningKeys(current_id=kid, manifest_keys=keys, pdf=self.pdf)

    @classmethod
    def generate(cls) -> SigningKeys:
        now = _now()
        kid = _new_key_id(now)
        return cls(
            current_id=kid,
            manifest_keys={kid: ManifestKey(kid, Ed25519PrivateKey.generate(), created_at=now)},
            pdf=PdfIdentity.generate(now),
        )

    def to_json(self) -> str:
        doc = {
            "version": FORMAT_VERSION,
            "current": self.current_id,
            "manifest_keys": [_manifest_key_doc(k) for k in self.manifest_keys.values()],
            "pdf": {
                "certificate": self.pdf.certificate_pem,
                "private_key": _private_pem(self.pdf.private_key),
                "ca_certificate": self.pdf.ca_certificate_pem,
                "ca_private_key": _private_pem(self.pdf.ca_private_key),
            },
        }
        return json.dumps(doc, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SigningKeys:
        try:
            doc = json.loads(text)
            if doc.get("version") != FORMAT_VERSION:
                raise SigningKeyError("unsupported signing key file version")
            keys = [_manifest_key_from(item) for item in doc["manifest_keys"]]
            pdf = doc["pdf"]
            identity = PdfIdentity(
                certificate=x509.load_pem_x509_certificate(pdf["certificate"].encode()),
                private_key=_ec_key(pdf["private_key"]),
                ca_certificate=x509.load_pem_x509_certificate(pdf["ca_certificate"].encode()),
                ca_private_key=_ec_key(pdf["ca_private_key"]),
            )
            return cls(
                current_id=str(doc["current"]),
                manifest_keys={k.key_id: k for k in keys},
                pdf=identity,
            )
        except SigningKeyError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SigningKeyError("the signing key file is not a valid document") from exc


def _manifest_key_doc(key: ManifestKey) -> dict[str, Any]:
    raw = key.private_key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return {
        "id": key.key_id,
        "algorithm": MANIFEST_ALGORITHM,
        "private_key": base64.b64encode(raw).decode("ascii"),
        "created_at": key.created_at.isoformat(),
        "retired_at": key.retired_at.isoformat() if key.retired_at else None,
    }


def _manifest_key_from(item: dict[str, Any]) -> ManifestKey:
    if item["algorithm"] != MANIFEST_ALGORITHM:
        raise SigningKeyError(f"unsupported manifest key algorithm {item['algorithm']!r}")
    raw = base64.b64decode(item["private_key"], validate=True)
    if len(raw) != 32:
        raise SigningKeyError(f"manifest key {item['id']} must be 32 bytes")
    retired = item.get("retired_at")
    return ManifestKey(
        key_id=str(item["id"]),
        private_key=Ed25519PrivateKey.from_private_bytes(raw),
        created_at=datetime.fromisoformat(item["created_at"]),
        retired_at=datetime.fromisoformat(retired) if retired else None,
    )


def _private_pem(key: ec.EllipticCurvePrivateKey) -> str:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode("ascii")


def _ec_key(pem: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SigningKeyError("the PDF signing key must be an ECDSA key")
    return key


def save_signing_keys(keys: SigningKeys, path: Path) -> None:
    """Write atomically with owner-only permissions, so a crash never leaves half a file."""
    private_dir(path.parent)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a .tmp left by a crash keeps its old mode through O_CREAT
    with os.fdopen(fd, "w") as fh:
        fh.write(keys.to_json())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load_signing_keys(path: Path, *, allow_generate: bool) -> SigningKeys:
    if path.exists():
        return SigningKeys.from_json(path.read_text())
    if not allow_generate:
        raise SigningKeyError(f"no signing keys at {path}: create them before starting")
    keys = SigningKeys.generate()
    save_signing_keys(keys, path)
    log.warning(
        "generated development signing keys at %s: NOT FOR PRODUCTION; exports signed with "
        "them prove nothing to anyone who has not checked the published keys",
        path,
    )
    return keys


def rotate_signing_keys(path: Path) -> SigningKeys:
    """Load, add a new current manifest key (retiring the old one), save; returns the result."""
    keys = load_signing_keys(path, allow_generate=False).rotate()
    save_signing_keys(keys, path)
    return keys


def signing_keys_for(settings: Settings) -> SigningKeys:
    """The service's signing keys: generated in development and test, required in production."""
    return load_signing_keys(
        signing_keys_path(settings), allow_generate=settings.environment != "production"
    )
