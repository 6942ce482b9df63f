"""The canonical form and the pure verifier, exactly as docs/integrity.md specifies them."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from app.integrity.canonical import (
    GENESIS_HASH,
    CanonicalError,
    LinkFields,
    calendar_date,
    canonical_json,
    content_commitment,
    link_hash,
    timestamp,
)
from app.integrity.verify import EventRecord, StoredHead, StoredRevision, verify_chain


def test_keys_are_sorted_by_bytes_and_there_is_no_whitespace() -> None:
    value = {"b": 1, "a": [True, False, None], "_": {"z": "", "Z": -7}}
    assert canonical_json(value) == b'{"_":{"Z":-7,"z":""},"a":[true,false,null],"b":1}'


def test_only_quote_backslash_and_control_characters_are_escaped() -> None:
    text = '"\\/\x00\x08\t\n\x0c\r\x1f\x7f\u2028é😀\u202e'
    expected = '"\\"\\\\/\\u0000\\b\\t\\n\\f\\r\\u001f\x7f\u2028é😀\u202e"'.encode()
    assert canonical_json(text) == expected


@pytest.mark.parametrize(
    "value",
    [1.5, 2**53, -(2**53), {1: "x"}, {"ключ": 1}, "\ud800", b"bytes", {"a": {1.0}}],
)
def test_values_without_a_canonical_form_are_refused(value: object) -> None:
    with pytest.raises(CanonicalError):
        canonical_json(value)


def test_timestamps_dates_and_commitments() -> None:
    paris = timezone(timedelta(hours=1))
    assert timestamp(datetime(2024, 3, 1, 21, 5, tzinfo=paris)) == "2024-03-01T20:05:00.000000Z"
    assert timestamp(datetime(2024, 3, 1, 20, 5, 0, 7, tzinfo=UTC)) == "2024-03-01T20:05:00.000007Z"
    assert calendar_date(date(2024, 1, 2)) == "2024-01-02"
    with pytest.raises(CanonicalError):
        timestamp(datetime(2024, 3, 1))
    with pytest.raises(CanonicalError):
        content_commitment(b"short", {})
    salt = bytes(32)
    assert content_commitment(salt, {"a": 1}) != content_commitment(bytes([1]) * 32, {"a": 1})


def _chain(length: int) -> list[EventRecord]:
    events, prev = [], GENESIS_HASH
    start = datetime(2024, 1, 1, tzinfo=UTC)
    object_id = uuid.uuid4()
    for seq in range(1, length + 1):
        fields = LinkFields(
            seq=seq,
            prev_hash=prev,
            kind="incident.created" if seq == 1 else "incident.amended",
            object_id=object_id,
            revision=seq,
            occurred_at=start,
            recorded_at=start + timedelta(minutes=seq),
            content_sha256=f"{seq:064x}",
        )
        prev = link_hash(fields)
        events.append(EventRecord(hash=prev, **fields.__dict__))
    return events


def test_an_empty_chain_and_a_good_chain_verify() -> None:
    assert verify_chain([]).ok is True
    assert verify_chain([]).head == GENESIS_HASH
    events = _chain(4)
    result = verify_chain(events, head=StoredHead(4, events[-1].hash))
    assert (result.ok, result.length, result.head, result.broken_at) == (
        True,
        4,
        events[-1].hash,
        None,
    )


def test_the_first_broken_link_is_reported() -> None:
    events = _chain(5)
    events[2] = EventRecord(**{**events[2].__dict__, "kind": "incident.withdrawn"})
    assert verify_chain(events).broken_at == 3
    assert verify_chain(_chain(5)[:2] + _chain(5)[3:]).broken_at == 3
    assert verify_chain(_chain(3), head=StoredHead(4, "x")).broken_at == 4


def test_a_stored_revision_must_match_its_commitment() -> None:
    events = _chain(2)
    object_id = events[0].object_id
    good = {
        (object_id, e.revision): StoredRevision(
            chain_seq=e.seq,
            recorded_at=e.recorded_at,
            occurred_at=e.occurred_at,
            commitment=e.content_sha256,
        )
        for e in events
    }
    assert verify_chain(events, revisions=good).ok is True
    bad = dict(good)
    bad[(object_id, 2)] = StoredRevision(
        chain_seq=2,
        recorded_at=events[1].recorded_at,
        occurred_at=events[1].occurred_at,
        commitment="0" * 64,
    )
    result = verify_chain(events, revisions=bad)
    assert (result.broken_at, result.reason) == (2, "the content does not match its commitment")
    erased = dict(good)
    erased[(object_id, 1)] = StoredRevision(
        chain_seq=1, recorded_at=events[0].recorded_at, occurred_at=None, commitment=None
    )
    assert verify_chain(events, revisions=erased).broken_at == 1  # erased but never withdrawn
