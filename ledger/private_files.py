"""Files and folders only their owner may read: key folders (0700), key files and database files
(0600). A copy of the data lets anyone who can read it try what the data allows; the operating
system's permissions are the first lock."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import stat
from pathlib import Path

OWNER_ONLY_FILE = 0o600
OWNER_ONLY_FOLDER = 0o700
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_folder(path: Path, *, tighten: bool = False) -> Path:
    """Create `path` (and its parents) with the last folder owner-only; with `tighten`, also an
    existing folder an older version left open to the group or others (only for folders that are
    ours to lock, like AMANAH_HOME/keys, never a folder a user named for one key file)."""
    path.mkdir(parents=True, exist_ok=True, mode=OWNER_ONLY_FOLDER)
    if tighten:
        _tighten(path, OWNER_ONLY_FOLDER)
    return path


def write_private_file(path: Path, data: bytes, *, replace: bool = False) -> None:
    """Write a new owner-only file (refusing to overwrite one unless `replace`), synced to disk."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
    descriptor = os.open(path, flags, OWNER_ONLY_FILE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    _tighten(path, OWNER_ONLY_FILE)


def private_database_file(path: Path) -> None:
    """Create the SQLite database file owner-only before SQLite opens it (SQLite gives its WAL and
    shared-memory files the database file's mode), and tighten files an older version made."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.stat().st_size == 0:
        _create_in_wal_mode(path)
    for candidate in (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_COMPANIONS)):
        if candidate.exists():
            _tighten(candidate, OWNER_ONLY_FILE)


def _create_in_wal_mode(path: Path) -> None:
    """A fresh database is created and put in WAL mode by one process at a time: switching the
    journal mode needs SQLite's exclusive lock, and processes opening a new file together
    (server workers, separate commands) were refused "database is locked". The lock is a file of
    its own: closing a descriptor of a database file this process has open in SQLite would drop
    every POSIX lock the process holds on it (https://www.sqlite.org/howtocorrupt.html 2.2), so
    only a missing file is created here, and it is opened through SQLite."""
    lock_path = path.with_name(path.name + ".create-lock")
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, OWNER_ONLY_FILE)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY_FILE))
        except FileExistsError:
            pass  # another process created it meanwhile
        if path.stat().st_size == 0:
            connection = sqlite3.connect(path, timeout=30)
            try:
                connection.execute("PRAGMA journal_mode=WAL")
            finally:
                connection.close()
    finally:
        os.close(descriptor)  # releases the flock


def _tighten(path: Path, mode: int) -> None:
    """Remove group and other permissions from a file this user owns (another owner's file is
    left alone: changing it would fail, and it is theirs to set)."""
    status = path.stat()
    if status.st_uid == os.geteuid() and stat.S_IMODE(status.st_mode) & 0o077:
        os.chmod(path, mode)
