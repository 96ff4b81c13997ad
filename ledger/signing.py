"""Ed25519 keys: ids, signatures, and private key files (encrypted, mode 0600)."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.errors import BadSignature, InvalidInput, KeyFileError
from ledger.private_files import private_folder

PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64


def b64encode(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 section 4), as text."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: object, field: str, length: int | None = None) -> bytes:
    """Strict base64 decoding that names the field on failure."""
    if not isinstance(text, str):
        raise InvalidInput("must be a base64 string", field=field)
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as error:
        raise InvalidInput("is not valid base64", field=field) from error
    if length is not None and len(data) != length:
        raise InvalidInput(f"must decode to {length} bytes, not {len(data)}", field=field)
    return data


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The raw 32-byte public key."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_raw: bytes) -> str:
    """An organisation key's id: hex of the first 16 bytes of SHA-256(raw public key)."""
    return hashlib.sha256(public_raw).digest()[:16].hex()


def sign(private_key: Ed25519PrivateKey, message: bytes) -> bytes:
    """Ed25519 signature (deterministic: the same key and message give the same bytes)."""
    return private_key.sign(message)


def verify(public_raw: bytes, signature: bytes, message: bytes) -> None:
    """Raise BadSignature unless `signature` is valid for `message` under `public_raw`."""
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
    except (InvalidSignature, ValueError) as error:
        raise BadSignature("signature does not verify", payload=message) from error


def is_valid(public_raw: bytes, signature: bytes, message: bytes) -> bool:
    """True when the signature verifies."""
    try:
        verify(public_raw, signature, message)
    except BadSignature:
        return False
    return True


def generate() -> Ed25519PrivateKey:
    """A fresh Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def write_private_key(key: Ed25519PrivateKey, path: Path, passphrase: bytes | None) -> None:
    """Write PKCS#8 PEM, encrypted unless `passphrase` is None, created with mode 0600.

    The file must not exist: overwriting a private key by accident loses it for good.
    """
    encryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    private_folder(path.parent)  # a folder it creates is the owner's only (0700)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as error:
        raise KeyFileError(f"{path} exists already; refusing to overwrite a key") from error
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)


def read_private_key(path: Path, passphrase: bytes | None) -> Ed25519PrivateKey:
    """Load an Ed25519 private key file; errors say what is wrong in one line."""
    try:
        pem = Path(path).read_bytes()
    except OSError as error:
        raise KeyFileError(f"cannot read key file {path}: {error.strerror}") from error
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase or None)
    except TypeError as error:  # cryptography's word for a passphrase missing, or one too many
        if passphrase:
            raise KeyFileError(f"{path} is not encrypted, yet a passphrase was given") from error
        raise KeyFileError(f"{path} is encrypted: give its passphrase") from error
    except ValueError as error:
        raise KeyFileError(f"{path}: wrong passphrase or not a PEM private key") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} does not hold an Ed25519 key")
    return key
