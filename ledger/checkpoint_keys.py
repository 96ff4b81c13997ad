"""Rotating the ledger's checkpoint key without losing the old checkpoints.

Genesis declares the first checkpoint key. `ledger.checkpoint_key_rotated`, signed by the
registrar, declares the next one; it also carries a cross-signature by the key in force over the
rotation, so a stolen registrar key alone cannot switch the ledger to a key of the thief's. A
key declared by entry r signs the checkpoints of tree sizes greater than r, until the next
rotation; a verifier who pins the genesis key follows the chain of cross-signed rotations.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import fields, note, signing
from ledger.decision import Decision
from ledger.entry import LogEntry
from ledger.errors import AlreadyExists, BadSignature, ConfigurationError, InvalidInput, RuleViolation
from ledger.event_types import register, typed
from ledger.organisations import CHECKPOINT_KEY_ROTATED, CheckpointKeyRecord, Organisation, organisation_uuid
from ledger.payload_types import payload_type, required

ROTATION_TYPE = CHECKPOINT_KEY_ROTATED
CONTEXT = b"amanah/checkpoint-key-rotation/v1\n"


def verifier_key_of(origin: str, private_key: Ed25519PrivateKey) -> str:
    """The signed-note verifier key string of a checkpoint private key."""
    return note.verifier_key(origin, signing.public_key_bytes(private_key))


def rotation_message(origin: str, old_verifier_key: str, new_verifier_key: str) -> bytes:
    """What the old key cross-signs: a context line, the origin, the old and the new key."""
    return CONTEXT + f"{origin}\n{old_verifier_key}\n{new_verifier_key}\n".encode()


def rotation_payload(origin: str, old_key: Ed25519PrivateKey, new_verifier_key: str) -> dict:
    """The payload of a rotation from `old_key` (the key in force) to `new_verifier_key`."""
    old_verifier_key = verifier_key_of(origin, old_key)
    signature = signing.sign(old_key, rotation_message(origin, old_verifier_key, new_verifier_key))
    return {"checkpoint_key": new_verifier_key, "replaces": old_verifier_key,
            "cross_signature": signing.b64encode(signature)}


def key_in_force(records: Sequence[CheckpointKeyRecord], tree_size: int) -> CheckpointKeyRecord | None:
    """The record whose key signs the checkpoint of `tree_size`: the last declared before it."""
    found = None
    for record in records:
        if record.declared_at < tree_size:
            found = record
    return found


def history_json(records: Sequence[CheckpointKeyRecord]) -> list[dict]:
    """Each checkpoint key with the entry that declared it and the tree sizes it signs."""
    return [{"verifier_key": record.verifier_key, "declared_at": record.declared_at,
             "signs_from_tree_size": record.declared_at + 1,
             "signs_to_tree_size": records[position + 1].declared_at if position + 1 < len(records) else None}
            for position, record in enumerate(records)]


def _verifier_key(value: object, field: str) -> object:
    fields.text(300)(value, field)
    try:
        note.parse_verifier_key(value)
    except InvalidInput as error:
        raise InvalidInput(f"is not a signed-note verifier key: {error.detail}", field=field) from None
    return value


@payload_type
class CheckpointKeyRotated:
    checkpoint_key: str = required(_verifier_key)
    replaces: str = required(_verifier_key)
    cross_signature: str = required(lambda value, field: signing.b64decode(value, field, signing.SIGNATURE_BYTES))


def _rotate(decision: Decision, entry: LogEntry) -> None:
    registrar = decision.get(Organisation, organisation_uuid(entry.actor))
    assert registrar is not None and registrar.checkpoint_keys, "only the genesis registrar emits this"
    rotated: CheckpointKeyRotated = entry.values
    origin = entry.envelope["ledger"]
    current = registrar.checkpoint_keys[-1].verifier_key
    if rotated.replaces != current:
        raise RuleViolation(f"the checkpoint key in force is {current}", field="payload.replaces")
    name, _ = note.parse_verifier_key(rotated.checkpoint_key)
    if name != origin:
        raise InvalidInput(f"the key name must be the log's origin {origin!r}", field="payload.checkpoint_key")
    if rotated.checkpoint_key in {record.verifier_key for record in registrar.checkpoint_keys}:
        raise AlreadyExists("this checkpoint key was in force before; keys are never reused",
                            field="payload.checkpoint_key")
    _, old_public = note.parse_verifier_key(current)
    signature = signing.b64decode(rotated.cross_signature, "payload.cross_signature", signing.SIGNATURE_BYTES)
    if not signing.is_valid(old_public, signature, rotation_message(origin, current, rotated.checkpoint_key)):
        raise BadSignature(f"the cross-signature is not by the checkpoint key in force ({current}) over "
                           "this rotation", field="payload.cross_signature")
    decision.record(registrar, entry)


register(typed(ROTATION_TYPE, frozenset({"registrar"}), CheckpointKeyRotated, _rotate,
               "A new checkpoint key, cross-signed by the one in force; it signs checkpoints of "
               "tree sizes greater than this entry's index."))


class Keyring:
    """The checkpoint private keys one process holds, by verifier key; it reloads the configured
    key file once the log says another process rotated the key."""

    def __init__(self, origin: str, key_path: Path, passphrase: bytes | None):
        self.origin, self.key_path, self.passphrase = origin, key_path, passphrase
        self.keys: dict[str, Ed25519PrivateKey] = {}

    def hold(self, private_key: Ed25519PrivateKey) -> str:
        """Keep `private_key`; returns its verifier key."""
        verifier_key = verifier_key_of(self.origin, private_key)
        self.keys[verifier_key] = private_key
        return verifier_key

    def key_for(self, record: CheckpointKeyRecord) -> Ed25519PrivateKey:
        """The private key of `record`, from memory or from the configured key file."""
        if record.verifier_key not in self.keys:
            loaded = signing.read_private_key(self.key_path, self.passphrase)
            if self.hold(loaded) != record.verifier_key:
                raise ConfigurationError(
                    f"the checkpoint key was rotated at entry {record.declared_at} to "
                    f"{record.verifier_key}; {self.key_path} holds another key: configure the new key "
                    "and restart", field="AMANAH_CHECKPOINT_KEY")
        return self.keys[record.verifier_key]
