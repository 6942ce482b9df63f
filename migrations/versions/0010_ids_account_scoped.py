"""client-chosen ids are unique per account: keys become (account_id, id)

Incidents, subjects, evidence, exports and consent grants take their id from the client, so a
global key let one account learn that another used an id (a 409 instead of a 201). Their key
is now (account_id, id); revisions gain an account_id and point at their incident or subject
by both columns, as drafts and caseworker notes point at incidents and grants. A grant keeps a
caseworker-facing `client_id`, unique across the service (its id, for every existing grant).

Existing rows are kept: every current id is already unique, so the wider keys hold at once.
The downgrade restores the global keys, and fails if two accounts have come to share an id.

Revision ID: 0010_ids
Revises: 0009_auth2
Create Date: 2026-12-07 15:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_ids"
down_revision: str | None = "0009_auth2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every reference to a key that changes: (table, foreign key, column, parent, ON DELETE before).
# Revisions and drafts still go with their incident. A grant's notes and drafts outlive it, but
# SET NULL on a composite key would null account_id too, so those become plain references and
# app.accounts.service.erase_account unlinks them before a caseworker's grants go.
# On SQLite every table here is rebuilt (batch mode); a rebuild drops the old table, which would
# cascade into children still pointing at it, so the references are dropped first. That
# includes drafts' reference to caseworker notes, which do not change key but are rebuilt.
_REFERENCES = (
    (
        "incident_revisions",
        "fk_incident_revisions_incident_id_incidents",
        "incident_id",
        "incidents",
        "CASCADE",
    ),
    (
        "subject_revisions",
        "fk_subject_revisions_subject_id_subjects",
        "subject_id",
        "subjects",
        "CASCADE",
    ),
    (
        "incident_drafts",
        "fk_incident_drafts_incident_id_incidents",
        "incident_id",
        "incidents",
        "CASCADE",
    ),
    (
        "incident_drafts",
        "fk_incident_drafts_grant_id_consent_grants",
        "grant_id",
        "consent_grants",
        "SET NULL",
    ),
    (
        "caseworker_notes",
        "fk_caseworker_notes_grant_id_consent_grants",
        "grant_id",
        "consent_grants",
        "SET NULL",
    ),
)
_NOTE = ("incident_drafts", "fk_incident_drafts_note_id_caseworker_notes", "caseworker_notes")
_KEYED = ("incidents", "subjects", "evidence", "exports", "consent_grants")
_REVISIONS = (
    ("incident_revisions", "incident_id", "incidents"),
    ("subject_revisions", "subject_id", "subjects"),
)


def _drop_references() -> None:
    for table, name, *_rest in (_NOTE, *_REFERENCES):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(name, type_="foreignkey")


def _restore_note_reference() -> None:
    table, name, parent = _NOTE
    with op.batch_alter_table(table) as batch_op:
        batch_op.create_foreign_key(name, parent, ["note_id"], ["id"], ondelete="CASCADE")


def upgrade() -> None:
    _drop_references()
    for table, column, parent in _REVISIONS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("account_id", sa.Uuid(), nullable=True))
        child = sa.table(table, sa.column("account_id"), sa.column(column))
        owner = sa.table(parent, sa.column("account_id"), sa.column("id"))
        of_owner = sa.select(owner.c.account_id).where(owner.c.id == child.c[column])
        op.execute(child.update().values(account_id=of_owner.scalar_subquery()))
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("account_id", existing_type=sa.Uuid(), nullable=False)
            batch_op.drop_constraint(f"uq_{table}_revision", type_="unique")
            batch_op.create_unique_constraint(
                f"uq_{table}_revision", ["account_id", column, "revision"]
            )
    with op.batch_alter_table("consent_grants") as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.Uuid(), nullable=True))
    op.execute("UPDATE consent_grants SET client_id = id")
    with op.batch_alter_table("consent_grants") as batch_op:
        batch_op.alter_column("client_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.create_unique_constraint("uq_consent_grants_client_id", ["client_id"])
    for table in _KEYED:
        _set_primary_key(table, ["account_id", "id"])
    _set_primary_key("incident_drafts", ["account_id", "incident_id"])
    for table, name, column, parent, before in _REFERENCES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_foreign_key(
                name,
                parent,
                ["account_id", column],
                ["account_id", "id"],
                ondelete="CASCADE" if before == "CASCADE" else None,
            )
    _restore_note_reference()


def _set_primary_key(table: str, columns: list[str]) -> None:
    with op.batch_alter_table(table) as batch_op:
        batch_op.drop_constraint(f"pk_{table}", type_="primary")
        batch_op.create_primary_key(f"pk_{table}", columns)


def downgrade() -> None:
    _drop_references()
    for table in _KEYED:
        _set_primary_key(table, ["id"])
    _set_primary_key("incident_drafts", ["incident_id"])
    with op.batch_alter_table("consent_grants") as batch_op:
        batch_op.drop_constraint("uq_consent_grants_client_id", type_="unique")
        batch_op.drop_column("client_id")
    for table, column, _parent in _REVISIONS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_revision", type_="unique")
            batch_op.create_unique_constraint(f"uq_{table}_revision", [column, "revision"])
            batch_op.drop_column("account_id")
    for table, name, column, parent, before in _REFERENCES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_foreign_key(name, parent, [column], ["id"], ondelete=before)
    _restore_note_reference()
