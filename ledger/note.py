"""C2SP signed notes and tlog checkpoints (https://c2sp.org/signed-note, /tlog-checkpoint)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import signing
from ledger.errors import BadSignature, InvalidInput

SIGNATURE_DASH = "\u2014"  # an em dash starts every signature line
ED25519_TYPE = b"\x01"


def note_key_id(name: str, public_raw: bytes) -> bytes:
    """First 4 bytes of SHA-256(name || 0x0A || 0x01 || public key)."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519_TYPE + public_raw).digest()[:4]


def verifier_key(name: str, public_raw: bytes) -> str:
    """The signed-note verifier key string: name+hex(key id)+base64(0x01 || public key)."""
    encoded = base64.b64encode(ED25519_TYPE + public_raw).decode()
    return f"{name}+{note_key_id(name, public_raw).hex()}+{encoded}"


def parse_verifier_key(text: str) -> tuple[str, bytes]:
    """(name, raw public key) from a verifier key string, checking its key id."""
    try:
        name, hex_id, encoded = text.split("+", 2)  # names hold no "+"; base64 may
        blob = base64.b64decode(encoded, validate=True)
        claimed = bytes.fromhex(hex_id)
    except ValueError as error:
        raise InvalidInput("not a signed-note verifier key", field="verifier_key") from error
    if len(blob) != 33 or blob[:1] != ED25519_TYPE or note_key_id(name, blob[1:]) != claimed:
        raise InvalidInput("verifier key id or type does not match", field="verifier_key")
    return name, blob[1:]


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    """The checkpoint text: origin, decimal size, base64 root hash, each ending in a newline."""
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def sign_note(body: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """A signed note: body, blank line, one signature line."""
    public_raw = signing.public_key_bytes(private_key)
    signature = signing.sign(private_key, body.encode())
    blob = base64.b64encode(note_key_id(name, public_raw) + signature).decode()
    return f"{body}\n{SIGNATURE_DASH} {name} {blob}\n"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    body: str
    signatures: tuple[tuple[str, bytes, bytes], ...]  # (name, key id, signature)


def parse_checkpoint(note: str) -> Checkpoint:
    """Split a checkpoint note into its parts without checking signatures."""
    body, separator, signature_block = note.rpartition("\n\n")
    if not separator or not signature_block.endswith("\n"):
        raise InvalidInput("a signed note is body, blank line, signature lines", field="note")
    body += "\n"
    lines = body.split("\n")[:-1]
    if len(lines) < 3 or not lines[1].isdigit() or (lines[1] != "0" and lines[1].startswith("0")):
        raise InvalidInput("checkpoint body must be origin, size, root hash", field="note")
    try:
        root = base64.b64decode(lines[2], validate=True)
    except ValueError as error:
        raise InvalidInput("root hash is not base64", field="note") from error
    if len(root) != 32:
        raise InvalidInput("root hash must be 32 bytes", field="note")
    signatures = []
    for line in signature_block[:-1].split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != SIGNATURE_DASH:
            raise InvalidInput("malformed signature line", field="note")
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except ValueError as error:
            raise InvalidInput("signature is not base64", field="note") from error
        if len(blob) < 5:
            raise InvalidInput("signature too short", field="note")
        signatures.append((parts[1], blob[:4], blob[4:]))
    return Checkpoint(lines[0], int(lines[1]), root, body, tuple(signatures))


def verify_checkpoint(note: str, name: str, public_raw: bytes) -> Checkpoint:
    """Parse `note` and require a valid signature by (name, key); raise BadSignature if none."""
    checkpoint = parse_checkpoint(note)
    wanted_id = note_key_id(name, public_raw)
    for signer, signer_id, signature in checkpoint.signatures:
        if signer == name and signer_id == wanted_id:
            if signing.is_valid(public_raw, signature, checkpoint.body.encode()):
                return checkpoint
    raise BadSignature(f"no valid signature by {name} on the checkpoint", payload=note.encode())
