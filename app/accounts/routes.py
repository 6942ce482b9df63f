"""Account routes: register, profile, password, two-factor, security log, erasure."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.accounts import schemas, service
from app.context import CtxDep
from app.db import SessionDep
from app.errors import problem_responses
from app.pagination import Cursor, Limit
from app.security import ratelimit
from app.security.actor import CurrentActor
from app.security.client import ClientFactsDep
from app.security.slots import password_slot

router = APIRouter(tags=["accounts"])


@router.post(
    "/v1/accounts",
    operation_id="accounts_create",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.RegisterOut,
    responses=problem_responses(413, 422, 429),
    dependencies=[password_slot],
)
def register(
    body: schemas.RegisterIn,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> schemas.RegisterOut:
    """Register a victim account under a new handle: the chosen name and a random suffix.

    Always 201 for a valid request, whether or not someone else chose the same name. The full
    handle (`username`) is shown only in this response and is what login needs.
    """
    limits = service.register_limits(ctx, facts)
    # Checked in its own short read: the request's transaction would take SQLite's write lock
    # and hold it across the password hash.
    with ctx.sessionmaker() as reader:
        ratelimit.check(reader, limits, "Too many registrations from this address.")
    registered = service.register(ctx, session, body, facts)
    ratelimit.record_failure(session, limits)  # every registration counts, not only failures
    return schemas.RegisterOut(username=registered.username, detail=service.REGISTER_CREATED)


@router.get(
    "/v1/me", operation_id="me_get", response_model=schemas.MeOut, responses=problem_responses(401)
)
def get_me(actor: CurrentActor, session: SessionDep, ctx: CtxDep) -> schemas.MeOut:
    """Your account: handle, role, jurisdiction and 2FA state."""
    return service.me(ctx, session, actor)


@router.patch(
    "/v1/me",
    operation_id="me_update",
    response_model=schemas.MeOut,
    responses=problem_responses(401, 422),
)
def patch_me(
    body: schemas.MePatch, actor: CurrentActor, session: SessionDep, ctx: CtxDep
) -> schemas.MeOut:
    """Change your recovery e-mail or your jurisdiction (the law the summary applies)."""
    return service.update_me(ctx, session, actor, body)


@router.delete(
    "/v1/me",
    operation_id="me_delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 422, 429),
    dependencies=[password_slot],
)
def erase_me(
    body: schemas.ReauthIn, actor: CurrentActor, session: SessionDep, ctx: CtxDep
) -> Response:
    """Erase the account: its data key is destroyed, so its data can never be read again."""
    service.erase_account(ctx, session, actor, body)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/v1/me/password",
    operation_id="me_password_change",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 422, 429),
    dependencies=[password_slot],
)
def change_password(
    body: schemas.PasswordChangeIn,
    actor: CurrentActor,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> Response:
    """Change the password; every other session is ended."""
    service.change_password(ctx, session, actor, body, facts)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/v1/me/totp",
    operation_id="me_totp_start",
    response_model=schemas.TotpEnrolOut,
    responses=problem_responses(401, 422),
)
def start_totp(actor: CurrentActor, session: SessionDep, ctx: CtxDep) -> schemas.TotpEnrolOut:
    """Begin two-factor enrolment: show the secret as a QR code, then confirm with a code."""
    return service.start_totp(ctx, session, actor)


@router.post(
    "/v1/me/totp/confirm",
    operation_id="me_totp_confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 422, 429),
)
def confirm_totp(
    body: schemas.TotpConfirmIn,
    actor: CurrentActor,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> Response:
    """Turn on 2FA: the first code from your authenticator app confirms it."""
    service.confirm_totp(ctx, session, actor, body.code, facts)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/v1/me/totp/disable",
    operation_id="me_totp_disable",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 422, 429),
    dependencies=[password_slot],
)
def disable_totp(
    body: schemas.ReauthIn,
    actor: CurrentActor,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> Response:
    """Turn off 2FA; your password (and a current code) confirm it is you."""
    service.disable_totp(ctx, session, actor, body, facts)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/v1/me/recovery-codes",
    operation_id="me_recovery_codes_create",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.RecoveryCodesOut,
    responses=problem_responses(401, 422, 429),
    dependencies=[password_slot],
)
def create_recovery_codes(
    body: schemas.ReauthIn,
    actor: CurrentActor,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> schemas.RecoveryCodesOut:
    """New one-time recovery codes (the password, and a TOTP code if 2FA is on); earlier ones
    stop working. A code with the password logs in during a lock-out or without 2FA."""
    codes = service.create_recovery_codes(ctx, session, actor, body, facts)
    return schemas.RecoveryCodesOut(codes=codes, detail=service.RECOVERY_CODES_SHOWN)


@router.get(
    "/v1/me/security-events",
    operation_id="me_security_events_list",
    response_model=schemas.SecurityEventPage,
    responses=problem_responses(401, 422),
)
def list_security_events(
    actor: CurrentActor,
    session: SessionDep,
    ctx: CtxDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> schemas.SecurityEventPage:
    """The account's security log, newest first: logins, failures, new devices, changes."""
    return service.security_events(ctx, session, actor, limit, cursor)
