"""A Python client generated from openapi/openapi.json, type-checked, used against a real server.

As an integrator would: openapi-python-client with openapi/python-client.yaml over the client
API (the operations not marked x-internal), `mypy --strict` over what it wrote, then the
generated functions and models, not hand-written requests, against uvicorn.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import PASSWORD, LiveServer
from tests.evidence.support import jpeg_with_exif

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "openapi.json"
CONFIG = ROOT / "openapi" / "python-client.yaml"
PACKAGE = "chronicle_generated_client"
BIN = Path(sys.executable).parent


def client_spec() -> dict[str, Any]:
    """The spec without the operations marked x-internal (the viewer, /metrics)."""
    spec = json.loads(SPEC.read_text())
    for path, item in list(spec["paths"].items()):
        kept = {method: op for method, op in item.items() if not op.get("x-internal")}
        if kept:
            spec["paths"][path] = kept
        else:
            del spec["paths"][path]
    return dict(spec)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    work = tmp_path_factory.mktemp("generated")
    spec = work / "client.json"
    spec.write_text(json.dumps(client_spec()))
    made = subprocess.run(
        [str(BIN / "openapi-python-client"), "generate", "--path", str(spec), "--meta", "none",
         "--config", str(CONFIG), "--output-path", str(work / PACKAGE), "--fail-on-warning"],
        cwd=work, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    # Outside the repository, so that none of its mypy settings apply: plain --strict.
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(work / ".mypy"), PACKAGE],
        cwd=work, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    sys.path.insert(0, str(work))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(work))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _mod(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_generated_client_drives_the_diary(generated: ModuleType, live_server: LiveServer) -> None:
    models = _mod("models")
    accounts = _mod("api.accounts.accounts_create")
    token = _mod("api.sessions.auth_token_create")
    with generated.Client(base_url=live_server.url, raise_on_unexpected_status=True) as anonymous:
        registered = accounts.sync(
            client=anonymous, body=models.RegisterIn(username="generated", password=PASSWORD)
        )
        assert isinstance(registered, models.RegisterOut), registered
        tokens = token.sync(
            client=anonymous, body=models.TokenIn(username=registered.username, password=PASSWORD)
        )
        assert isinstance(tokens, models.TokenOut), tokens
    with generated.AuthenticatedClient(
        base_url=live_server.url, token=tokens.access_token, raise_on_unexpected_status=True
    ) as client:
        _use(client)


def _use(client: Any) -> None:
    """What an integrator's code does with the generated client, logged in."""
    models, types = _mod("models"), _mod("types")

    subjects = _mod("api.subjects.subjects_create")
    incidents_create = _mod("api.incidents.incidents_create")
    incidents_get = _mod("api.incidents.incidents_get")
    incidents_list = _mod("api.incidents.incidents_list")
    incidents_update = _mod("api.incidents.incidents_update")
    evidence_create = _mod("api.evidence.evidence_create")
    chronology = _mod("api.chronology.chronology_get")
    exports_create = _mod("api.exports.exports_create")
    exports_get = _mod("api.exports.exports_get")
    exports_download = _mod("api.exports.exports_download")

    subject = subjects.sync(client=client, body=models.SubjectCreate(name="man in a blue car"))
    assert isinstance(subject, models.SubjectOut), subject
    made = []
    for day in range(1, 4):
        incident = incidents_create.sync(
            client=client,
            body=models.IncidentCreate(
                occurred_at=datetime(2024, 3, day, 20, 5, tzinfo=UTC),
                behaviours=[models.BehaviourCode.LOITERING],
                subject_ids=[subject.id],
                description="He was outside the flat again.",
            ),
        )
        assert isinstance(incident, models.IncidentOut), incident
        made.append(incident)

    # Evidence in one multipart request, linked from the evidence side.
    photo = jpeg_with_exif()
    evidence = evidence_create.sync(
        client=client,
        body=models.EvidenceCreateBody(
            file=types.File(
                payload=io.BytesIO(photo), file_name="tyres.jpg", mime_type="image/jpeg"
            ),
            caption="Tyres",
            incident_ids=[made[0].id],
        ),
    )
    assert isinstance(evidence, models.EvidenceOut), evidence
    assert evidence.incident_ids == [made[0].id]
    linked = incidents_get.sync(made[0].id, client=client)
    assert isinstance(linked, models.IncidentOut)
    assert linked.evidence_ids == [evidence.id]

    # Paging: two pages of two and one, following next_cursor.
    seen: list[uuid.UUID] = []
    cursor: Any = types.UNSET
    pages = 0
    while True:
        page = incidents_list.sync(client=client, limit=2, cursor=cursor)
        assert isinstance(page, models.IncidentPage), page
        seen += [item.id for item in page.items]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 2
    assert sorted(seen) == sorted(incident.id for incident in made)

    summary = chronology.sync(client=client)
    assert isinstance(summary, models.ChronologyOut), summary
    counts = {entry.incident_id: entry.evidence_count for entry in summary.timeline}
    assert counts == {made[0].id: 1, made[1].id: 0, made[2].id: 0}

    # An export, polled, and downloaded as bytes that match the job's SHA-256.
    job = exports_create.sync(client=client, body=models.ExportIn(format_=models.ExportFormat.PDF))
    assert isinstance(job, models.ExportOut), job
    deadline = time.monotonic() + 60
    while job.status not in (models.ExportStatus.DONE, models.ExportStatus.FAILED):
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
        job = exports_get.sync(job.id, client=client)
        assert isinstance(job, models.ExportOut), job
    assert job.status == models.ExportStatus.DONE, job
    download = exports_download.sync(job.id, client=client)
    assert isinstance(download, types.File), download
    data = download.payload.read()
    assert data.startswith(b"%PDF-")
    assert hashlib.sha256(data).hexdigest() == job.sha256

    # Typed problems: 404 (another id), 412 (a stale If-Match), 422 (a limit out of range).
    missing = incidents_get.sync_detailed(uuid.uuid4(), client=client)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, models.Problem)
    assert missing.parsed.status == 404
    stale = incidents_update.sync_detailed(
        made[1].id,
        client=client,
        body=models.IncidentPatch(description="Amended"),
        if_match='"0-stale"',
    )
    assert stale.status_code == 412, stale.content
    assert isinstance(stale.parsed, models.Problem)
    fresh = incidents_update.sync(
        made[1].id,
        client=client,
        body=models.IncidentPatch(description="Amended"),
        if_match=made[1].etag,
    )
    assert isinstance(fresh, models.IncidentOut), fresh
    assert fresh.revision == made[1].revision + 1
    invalid = incidents_list.sync_detailed(client=client, limit=0)
    assert invalid.status_code == 422
    assert isinstance(invalid.parsed, models.Problem)
    assert not isinstance(invalid.parsed.errors, types.Unset)
    assert invalid.parsed.errors[0].loc[-1] == "limit"


def test_every_operation_is_generated_and_each_value_set_is_one_enum(
    generated: ModuleType,
) -> None:
    """Nothing dropped (the tus PATCH, the downloads), and one enum class per value set."""
    spec = client_spec()
    root = Path(generated.__file__).parent
    for item in spec["paths"].values():
        for operation in item.values():
            tag, name = operation["tags"][0], operation["operationId"]
            assert (root / "api" / tag / f"{name}.py").exists(), name
    enums = [p.stem for p in (root / "models").glob("*.py") if "(StrEnum)" in p.read_text()]
    for value_set in ("behaviour_code", "channel_code", "precision_code", "scope"):
        assert [e for e in enums if value_set in e] == [value_set]
    patch = (root / "api" / "evidence" / "evidence_upload_patch.py").read_text()
    assert "application/offset+octet-stream" in patch
