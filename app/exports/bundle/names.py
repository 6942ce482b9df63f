"""The fixed file names of an export bundle, shared by the writer and the verifier."""

from __future__ import annotations

FORMAT = "chronicle-export-bundle"
FORMAT_VERSION = 1
PDF = "chronology.pdf"
SUMMARY = "chronology.json"
CHAIN = "chain.json"
README = "README.txt"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
SIGNATURE = "manifest.sig"
SIGNATURE_B64 = "manifest.sig.b64"
PUBLIC_KEY = "signing-key.pem"
# Made from the manifest, so it cannot list them; SHA256SUMS does not cover the last three.
SIGNATURE_FILES = (SIGNATURE, SIGNATURE_B64, PUBLIC_KEY)
UNLISTED = (MANIFEST, SUMS, *SIGNATURE_FILES)
