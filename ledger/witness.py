"""Witnesses: cosignatures (c2sp.org/tlog-cosignature, cosignature/v1) and the tlog-witness
`add-checkpoint` rules (c2sp.org/tlog-witness), with no web framework and no database.

A witness remembers the latest checkpoint it cosigned for each log it follows and cosigns a new
one only when a consistency proof shows the new tree extends it. Two histories signed by one log
key therefore cannot both be cosigned by one honest witness: a split view needs the witnesses'
collusion, not only the log operator's key.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import merkle, note, signing
from ledger.errors import BadSignature, Conflict, InvalidInput, NotFound

COSIGNATURE_TYPE = b"\x04"  # the signed-note signature type of an Ed25519 cosignature/v1 key
MAX_PROOF_LINES = 63  # tlog-witness: a client sends at most 63 consistency proof lines
MAX_REQUEST_BYTES = 64 * 1024
MAX_TIMESTAMP = 2**63 - 1


# ---- errors: each maps to the status tlog-witness prescribes ---------------------------------
# Each has the public base that says what went wrong (an unknown log is not found, a stale or
# forked checkpoint contradicts what the witness stored), so the ledger's API would answer them
# 404 and 409; the witness app (api/witness_app.py) answers each with the status tlog-witness
# prescribes (422 for a checkpoint that does not extend the last one).

class UnknownLog(NotFound):
    """The checkpoint's origin is not a log this witness follows (404)."""

    code = "unknown-log"


class UntrustedCheckpoint(BadSignature):
    """No signature on the checkpoint verifies with a key the witness trusts for its origin (403)."""

    code = "untrusted-checkpoint"


class StaleOldSize(Conflict):
    """The old size is not the size the witness last cosigned (409, body: the witness's size)."""

    code = "stale-old-size"

    def __init__(self, detail: str, *, witness_size: int, **kwargs):
        super().__init__(detail, **kwargs)
        self.witness_size = witness_size


class InconsistentCheckpoint(Conflict):
    """The checkpoint does not extend what the witness saw: evidence of a fork was recorded (422,
    or 409 for a different root at the same size, as the spec says)."""

    code = "inconsistent-checkpoint"

    def __init__(self, detail: str, *, seen: Seen, status: int = 422, **kwargs):
        super().__init__(detail, **kwargs)
        self.seen, self.status = seen, status


# ---- cosignature/v1 -------------------------------------------------------------------------

def cosigner_key_id(name: str, public_raw: bytes) -> bytes:
    """SHA-256(name || 0x0A || 0x04 || public key)[:4], the key ID of a cosignature/v1 key."""
    return hashlib.sha256(name.encode() + b"\n" + COSIGNATURE_TYPE + public_raw).digest()[:4]


def cosigner_verifier_key(name: str, public_raw: bytes) -> str:
    """The vkey of a witness: name+hex(key ID)+base64(0x04 || public key)."""
    encoded = base64.b64encode(COSIGNATURE_TYPE + public_raw).decode()
    return f"{name}+{cosigner_key_id(name, public_raw).hex()}+{encoded}"


def parse_cosigner_key(text: str, field: str = "witness") -> tuple[str, bytes]:
    """(name, raw public key) of a witness vkey, checking its type byte and key ID."""
    try:
        name, hex_id, encoded = text.split("+", 2)
        blob = base64.b64decode(encoded, validate=True)
        claimed = bytes.fromhex(hex_id)
    except ValueError:
        raise InvalidInput(f"{text[:80]!r} is not a signed-note verifier key", field=field) from None
    if not name or any(character.isspace() or character == "+" for character in name):
        raise InvalidInput("a key name holds no spaces or '+'", field=field)
    if len(blob) != 33 or blob[:1] != COSIGNATURE_TYPE:
        raise InvalidInput("a witness key has signature type 0x04 (cosignature/v1) and 32 key bytes", field=field)
    if cosigner_key_id(name, blob[1:]) != claimed:
        raise InvalidInput("the key ID does not match the name and key", field=field)
    return name, blob[1:]


def cosigned_message(body: str, timestamp: int) -> bytes:
    """What a witness signs: 'cosignature/v1', 'time <t>', then the checkpoint body."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise InvalidInput("a cosignature time is 0..2^63-1 seconds", field="time")
    return b"cosignature/v1\ntime %d\n" % timestamp + body.encode()


def cosign(body: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> str:
    """One note signature line: '— name base64(key ID || u64 time || Ed25519 signature)'."""
    public_raw = signing.public_key_bytes(private_key)
    signature = signing.sign(private_key, cosigned_message(body, timestamp))
    blob = cosigner_key_id(name, public_raw) + timestamp.to_bytes(8, "big") + signature
    return f"{note.SIGNATURE_DASH} {name} {base64.b64encode(blob).decode()}\n"


@dataclass(frozen=True)
class Cosignature:
    name: str
    verifier_key: str
    timestamp: int
    line: str


def find_cosignature(checkpoint: note.Checkpoint, verifier_key: str) -> Cosignature | None:
    """The valid cosignature by `verifier_key` on the checkpoint, or None (lines from other keys,
    or over another body, are ignored as signed-note requires)."""
    name, public_raw = parse_cosigner_key(verifier_key)
    wanted = cosigner_key_id(name, public_raw)
    for signer, key_id, blob in checkpoint.signatures:
        if signer != name or key_id != wanted or len(blob) != 8 + signing.SIGNATURE_BYTES:
            continue
        timestamp = int.from_bytes(blob[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            continue
        if signing.is_valid(public_raw, blob[8:], cosigned_message(checkpoint.body, timestamp)):
            line = f"{note.SIGNATURE_DASH} {name} {base64.b64encode(key_id + blob).decode()}\n"
            return Cosignature(name, verifier_key, timestamp, line)
    return None


def with_signature_lines(note_text: str, lines: Sequence[str]) -> str:
    """The note with extra signature lines appended (each already ends in a newline); a line the
    note holds already is not repeated."""
    present = set(note_text.splitlines(keepends=True))
    return note_text + "".join(line for line in lines if line not in present)


# ---- add-checkpoint ---------------------------------------------------------------------------

@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: tuple[bytes, ...]
    note_text: str


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """'old N', up to 63 base64 proof lines, an empty line, then a signed checkpoint note."""
    if len(body) > MAX_REQUEST_BYTES:
        raise InvalidInput(f"the request is over {MAX_REQUEST_BYTES} bytes", field="body")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise InvalidInput("the request is not UTF-8", field="body") from None
    head, separator, note_text = text.partition("\n\n")
    lines = head.split("\n")
    if not separator or not lines[0].startswith("old "):
        raise InvalidInput("the request starts with 'old <size>', proof lines and an empty line", field="old")
    size_text = lines[0][4:]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")) or len(size_text) > 19:
        raise InvalidInput("the old size is a decimal with no leading zeroes", field="old")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise InvalidInput(f"at most {MAX_PROOF_LINES} consistency proof lines", field="proof")
    proof = []
    for number, line in enumerate(lines[1:], 1):
        try:
            node = base64.b64decode(line, validate=True)
        except ValueError:
            raise InvalidInput(f"proof line {number} is not base64", field="proof") from None
        if len(node) != 32:
            raise InvalidInput(f"proof line {number} is not a 32-byte hash", field="proof")
        proof.append(node)
    return AddCheckpoint(int(size_text), tuple(proof), note_text)


@dataclass(frozen=True)
class Seen:
    """The latest checkpoint a witness cosigned for one origin."""

    size: int
    root: bytes
    note_text: str


class WitnessState(Protocol):
    """Storage a witness needs: `update` runs `decide(seen)` and stores what it returns, as one
    atomic step, durably, before returning (so a crash never lets the witness cosign backwards)."""

    def update(self, origin: str, decide: Callable[[Seen | None], Seen]) -> Seen: ...
    def record_evidence(self, origin: str, reason: str, seen: Seen, offered: AddCheckpoint) -> None: ...


class Witness:
    """Checks add-checkpoint requests against the state and cosigns the ones that extend it."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey, logs: dict[str, Sequence[str]],
                 state: WitnessState, clock: Callable[[], float]):
        self.name, self.private_key, self.state, self.clock = name, private_key, state, clock
        self.logs = {origin: [note.parse_verifier_key(key) for key in keys] for origin, keys in logs.items()}
        self.verifier_key = cosigner_verifier_key(name, signing.public_key_bytes(private_key))

    def add_checkpoint(self, body: bytes) -> str:
        """Cosign the checkpoint in a tlog-witness request; returns the signature line."""
        request = parse_add_checkpoint(body)
        checkpoint = self._trusted(request.note_text)
        if request.old_size > checkpoint.size:
            raise InvalidInput(f"old size {request.old_size} is beyond the checkpoint's {checkpoint.size}",
                               field="old")
        try:
            self.state.update(checkpoint.origin, lambda seen: self._decide(seen, request, checkpoint))
        except InconsistentCheckpoint as error:
            # Both notes carry the log's signature: together they prove the log forked.
            self.state.record_evidence(checkpoint.origin, error.detail, error.seen, request)
            raise
        return cosign(checkpoint.body, self.name, self.private_key, int(self.clock()))

    def _trusted(self, note_text: str) -> note.Checkpoint:
        checkpoint = note.parse_checkpoint(note_text)
        keys = self.logs.get(checkpoint.origin)
        if keys is None:
            raise UnknownLog(f"this witness does not follow {checkpoint.origin!r}", field="origin")
        for name, public_raw in keys:
            try:
                return note.verify_checkpoint(note_text, name, public_raw)
            except BadSignature:
                continue
        raise UntrustedCheckpoint(f"no signature by a key trusted for {checkpoint.origin!r}", field="note")

    def _decide(self, seen: Seen | None, request: AddCheckpoint, checkpoint: note.Checkpoint) -> Seen:
        """Runs inside the state's atomic update: the new state, or a named refusal."""
        seen_size = seen.size if seen else 0
        if request.old_size != seen_size:
            raise StaleOldSize(f"this witness last cosigned size {seen_size}", witness_size=seen_size)
        if seen is None:
            if request.proof:
                raise InvalidInput("the proof from old size 0 is empty", field="proof")
        elif seen.size == checkpoint.size:
            if seen.root != checkpoint.root:
                raise InconsistentCheckpoint(f"this witness cosigned another root at size {seen.size}: "
                                             "evidence recorded", seen=seen, status=409)
        elif not merkle.verify_consistency(seen.size, checkpoint.size, request.proof, seen.root, checkpoint.root):
            raise InconsistentCheckpoint(f"size {checkpoint.size} is not shown to extend size {seen.size} "
                                         "this witness cosigned: evidence recorded", seen=seen)
        return Seen(checkpoint.size, checkpoint.root, request.note_text)


def add_checkpoint_body(old_size: int, proof: Sequence[bytes], note_text: str) -> bytes:
    """The request a log sends to a witness."""
    lines = [f"old {old_size}"] + [base64.b64encode(node).decode() for node in proof]
    return ("\n".join(lines) + "\n\n" + note_text).encode()
