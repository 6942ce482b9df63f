"""Owner-only files and folders: the data folder, the SQLite database, key files, blobs.

Modes are given explicitly at creation (0700 folders, 0600 files) rather than left to the
process umask, which is usually 022 and would make the database and key ring world-readable
to every other user of the machine. A process-wide umask is not used: it would change every
file the process writes, including ones that are none of the service's business.
"""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def _tighten(path: Path, mode: int) -> None:
    # Only what this user owns: a DATA_DIR pointed at a shared folder is not ours to change.
    with suppress(FileNotFoundError):
        info = path.stat()
        if info.st_uid == os.getuid() and info.st_mode & 0o777 != mode:
            os.chmod(path, mode)


def private_dir(path: Path, *, tighten: bool = False) -> None:
    """Create `path` and any missing parents 0700; with `tighten`, an existing `path` of ours
    is made 0700 too (DATA_DIR; not the folder a KEYRING_PATH happens to sit in)."""
    missing: list[Path] = []
    folder = path
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for new in reversed(missing):
        with suppress(FileExistsError):
            os.mkdir(new, DIR_MODE)
        os.chmod(new, DIR_MODE)  # mkdir's mode is masked by the umask; say it exactly
    if tighten:
        _tighten(path, DIR_MODE)


def private_sqlite_file(path: Path) -> None:
    """Create the database file 0600 before SQLite opens it, and tighten its -wal and -shm.

    SQLite gives the -wal and -shm files the database file's permissions, so an owner-only
    database file keeps its journal owner-only too.
    """
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    os.close(fd)
    for name in (path.name, path.name + "-wal", path.name + "-shm", path.name + "-journal"):
        _tighten(path.with_name(name), FILE_MODE)
