"""/readyz answers for the evidence store too."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.blobs import BlobStoreError


@pytest.mark.parametrize("blob_backend", ["local", "s3"], indirect=True)
def test_ready_only_while_the_evidence_store_answers(
    client: TestClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get("/readyz").json() == {"status": "ready"}

    def unreachable() -> None:
        raise BlobStoreError("S3 could not reach the bucket")

    monkeypatch.setattr(app.state.ctx.blobs, "check", unreachable)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json()["detail"] == "The evidence store cannot be reached."
