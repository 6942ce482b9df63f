"""A subject revision as API fields, stored row + sealed part, and canonical document.

The canonical document has every field, always:

    addresses        list of strings, in the order given
    description      string or null
    name             string
    online_accounts  list of strings, in the order given
    orders           list, in the order given, of {"conditions": string or null,
                     "ends_on": date or null, "kind": code, "reference": string or null,
                     "starts_on": date}
    relationship     code (the only plain column)
    vehicles         list of strings, in the order given
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from app.diary.subjects.schemas import SubjectFields, SubjectOrder
from app.integrity.canonical import calendar_date

TABLE = "subject_revisions"


def _order_document(order: SubjectOrder) -> dict[str, Any]:
    return {
        "conditions": order.conditions,
        "ends_on": None if order.ends_on is None else calendar_date(order.ends_on),
        "kind": order.kind,
        "reference": order.reference,
        "starts_on": calendar_date(order.starts_on),
    }


def sealed_content(fields: SubjectFields) -> dict[str, Any]:
    return {
        "addresses": list(fields.addresses),
        "description": fields.description,
        "name": fields.name,
        "online_accounts": list(fields.online_accounts),
        "orders": [_order_document(order) for order in fields.orders],
        "vehicles": list(fields.vehicles),
    }


def document(relationship: str | None, sealed: Mapping[str, Any]) -> dict[str, Any]:
    if relationship is None:
        raise ValueError("relationship is missing")
    return {**sealed, "relationship": relationship}


def fields_document(fields: SubjectFields) -> dict[str, Any]:
    return document(fields.relationship, sealed_content(fields))


def read_fields(relationship: str | None, sealed: Mapping[str, Any]) -> dict[str, Any]:
    """The API field values of a stored revision, without re-validating them."""
    orders = [
        SubjectOrder.model_construct(
            kind=order["kind"],
            starts_on=date.fromisoformat(order["starts_on"]),
            ends_on=None if order["ends_on"] is None else date.fromisoformat(order["ends_on"]),
            conditions=order["conditions"],
            reference=order["reference"],
        )
        for order in sealed["orders"]
    ]
    return {
        "name": sealed["name"],
        "relationship": relationship,
        "description": sealed["description"],
        "addresses": sealed["addresses"],
        "vehicles": sealed["vehicles"],
        "online_accounts": sealed["online_accounts"],
        "orders": orders,
    }
