"""Alembic environment: the same migrations run on SQLite and PostgreSQL.

The database URL comes from the app's settings (DATABASE_URL, or the SQLite file under
DATA_DIR), unless a caller passes a connection in `config.attributes["connection"]`.
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import Connection

from app.db import UTCDateTime, make_engine
from app.models import Base
from app.settings import get_settings

config = context.config
if config.config_file_name is not None and not config.attributes.get("connection"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    # Our own column types are rendered with their import, so revisions run stand-alone.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("import app.db")
        return "app.db.UTCDateTime()"
    return False


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
