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
from app.models.diary import Incident, IncidentRevision, Subject, SubjectRevision
from app.models.integrity import ChainEvent, ChainHead

__all__ = [
    "AccessToken",
    "Account",
    "AccountKey",
    "AuthSession",
    "Base",
    "ChainEvent",
    "ChainHead",
    "Incident",
    "IncidentRevision",
    "RateLimitBucket",
    "RefreshToken",
    "SecurityEvent",
    "Subject",
    "SubjectRevision",
    "TrustedDevice",
]
