"""The behaviour taxonomy: stable codes, the law's letters, DOMAIN.md's severity ordering."""

from __future__ import annotations

import json
import re

import pytest

from app.chronology.codes import (
    BEHAVIOUR_CODES,
    BEHAVIOURS,
    CHANNEL_CODES,
    GROUP_CODES,
    IMPACT_CODES,
    ORDER_KINDS,
    PRECISIONS,
    RELATIONSHIP_CODES,
    TAXONOMY_VERSION,
    behaviour,
    order_kind,
    taxonomy_document,
)


def test_every_s2a3_example_has_exactly_one_behaviour() -> None:
    letters = {b.s2a3: b.code for b in BEHAVIOURS if b.s2a3 is not None}
    assert letters == {
        "a": "following",
        "b": "contacting",
        "c": "publishing_material",
        "d": "monitoring_communications",
        "e": "loitering",
        "f": "interfering_with_property",
        "g": "watching_or_spying",
    }
    assert all(b.group == "stalking_behaviour" for b in BEHAVIOURS if b.s2a3 is not None)


def test_severity_follows_the_domain_ordering() -> None:
    by_severity: dict[int, set[str]] = {}
    for b in BEHAVIOURS:
        by_severity.setdefault(b.severity, set()).add(b.code)
    assert by_severity == {
        1: {
            "contacting",
            "unwanted_gifts",
            "publishing_material",
            "monitoring_communications",
            "online_abuse",
            "other",
        },
        2: {"loitering", "watching_or_spying", "following", "third_party_contact"},
        3: {
            "interfering_with_property",
            "damage_to_property",
            "turning_up_at_home",
            "turning_up_at_work",
            "entering_premises",
            "breach_of_order",
        },
        4: {"threat_of_violence", "threat_to_kill", "sexual_behaviour"},
        5: {"violence", "weapon", "strangulation"},
    }


def test_codes_are_unique_snake_case_and_groups_are_known() -> None:
    assert len(BEHAVIOUR_CODES) == len(BEHAVIOURS)
    for codes in (BEHAVIOUR_CODES, CHANNEL_CODES, IMPACT_CODES, RELATIONSHIP_CODES, ORDER_KINDS):
        assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", c) for c in codes)
    assert {b.group for b in BEHAVIOURS} == GROUP_CODES
    assert {"exact", "approximate", "day", "month"} == PRECISIONS


def test_lookup_raises_key_error_for_an_unknown_code() -> None:
    assert behaviour("threat_to_kill").label == "Threat to kill"
    with pytest.raises(KeyError):
        behaviour("hacking")


def test_a_police_information_notice_is_a_warning_not_an_order() -> None:
    assert not order_kind("police_information_notice").is_order
    assert order_kind("stalking_protection_order").is_order


def test_the_document_is_json_and_lists_everything_with_labels() -> None:
    document = json.loads(json.dumps(taxonomy_document()))

    assert document["version"] == TAXONOMY_VERSION == "2026-12-2"
    assert [b["code"] for b in document["behaviours"]] == [b.code for b in BEHAVIOURS]
    assert {c["code"] for c in document["channels"]} == CHANNEL_CODES
    assert {c["code"] for c in document["impacts"]} == IMPACT_CODES
    assert {c["code"] for c in document["victim_actions"]} == {"asked_to_stop", "blocked"}
    assert {c["code"] for c in document["relationships"]} == RELATIONSHIP_CODES
    assert {c["code"] for c in document["order_kinds"]} == ORDER_KINDS
    assert {c["code"] for c in document["precisions"]} == PRECISIONS
    assert all(entry["label"] for key in document if key != "version" for entry in document[key])
