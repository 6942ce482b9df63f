"""Management commands: `python -m app.cli keys rotate|resume|status|retire`, `create-admin`,
`openapi` (the document `make openapi` commits), and `cleanup` (expired uploads, expired exports
and unreferenced blobs; run it from cron, e.g. hourly).

Each command reads the same settings as the server (DATABASE_URL, DATA_DIR, KEYRING_PATH).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from app.accounts import schemas
from app.accounts.service import register
from app.context import AppContext
from app.crypto.keyring import KeyRing, save_keyring
from app.crypto.signing import rotate_signing_keys, signing_keys_path
from app.evidence.cleanup import run_cleanup
from app.exports.bundle import verify
from app.exports.jobs.cleanup import run_export_cleanup
from app.main import build_context, create_app
from app.openapi import render
from app.security import rotation
from app.security.client import ClientFacts
from app.settings import Settings, get_settings

CLI_FACTS = ClientFacts(address="cli", user_agent="chronicle-cli")


@contextmanager
def _ctx() -> Iterator[AppContext]:
    ctx = build_context(get_settings())
    try:
        yield ctx
    finally:
        ctx.engine.dispose()


def keys_rotate(args: argparse.Namespace) -> int:
    with _ctx() as ctx:
        settings = ctx.settings
        if settings.keyring_json is not None:
            print("KEYRING_JSON is set: rotate in your secret store, then run `keys resume`.")
            return 2
        ring = ctx.keyring.with_new_master_key()
        # The new key is saved before anything is wrapped with it: a crash cannot strand data.
        save_keyring(ring, settings.effective_keyring_path)
        print(f"new master key {ring.current_id} is now current")
        return _rewrap(ctx, ring, args)


def keys_resume(args: argparse.Namespace) -> int:
    with _ctx() as ctx:
        return _rewrap(ctx, ctx.keyring, args)


def _rewrap(ctx: AppContext, ring: KeyRing, args: argparse.Namespace) -> int:
    progress = rotation.rewrap_all(
        ctx.sessionmaker, ring, batch_size=args.batch_size, max_batches=args.max_batches
    )
    print(f"re-wrapped {progress.rewrapped} account keys; {progress.remaining} remaining")
    return 0 if progress.remaining == 0 else 3


def keys_status(_args: argparse.Namespace) -> int:
    with _ctx() as ctx:
        print(f"current master key: {ctx.keyring.current_id}")
        print(f"master keys in ring: {', '.join(sorted(ctx.keyring.master_keys))}")
        remaining = rotation.pending(ctx.sessionmaker, ctx.keyring)
        print(f"account keys not yet on the current key: {remaining}")
        unused = rotation.unused_key_ids(ctx.sessionmaker, ctx.keyring)
        print(f"retirable (unused) master keys: {', '.join(unused) or 'none'}")
        return 0


def keys_retire(args: argparse.Namespace) -> int:
    with _ctx() as ctx:
        if args.key_id not in rotation.unused_key_ids(ctx.sessionmaker, ctx.keyring):
            print(f"{args.key_id} is current, unknown, or still wraps account keys; not retired.")
            return 2
        save_keyring(ctx.keyring.without_key(args.key_id), ctx.settings.effective_keyring_path)
        print(f"retired {args.key_id}")
        return 0


def keys_rotate_signing(_args: argparse.Namespace) -> int:
    keys = rotate_signing_keys(signing_keys_path(get_settings()))
    print(f"export signing key {keys.current_id} is now current; older keys stay published")
    return 0


def new_admin(ctx: AppContext, username: str, password: str) -> tuple[uuid.UUID, str]:
    """A service admin account: (its id, its handle). Admins are made here, never by the API."""
    body = schemas.RegisterIn(username=username, password=password)
    with ctx.sessionmaker.begin() as session:
        registered = register(ctx, session, body, CLI_FACTS, role="admin")
    return registered.account_id, registered.username


def create_admin(args: argparse.Namespace) -> int:
    with _ctx() as ctx:
        password = args.password or getpass.getpass("Password for the admin account: ")
        account_id, handle = new_admin(ctx, args.username, password)
        # The handle is shown only here: the admin logs in with it, suffix included.
        print(f"created admin {account_id}; log in as {handle}")
        return 0


def cleanup(_args: argparse.Namespace) -> int:
    with _ctx() as ctx:
        report = run_cleanup(ctx)
        print(
            f"removed {report.expired_uploads} expired uploads, "
            f"{report.finished_uploads} finished upload records, "
            f"{report.deleted_blobs} blobs of deleted evidence, {report.orphans} orphaned blobs"
        )
        exports = run_export_cleanup(ctx)
        print(
            f"removed {exports.expired} expired exports, failed {exports.abandoned} abandoned "
            f"export jobs, removed {exports.orphans} orphaned export results"
        )
        return 0


def openapi(_args: argparse.Namespace) -> int:
    """Print the OpenAPI document of an app built on a throwaway data folder."""
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(data_dir=Path(tmp), environment="test"))
        print(render(app), end="")
        app.state.ctx.engine.dispose()
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m app.cli", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    keys = commands.add_parser("keys", help="master key ring management").add_subparsers(
        dest="keys_command", required=True
    )
    for name, func, helptext in (
        ("rotate", keys_rotate, "add a master key and re-wrap every account key under it"),
        ("resume", keys_resume, "finish an interrupted rotation"),
    ):
        cmd = keys.add_parser(name, help=helptext)
        cmd.add_argument("--batch-size", type=int, default=500)
        cmd.add_argument("--max-batches", type=int, default=None)
        cmd.set_defaults(func=func)
    keys.add_parser("status", help="which keys are in use").set_defaults(func=keys_status)
    retire = keys.add_parser("retire", help="remove a master key nothing uses any more")
    retire.add_argument("key_id")
    retire.set_defaults(func=keys_retire)
    keys.add_parser(
        "rotate-signing", help="new current export signing key; the old one stays published"
    ).set_defaults(func=keys_rotate_signing)
    verify.configure_parser(commands.add_parser("verify", help="verify an export bundle offline"))
    commands.add_parser(
        "cleanup", help="remove expired uploads and exports, and the blobs nothing refers to"
    ).set_defaults(func=cleanup)
    commands.add_parser(
        "openapi", help="print the OpenAPI document (make openapi commits it)"
    ).set_defaults(func=openapi)
    admin = commands.add_parser("create-admin", help="create a service administrator")
    admin.add_argument("--username", required=True)
    admin.add_argument("--password", help="prompted for when omitted")
    admin.set_defaults(func=create_admin)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
