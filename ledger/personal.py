"""Personal data (UU PDP): kept outside the hashed log, encrypted under a key per person.

The log carries only a pseudonymous worker reference, HMAC-SHA256(secret, NIK), where the secret
is held by the operator and BPJS, never logged. Names, NIKs and phones travel beside the signed
envelopes, are sealed with AES-256-GCM under a fresh key per subject, and stored in two tables
that are *not* append-only. Erasure destroys the key and the ciphertext: the log, its
signatures, proofs and totals are untouched, because none of them ever held the data."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.errors import ConfigurationError, InvalidInput

NIK = re.compile(r"[0-9]{16}")
PHONE = re.compile(r"\+?[0-9 -]{6,20}")
FIELDS = {"nik", "name", "phone", "relationship"}
SECRET_BYTES = 32


def worker_reference(secret: bytes, nik: str) -> str:
    """The pseudonymous reference of a worker: hex HMAC-SHA256 of the NIK under the secret."""
    return hmac.new(secret, nik.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SealedRecord:
    subject: str
    data_key: bytes
    nonce: bytes
    ciphertext: bytes


def create_secret(path: Path) -> None:
    """Write a fresh pseudonym secret (mode 0600) unless one exists."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(SECRET_BYTES) + "\n")


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


def seal(subject: str, record: dict) -> SealedRecord:
    """Encrypt `record` under a fresh 256-bit key; the subject is bound as associated data."""
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(12)
    plaintext = json.dumps(record, sort_keys=True).encode()
    return SealedRecord(subject, data_key, nonce, AESGCM(data_key).encrypt(nonce, plaintext, subject.encode()))


def unseal(subject: str, data_key: bytes, nonce: bytes, ciphertext: bytes) -> dict:
    """Decrypt a sealed record (raises if the key, nonce or subject do not match)."""
    return json.loads(AESGCM(data_key).decrypt(nonce, ciphertext, subject.encode()))
