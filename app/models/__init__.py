"""Every ORM model, in one package: the only thing Alembic imports, and no import cycles."""

from app.db import Base
from app.models.accounts import (
    AccessToken,
    Account,
    AccountKey,
    AuthSession,
    RateLimitBucket,
    RefreshToken,
    SecurityEvent,
    TrustedDevice,
)

__all__ = [
    "AccessToken",
    "Account",
    "AccountKey",
    "AuthSession",
    "Base",
    "RateLimitBucket",
    "RefreshToken",
    "SecurityEvent",
    "TrustedDevice",
]
