"""The key-encryption key (KEK) that wraps every per-person data key (AES key wrap, RFC 3394).

The KEK lives in a 0600 file outside the database (AMANAH_PERSONAL_KEK, by default
AMANAH_HOME/keys/personal.kek, 64 hex digits): a copied database file holds only wrapped keys
and opens no record. The database keeps the KEK's identifier (a hash of it), so that a process
still holding a rotated-away KEK notices and reads the new one instead of wrapping under the old.

Rotation (`amanah personal rotate-kek`): the new KEK is written to `<file>.new`, every key is
rewrapped in one transaction that also records the new identifier, then `<file>.new` replaces
`<file>`. After a crash between the two, whoever reads the KEK finds the database naming the
`.new` file's key and finishes the rename."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from ledger import personal_store
from ledger.errors import ConfigurationError
from ledger.private_files import private_folder, write_private_file

KEK_BYTES = 32
DATA_KEY_BYTES = 32
WRAPPED_BYTES = DATA_KEY_BYTES + 8
SETTING = "AMANAH_PERSONAL_KEK"


def create_kek(path: Path) -> bool:
    """Write a fresh KEK (mode 0600, in an owner-only folder) unless one exists; True if written."""
    if path.exists():
        return False
    private_folder(path.parent)
    write_private_file(path, (secrets.token_hex(KEK_BYTES) + "\n").encode())
    return True


def read_kek(path: Path) -> bytes | None:
    """The KEK in `path`, or None when there is no such file."""
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ConfigurationError(f"cannot read {path}: {error.strerror}", field=SETTING) from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEK_BYTES:
        raise ConfigurationError(f"{path} must hold {KEK_BYTES * 2} hex digits", field=SETTING)
    return key


def kek_id(kek: bytes) -> str:
    """A public identifier of a KEK: it tells keys apart without revealing them."""
    return hashlib.sha256(b"amanah personal kek\n" + kek).hexdigest()[:32]


def wrap(kek: bytes, data_key: bytes) -> bytes:
    """A data key wrapped under the KEK (40 bytes)."""
    return aes_key_wrap(kek, data_key)


def unwrap(kek: bytes, wrapped: bytes) -> bytes:
    """The data key, or ValueError if it was wrapped under another KEK or altered."""
    if len(wrapped) == DATA_KEY_BYTES:
        raise ConfigurationError("this database holds per-person keys stored before they were wrapped: "
                                 "run `amanah personal rotate-kek` once to wrap them", field=SETTING)
    try:
        return aes_key_unwrap(kek, wrapped)
    except (InvalidUnwrap, ValueError) as error:
        raise ValueError("the wrapped key does not open under the key-encryption key") from error


def pending_path(path: Path) -> Path:
    """Where a rotation writes the new KEK before the database is rewrapped."""
    return path.with_name(path.name + ".new")


class KeyEncryptionKey:
    """The KEK of this installation, read from its file when first needed, and again when the
    database says the keys were rewrapped under another (a rotation by another process)."""

    def __init__(self, path: Path):
        self.path = path
        self._key: bytes | None = None

    def matching(self, stored_id: str | None) -> bytes:
        """The KEK whose identifier is `stored_id` (any, when the database has none yet)."""
        if self._key is not None and stored_id in (None, kek_id(self._key)):
            return self._key
        key = read_kek(self.path)
        pending = read_kek(pending_path(self.path))
        if stored_id is not None and pending is not None and kek_id(pending) == stored_id:
            os.replace(pending_path(self.path), self.path)  # a rotation stopped before its rename
            key = pending
        if key is None:
            raise ConfigurationError(f"no key-encryption key at {self.path}: `amanah init` makes one "
                                     f"(or set {SETTING} to its file)", field=SETTING)
        if stored_id is not None and kek_id(key) != stored_id:
            raise ConfigurationError(f"{self.path} is not the key-encryption key this database's personal "
                                     f"keys are wrapped with (identifier {stored_id})", field=SETTING)
        self._key = key
        return key

    def hold(self, key: bytes) -> None:
        """Use `key` from now on (after this process rotated it)."""
        self._key = key


def rotate(write: Callable[[Callable[[Any, Any], int]], int], holder: KeyEncryptionKey,
           stored_id: str | None, on_plain_keys: Callable[[Any, Any, list], None] | None = None) -> int:
    """Rewrap every per-person key under a fresh KEK in one transaction (`write` runs a command
    under the appends' lock); returns how many keys were rewrapped. Keys a version before wrapping
    stored in plain are wrapped for the first time, after `on_plain_keys(cursor, dialect,
    [(subject, key), ...])` has seen them (to index their workers' NIKs)."""
    old = holder.matching(stored_id) if stored_id is not None else read_kek(holder.path)
    new = secrets.token_bytes(KEK_BYTES)
    private_folder(holder.path.parent)
    write_private_file(pending_path(holder.path), (new.hex() + "\n").encode(), replace=True)

    def rewrap(cursor: Any, dialect: Any) -> int:
        if personal_store.read_kek_id(cursor, dialect) != stored_id:
            raise ConfigurationError("another process rotated the key-encryption key meanwhile; run the "
                                     "command again", field=SETTING)
        rows = personal_store.select_person_keys(cursor, dialect)
        plain = [(subject, stored) for subject, stored in rows if len(stored) == DATA_KEY_BYTES]
        if plain and on_plain_keys is not None:
            on_plain_keys(cursor, dialect, plain)
        rewrapped = [(subject, wrap(new, _plain_or_unwrapped(old, wrapped))) for subject, wrapped in rows]
        personal_store.replace_person_keys(cursor, dialect, rewrapped, kek_id(new))
        return len(rewrapped)

    count = write(rewrap)
    os.replace(pending_path(holder.path), holder.path)
    _sync_folder(holder.path.parent)
    holder.hold(new)
    return count


def _plain_or_unwrapped(old: bytes | None, stored: bytes) -> bytes:
    if len(stored) == DATA_KEY_BYTES:
        return stored  # stored before wrapping existed: wrapped now for the first time
    if old is None:
        raise ConfigurationError("the database holds wrapped keys but there is no key-encryption key "
                                 "to open them", field=SETTING)
    return unwrap(old, stored)


def _sync_folder(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
