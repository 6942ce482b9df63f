"""GET /v1/keys: the public keys that verify export bundles and PDFs. Public, no auth.

Officers compare the key in a bundle (signing-key.pem, the key id in manifest.json) with the
one published here; retired keys stay listed so that every bundle ever issued still verifies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from app.context import CtxDep
from app.crypto.signing import SigningKeys, certificate_fingerprint

router = APIRouter(tags=["exports"])


class PublishedKey(BaseModel):
    key_id: str = Field(description="Named by `signing_key_id` in a bundle's manifest.json.")
    algorithm: Literal["Ed25519"]
    status: Literal["current", "retired"] = Field(
        description="current signs new bundles; retired keys only verify older ones."
    )
    created_at: datetime
    retired_at: datetime | None
    public_key_pem: str = Field(description="SubjectPublicKeyInfo PEM, as signing-key.pem.")
    public_key_base64: str = Field(description="The raw 32-byte public key, base64.")
    fingerprint_sha256: str = Field(description="SHA-256 of the raw 32-byte key, hex.")


class PdfCertificates(BaseModel):
    certificate_pem: str = Field(description="The certificate that signs chronology.pdf.")
    certificate_sha256: str = Field(description="SHA-256 fingerprint of its DER encoding.")
    ca_certificate_pem: str = Field(description="The service CA: give it to a validator.")
    ca_certificate_sha256: str


class KeysOut(BaseModel):
    manifest_keys: list[PublishedKey] = Field(description="Current first, then retired.")
    pdf_signing: PdfCertificates


def get_signing_keys(ctx: CtxDep) -> SigningKeys:
    """The keys the app loaded at start-up (`AppContext.signing_keys`)."""
    return ctx.signing_keys


SigningKeysDep = Annotated[SigningKeys, Depends(get_signing_keys)]


@router.get("/v1/keys", operation_id="keys_list", response_model=KeysOut)
def list_keys(keys: SigningKeysDep) -> KeysOut:
    """The public keys for export manifests (current and retired) and the PDF certificates."""
    pdf = keys.pdf
    return KeysOut(
        manifest_keys=[
            PublishedKey(
                key_id=k.key_id,
                algorithm="Ed25519",
                status=k.status,
                created_at=k.created_at,
                retired_at=k.retired_at,
                public_key_pem=k.public_key_pem,
                public_key_base64=k.public_key_base64,
                fingerprint_sha256=k.fingerprint_sha256,
            )
            for k in keys.public_keys()
        ],
        pdf_signing=PdfCertificates(
            certificate_pem=pdf.certificate_pem,
            certificate_sha256=certificate_fingerprint(pdf.certificate),
            ca_certificate_pem=pdf.ca_certificate_pem,
            ca_certificate_sha256=certificate_fingerprint(pdf.ca_certificate),
        ),
    )
