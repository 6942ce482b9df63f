"""Database engine and the one session dependency.

We use synchronous SQLAlchemy with plain `def` routes, which FastAPI runs in its thread pool:
SQLite has no true async driver, sync code needs no eager-loading discipline, and the benchmarks
showed no gain from async. The few streaming routes (uploads, downloads) are `async def` and hand
database work to the thread pool themselves.

The session dependency owns the transaction: it commits after the route function returns and
before the response is sent (scope="function"), so every 2xx is durable; services only flush.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, Dialect, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from app.context import ctx_of
from app.errors import AppError
from app.private_files import private_sqlite_file

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Take over transaction control from pysqlite so BEGIN IMMEDIATE is possible (see
    # _WriterGate.begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Withdrawn or erased content is overwritten on disk, not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class _WriterGate:
    """One SQLite writer at a time within a process, handed over without polling.

    SQLite lets one transaction write; others wait in its busy handler, which sleeps and
    retries (up to 100 ms at a time), so under load the lock sits idle between writers. A
    plain lock taken at BEGIN IMMEDIATE and released when the connection goes back to the
    pool wakes the next writer at once. Other processes still meet SQLite's own lock.
    """

    def __init__(self, timeout: float) -> None:
        self._lock = threading.Lock()
        self._timeout = timeout

    def begin(self, conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        record = conn.connection._connection_record
        if mode == "IMMEDIATE" and not record.info.get("writer"):
            if not self._lock.acquire(timeout=self._timeout):
                raise OperationalError("BEGIN IMMEDIATE", {}, Exception("writer gate timeout"))
            record.info["writer"] = True
        conn.exec_driver_sql(f"BEGIN {mode}")

    def release(self, _dbapi_connection: Any, record: Any) -> None:
        if record.info.pop("writer", False):
            self._lock.release()


# At most this many requests hold a database session at once. The cap is taken before a
# request enters the thread pool (FastAPI's max_concurrency waits on the event loop), and the
# pool is larger than the cap, so a worker thread never blocks waiting for a connection while
# the requests holding connections wait for a thread: the classic sync-dependency deadlock.
MAX_DB_SESSIONS = 32
_POOL = {"pool_size": MAX_DB_SESSIONS, "max_overflow": 8, "pool_timeout": 10}


# A database that went away (host down, network cut) fails a request in seconds with a 503
# rather than holding it for the kernel's TCP timeouts (minutes): libpq gives up connecting
# after connect_timeout, and an established connection whose sent data goes unacknowledged for
# tcp_user_timeout ms is dropped; keepalives notice a silent peer on idle pool connections.
_PG_CONNECT = {
    "connect_timeout": 5,
    "tcp_user_timeout": 15_000,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            private_sqlite_file(Path(database))
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 10}, **_POOL
        )
        gate = _WriterGate(timeout=10)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", gate.begin)
        event.listen(engine, "checkin", gate.release)
        event.listen(engine, "invalidate", gate.release)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args=_PG_CONNECT, **_POOL)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def write_session(factory: sessionmaker[Session]) -> Session:
    """A session whose transaction takes SQLite's write lock at BEGIN (no-op elsewhere)."""
    engine = factory.kw["bind"]
    return factory(bind=engine.execution_options(sqlite_begin="IMMEDIATE"))


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _writes(request: Request) -> bool:
    return request.method not in _SAFE_METHODS or bool(request.scope.get("chronicle.writes"))


def records_reads(request: Request) -> None:
    """For routes that write while reading (an audit row for every view by someone else).

    They get a write transaction from the start: a read transaction that later writes can
    fail at once on SQLite when another writer committed in between.
    """
    request.scope["chronicle.writes"] = True


# Route (or router) dependency: `dependencies=[RecordsReads]`; runs before the session opens.
RecordsReads: Any = Depends(records_reads)


async def _writer_turn(request: Request) -> AsyncIterator[None]:
    """On SQLite, a writing request waits for its turn here, on the event loop.

    Waiting here holds no worker thread, so queued writers cannot starve the thread pool
    that the current writer needs for its next step. Routes that hash a password opt out
    (they would hold every writer up for the length of a hash); they meet the in-thread gate.
    """
    lock = ctx_of(request).writer_turn
    # Reads that record an audit row skip the turn too: a viewer's PDF download commits its
    # audit row early and then renders for seconds, and must not hold every writer up.
    if lock is None or request.method in _SAFE_METHODS or request.scope.get("hashes_password"):
        yield
        return
    async with lock:
        yield


def get_session(
    request: Request, _turn: Annotated[None, Depends(_writer_turn, scope="function")]
) -> Iterator[Session]:
    factory = ctx_of(request).sessionmaker
    session = write_session(factory) if _writes(request) else factory()
    try:
        yield session
        session.commit()
    except AppError as exc:
        if exc.keep_changes:
            session.commit()
        else:
            session.rollback()
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[
    Session, Depends(get_session, scope="function", max_concurrency=MAX_DB_SESSIONS)
]


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored as UTC and always come back timezone-aware (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def rowcount(result: Any) -> int:
    """Rows matched by an UPDATE/DELETE (used for compare-and-set claims)."""
    return int(result.rowcount)


# Tag columns: a set of codes or ids stored in one text column as `|a|b|`, so that "has this
# one" is a plain `LIKE '%|code|%'` on both backends, with no join table. Incidents (codes,
# subjects, evidence), evidence (incidents) and share links (subjects) store sets this way.
def to_tags(values: Iterable[object]) -> str:
    """`|a|b|` for a sorted set of codes or ids; the empty string for none."""
    items = [str(value) for value in values]
    return f"|{'|'.join(items)}|" if items else ""


def from_tags(tags: str | None) -> list[str]:
    """The values of a tag column, in stored order; none for NULL or the empty string."""
    return tags.strip("|").split("|") if tags else []
