"""Personal data (UU PDP): kept outside the hashed log, encrypted under a key per person.

The log carries only a worker reference: 64 random hex digits that BPJS chooses at a person's
first enrolment (`new_worker_reference`). Nothing derives it from the NIK, so once the personal
data is erased no secret can tie the reference to a person again. For duplicate detection, and so
that a person keeps one reference across programme years, the ledger keeps a deletable index
beside the log: a keyed hash of the NIK (HMAC-SHA256 under the operator's secret) -> reference.
Names, NIKs and phones travel beside the signed envelopes, are sealed with AES-256-GCM under a
fresh key per subject, and that key is stored wrapped under the key-encryption key kept outside
the database (ledger/personal_keys.py). Erasure destroys the wrapped key, the ciphertext and the
index row: the log, its signatures, proofs and totals are untouched, because none of them ever
held the data."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger import log_store, personal_keys, personal_store
from ledger.errors import ConfigurationError, Conflict, InvalidInput
from ledger.nik import check_nik  # noqa: F401  (personal.check_nik is the public name)
from ledger.private_files import private_folder, write_private_file

NIK = re.compile(r"[0-9]{16}")
PHONE = re.compile(r"\+?[0-9 -]{6,20}")
FIELDS = {"nik", "name", "phone", "relationship"}
SECRET_BYTES = 32
REFERENCE_BYTES = 32


def new_worker_reference() -> str:
    """A fresh worker reference: 64 random hex digits, for a person's first enrolment."""
    return secrets.token_hex(REFERENCE_BYTES)


def nik_digest(secret: bytes, nik: str) -> str:
    """The keyed hash under which the index finds a NIK's worker reference (hex HMAC-SHA256)."""
    return hmac.new(secret, nik.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SealedRecord:
    """A subject's record encrypted under its own data key, that key wrapped under the KEK;
    `indexed` is (NIK digest, reference) for an enrolment, stored in the same transaction."""

    subject: str
    wrapped_key: bytes
    nonce: bytes
    ciphertext: bytes
    kek_id: str
    indexed: tuple[str, str] | None = None


def create_secret(path: Path) -> None:
    """Write a fresh pseudonym secret (mode 0600) unless one exists."""
    if path.exists():
        return
    private_folder(path.parent)
    write_private_file(path, (secrets.token_hex(SECRET_BYTES) + "\n").encode())


def read_secret(path: Path) -> bytes | None:
    """The pseudonym secret, or None when this installation has none."""
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise ConfigurationError(f"{path} must hold {SECRET_BYTES * 2} hex digits",
                                 field="AMANAH_PSEUDONYM_SECRET") from None
    if len(secret) < 16:
        raise ConfigurationError(f"{path} holds too short a secret", field="AMANAH_PSEUDONYM_SECRET")
    return secret


def check_fields(record: object, where: str) -> dict:
    """Only known personal fields, each well formed."""
    if not isinstance(record, dict) or not record:
        raise InvalidInput("must be an object of personal fields", field=where)
    unknown = sorted(set(record) - FIELDS)
    if unknown:
        raise InvalidInput(f"is not a personal field ({', '.join(sorted(FIELDS))})", field=f"{where}.{unknown[0]}")
    for name, value in record.items():
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            raise InvalidInput("must be a non-empty string of at most 200 characters", field=f"{where}.{name}")
    if "nik" in record and not NIK.fullmatch(record["nik"]):
        raise InvalidInput("must be 16 digits", field=f"{where}.nik")
    if "phone" in record and not PHONE.fullmatch(record["phone"]):
        raise InvalidInput("must be a phone number", field=f"{where}.phone")
    return record


def seal(subject: str, record: dict, kek: bytes, indexed: tuple[str, str] | None = None) -> SealedRecord:
    """Encrypt `record` under a fresh 256-bit key bound to the subject (associated data), and
    wrap that key under the KEK."""
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(12)
    plaintext = json.dumps(record, sort_keys=True).encode()
    return SealedRecord(subject, personal_keys.wrap(kek, data_key), nonce,
                        AESGCM(data_key).encrypt(nonce, plaintext, subject.encode()), personal_keys.kek_id(kek), indexed)


def unseal(subject: str, wrapped_key: bytes, nonce: bytes, ciphertext: bytes, kek: bytes) -> dict:
    """Decrypt a sealed record (raises ValueError or InvalidTag if the KEK, key, nonce or subject
    do not match)."""
    data_key = personal_keys.unwrap(kek, wrapped_key)
    return json.loads(AESGCM(data_key).decrypt(nonce, ciphertext, subject.encode()))


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: `erased` if anything was stored for the subject; `holders` names what
    still keeps copies of the deleted rows in the database files (empty: scrubbed, done)."""

    subject: str
    erased: bool
    holders: tuple[str, ...] = ()

    @property
    def done(self) -> bool:
        """True once no copy is left in the tables or the database files."""
        return not self.holders

    def __bool__(self) -> bool:
        return self.erased


def index_plain_keyed_workers(cursor: Any, dialect: Any, secret: bytes | None, plain_keys: list) -> None:
    """Index the NIKs of workers sealed by a version before the index and before key wrapping
    (their keys stored in plain), inside the KEK rotation that wraps those keys. Their references
    were HMAC(secret, NIK) then, so the log itself still links them to the NIK: only workers
    enrolled from this version on get references nothing can re-link."""
    pairs = []
    for subject, data_key in plain_keys:
        stored = personal_store.read_personal(cursor, dialect, subject)
        if not subject.startswith("worker:") or stored is None:
            continue
        if secret is None:
            raise ConfigurationError("the pseudonym secret is needed to index the NIKs of workers enrolled "
                                     "before the NIK index", field="AMANAH_PSEUDONYM_SECRET")
        _, nonce, ciphertext = stored
        record = json.loads(AESGCM(data_key).decrypt(nonce, ciphertext, subject.encode()))
        pairs.append((nik_digest(secret, record["nik"]), subject.removeprefix("worker:")))
    try:
        personal_store.index_workers(cursor, dialect, pairs)
    except log_store.LogPositionConflict as error:  # the append loop's retry signal; here it is a refusal
        raise Conflict(str(error), field="worker_index") from None
