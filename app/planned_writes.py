"""Writes planned in memory and inserted for a whole batch at once (app.group_commit).

The ORM flush costs more than most of a diary create (a profile put it at about two thirds
of a batch's time), and a batch of creates is the same few INSERTs many times over. So a
write that can be planned (an incident create) is split in two: its plan validates it, seals
its content and computes its chain append without writing anything (`PlannedAppend` in
app.integrity.chain), and returns the rows it would insert; the batch then inserts every
plan's rows with one multi-row statement per table.

A plan that fails with its own error (a 404, a 422) wrote nothing, so it needs no savepoint.
A plan that cannot be decided without writing first (an id used earlier in the same batch,
a repeated create that must be compared with the stored one) raises `NotPlannable`, and the
write runs the ordinary way, after the planned rows, in a savepoint of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from app.crypto.fields import DataKey
from app.integrity.chain import PlannedAppend


class NotPlannable(Exception):
    """This write must run on its own (in a savepoint), not be planned with the batch."""


def require_new_id(
    session: Session,
    model: type[Any],
    account_id: uuid.UUID,
    object_id: uuid.UUID | None,
    appends: PlannedAppend,
) -> None:
    """NotPlannable for a client-chosen id the account already has, or that an earlier write
    of this batch uses: a replay (200) or a conflict (409) runs the savepoint path."""
    if object_id is not None and (
        appends.touches(account_id, object_id)
        or session.get(model, (account_id, object_id)) is not None
    ):
        raise NotPlannable


@dataclass(frozen=True)
class PlannedWrite:
    """The rows one write inserts, in foreign-key order, and what it answers once committed."""

    rows: Sequence[tuple[Table, dict[str, Any]]]
    value: Any


Plan = Callable[[Session, DataKey, PlannedAppend], PlannedWrite]


def insert_planned(session: Session, plans: Sequence[PlannedWrite]) -> None:
    """One INSERT per table for every plan's rows, tables in the order they first appear."""
    by_table: dict[Table, list[dict[str, Any]]] = {}
    for plan in plans:
        for table, row in plan.rows:
            by_table.setdefault(table, []).append(row)
    for table, rows in by_table.items():
        session.execute(insert(table), rows)
