"""A second baseline: the plain FastAPI + SQLAlchemy "create an item for the current user" app.

What a typical CRUD service does per request, written the usual way on the same stack as
Chronicle: a sync route with a session dependency, the bearer token looked up by its SHA-256,
one INSERT, one COMMIT. No encryption, no chain, no batching. The database is CRUD_DATABASE_URL
(SQLite with the same WAL + synchronous=FULL as Chronicle, or PostgreSQL), created on start-up.
POST /seed?count=N makes N users and returns their tokens (for the benchmark only).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel
from sqlalchemy import DateTime, ForeignKey, LargeBinary, String, create_engine, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

URL = os.environ.get("CRUD_DATABASE_URL", "sqlite:///./crud.db")


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Token(Base):
    __tablename__ = "tokens"
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))


class Item(Base):
    __tablename__ = "items"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(10_000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


if URL.startswith("sqlite"):
    engine = create_engine(URL, connect_args={"check_same_thread": False}, pool_size=32)
    event.listen(engine, "connect", _sqlite_pragmas)
else:
    engine = create_engine(URL, pool_pre_ping=True, pool_size=32)
Base.metadata.create_all(engine)
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)
app = FastAPI()


def get_session() -> Iterator[Session]:
    with SessionLocal() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def current_user(session: SessionDep, authorization: Annotated[str, Header()] = "") -> uuid.UUID:
    token = authorization.removeprefix("Bearer ")
    hashed = hashlib.sha256(token.encode()).digest()
    user_id = session.scalar(select(Token.user_id).where(Token.token_hash == hashed))
    if user_id is None:
        raise HTTPException(401)
    return user_id


class ItemIn(BaseModel):
    title: str
    description: str


class ItemOut(ItemIn):
    id: uuid.UUID
    created_at: datetime


@app.post("/items", status_code=201)
def create_item(
    body: ItemIn, session: SessionDep, user_id: Annotated[uuid.UUID, Depends(current_user)]
) -> ItemOut:
    item = Item(
        id=uuid.uuid4(), owner_id=user_id, created_at=datetime.now(UTC), **body.model_dump()
    )
    session.add(item)
    session.commit()
    return ItemOut(id=item.id, created_at=item.created_at, **body.model_dump())


@app.post("/seed")
def seed(count: int, session: SessionDep) -> list[str]:
    tokens = []
    for n in range(count):
        user = User(id=uuid.uuid4(), name=f"user {n}")
        token = secrets.token_urlsafe(32)
        session.add(user)
        session.flush()
        session.add(Token(token_hash=hashlib.sha256(token.encode()).digest(), user_id=user.id))
        tokens.append(token)
    session.commit()
    return tokens
