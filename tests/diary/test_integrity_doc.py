"""docs/integrity.md is a specification an outsider can follow: its examples are recomputed here,
with our code and with the stand-alone reference verifier printed in the document."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from app.integrity.canonical import (
    GENESIS_HASH,
    LinkFields,
    canonical_json,
    content_commitment,
    link_hash,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "integrity.md"
BLOCK = re.compile(r"^```\w+ (example-[\w-]+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _examples() -> dict[str, str]:
    return {name: body for name, body in BLOCK.findall(DOC.read_text(encoding="utf-8"))}


def _fields(event: dict[str, Any]) -> LinkFields:
    occurred = event["occurred_at"]
    return LinkFields(
        seq=event["seq"],
        prev_hash=event["prev_hash"],
        kind=event["kind"],
        object_id=uuid.UUID(event["object_id"]),
        revision=event["revision"],
        occurred_at=None if occurred is None else datetime.fromisoformat(occurred),
        recorded_at=datetime.fromisoformat(event["recorded_at"]),
        content_sha256=event["content_sha256"],
    )


def test_the_documented_examples_are_what_the_code_computes() -> None:
    examples = _examples()
    previous = GENESIS_HASH
    for n in ("1", "2"):
        salt = bytes.fromhex(examples[f"example-salt-{n}"].strip())
        content = json.loads(examples[f"example-content-{n}"])
        canonical = examples[f"example-canonical-content-{n}"].rstrip("\n").encode("utf-8")
        assert canonical_json(content) == canonical
        commitment = examples[f"example-content-sha256-{n}"].strip()
        assert content_commitment(salt, content) == commitment
        event = json.loads(examples[f"example-event-{n}"])
        assert event["content_sha256"] == commitment
        assert event["prev_hash"] == previous
        fields = _fields(event)
        assert canonical_json(fields.document()) == examples[f"example-canonical-event-{n}"].rstrip(
            "\n"
        ).encode("utf-8")
        previous = examples[f"example-hash-{n}"].strip()
        assert link_hash(fields) == previous


def test_the_documented_reference_verifier_agrees() -> None:
    examples = _examples()
    namespace: dict[str, Any] = {}
    exec(compile(examples["example-verifier"], "integrity.md", "exec"), namespace)  # noqa: S102
    events = []
    for n in ("1", "2"):
        salt = examples[f"example-salt-{n}"].strip()
        content = json.loads(examples[f"example-content-{n}"])
        assert (
            namespace["content_sha256"](salt, content)
            == examples[f"example-content-sha256-{n}"].strip()
        )
        event = json.loads(examples[f"example-event-{n}"])
        event["hash"] = examples[f"example-hash-{n}"].strip()
        assert namespace["link_hash"](event) == event["hash"]
        events.append(event)
    assert namespace["verify"](events) == (True, None)
    tampered = [events[0], {**events[1], "recorded_at": "2024-03-02T08:00:00.000002Z"}]
    assert namespace["verify"](tampered) == (False, 2)
    assert namespace["verify"]([events[1]]) == (False, 1)
