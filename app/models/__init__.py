"""Every ORM model, in one package: the only thing Alembic imports, and no import cycles."""

from app.db import Base
from app.models.accounts import (
    AccessToken,
    Account,
    AccountKey,
    AuthSession,
    RateLimitBucket,
    RecoveryCode,
    RefreshToken,
    SecurityEvent,
    TrustedDevice,
)
from app.models.audit import AuditEvent
from app.models.diary import Incident, IncidentRevision, Subject, SubjectRevision
from app.models.evidence import Evidence, EvidenceUpload
from app.models.exports import ExportJob
from app.models.integrity import ChainEvent, ChainHead
from app.models.risk import RiskAssessment
from app.models.sharing import (
    CaseworkerNote,
    ConsentGrant,
    IncidentDraft,
    Invitation,
    LinkCode,
    Organisation,
    OrganisationMember,
    ShareLink,
    ShareViewerSession,
)

__all__ = [
    "AccessToken",
    "Account",
    "AccountKey",
    "AuditEvent",
    "AuthSession",
    "Base",
    "CaseworkerNote",
    "ChainEvent",
    "ChainHead",
    "ConsentGrant",
    "Evidence",
    "EvidenceUpload",
    "ExportJob",
    "Incident",
    "IncidentDraft",
    "IncidentRevision",
    "Invitation",
    "LinkCode",
    "Organisation",
    "OrganisationMember",
    "RateLimitBucket",
    "RecoveryCode",
    "RefreshToken",
    "RiskAssessment",
    "SecurityEvent",
    "ShareLink",
    "ShareViewerSession",
    "Subject",
    "SubjectRevision",
    "TrustedDevice",
]
