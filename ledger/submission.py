"""Parsing and checking a signed submission: one envelope signed on its own, or a batch whose
RFC 6962 Merkle root is signed once. Nothing here touches storage."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from operator import itemgetter

from ledger import merkle, signing
from ledger.canonical import canonical_bytes_checked_domain
from ledger.event_types import lookup
from ledger.errors import InvalidInput

SIGNER_FIELDS = ("actor", "key_id", "idempotency_key")
ENVELOPE_FIELDS = ("actor", "idempotency_key", "key_id", "ledger", "occurred_at", "payload",
                   "sequence", "type")
MAX_BATCH_ENVELOPES = 20_000
ACTOR_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
KEY_ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
TYPE_PATTERN = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
SEQUENCE_KEY_PATTERN = re.compile(r"0|[1-9][0-9]{0,4}")  # one spelling per sequence: no "00", no "²"
TIMESTAMP_PATTERN = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")


@dataclass(frozen=True)
class Submission:
    envelopes: list[dict]
    envelope_bytes: list[bytes]
    signature: bytes
    actor: str
    key_id: str
    idempotency_key: str
    batch_paths: list[list[str]] | None  # base64 audit paths; None for a single envelope, and until check_contents
    batch_root: bytes | None  # None for a single envelope
    personal: dict[int, dict]  # sequence -> personal fields, beside (never inside) the envelopes
    leaf_hashes: list[bytes] = field(default_factory=list, repr=False)  # of the envelopes, for a batch

    @property
    def signed_message(self) -> bytes:
        """What the actor's key signed: the envelope's bytes, or the batch's Merkle root."""
        return self.batch_root if self.batch_root is not None else self.envelope_bytes[0]

    def batch_proof(self, position: int) -> dict | None:
        """What entry `position` keeps to be verified on its own."""
        if self.batch_root is None:
            return None
        assert self.batch_paths is not None, "audit paths are computed by check_contents"
        return {"root": self._batch_root_b64, "size": len(self.envelopes), "path": self.batch_paths[position]}

    @cached_property
    def _batch_root_b64(self) -> str:
        return signing.b64encode(self.batch_root)


PublicKeyOf = Callable[[str, str, str], "bytes | None"]


def parse_submission(document: object, origin: str) -> Submission:
    """Check the shape and every payload of a submission and compute what its signature covers."""
    return check_contents(read_submission(document, origin), document)


def read_submission(document: object, origin: str, public_key_of: PublicKeyOf | None = None) -> Submission:
    """The checks that come before the signature, and the signature itself: the submission's
    shape, the first envelope's header, every envelope naming the same signer, and what the
    signature covers. Payloads, the other envelopes' field formats and the personal side-car are
    checked by `check_contents`, once the signer is known to have signed them.

    With `public_key_of(actor, key_id, first_type)`, the signer is looked up as soon as the first
    envelope's header is read (an unknown actor or key is refused before any per-line work) and
    the signature is verified before any line is checked, so a forged 20,000-line batch costs its
    encoding and no more. `public_key_of` returns None when the key is in the payload (genesis on
    an empty log): the caller verifies that one.
    """
    if not isinstance(document, dict):
        raise InvalidInput("a submission is a JSON object", field="$")
    unknown = set(document) - {"envelopes", "signature", "personal"}
    if unknown:
        raise InvalidInput(f"unknown fields {sorted(unknown)}", field=sorted(unknown)[0])
    envelopes = document.get("envelopes")
    if not isinstance(envelopes, list) or not envelopes:
        raise InvalidInput("must be a non-empty list", field="envelopes")
    if len(envelopes) > MAX_BATCH_ENVELOPES:
        raise InvalidInput(f"at most {MAX_BATCH_ENVELOPES} envelopes per submission",
                           field="envelopes")
    signature = signing.b64decode(document.get("signature"), "signature", signing.SIGNATURE_BYTES)
    first = envelopes[0]
    check_envelope(first, "envelopes[0]", origin)
    public_key = public_key_of(first["actor"], first["key_id"], first["type"]) if public_key_of else None
    for position, envelope in enumerate(envelopes):
        _check_same_signer(envelope, position, first, origin)
    encoded = _encode(envelopes, origin)
    leaf_hashes = [merkle.leaf_hash(data) for data in encoded] if len(encoded) > 1 else []
    root = merkle.root_of(leaf_hashes) if leaf_hashes else None
    submission = Submission(envelopes, encoded, signature, first["actor"], first["key_id"],
                            first["idempotency_key"], None, root, {}, leaf_hashes)
    if public_key is not None:
        signing.verify(public_key, signature, submission.signed_message)
    return submission


def _check_same_signer(envelope: object, position: int, first: dict, origin: str) -> None:
    """Cheap: an object in its place naming the first envelope's signer and idempotency key.
    Only when it does not is the envelope checked field by field, to say what is wrong."""
    if isinstance(envelope, dict) and envelope.get("sequence") == position and all(
            envelope.get(name) == first[name] for name in SIGNER_FIELDS):
        return
    check_envelope(envelope, f"envelopes[{position}]", origin)
    if envelope["sequence"] != position:
        raise InvalidInput(f"must be {position}", field=f"envelopes[{position}].sequence")
    name = next(name for name in SIGNER_FIELDS if envelope[name] != first[name])
    raise InvalidInput("must be the same in every envelope of a submission", field=f"envelopes[{position}].{name}")


def check_contents(submission: Submission, document: dict) -> Submission:
    """Every envelope's fields and payload, the batch's audit paths, and the personal side-car."""
    first = submission.envelopes[0]
    origin = first["ledger"]
    types_seen = {first["type"]}
    for position, envelope in enumerate(submission.envelopes[1:], 1):
        if not _like_first(envelope, first, types_seen):
            check_envelope(envelope, f"envelopes[{position}]", origin)
    _check_payloads(submission.envelopes)
    paths = None
    if submission.batch_root is not None:
        paths = _base64_paths(merkle.audit_paths(submission.leaf_hashes))
    return replace(submission, batch_paths=paths,
                   personal=_personal(document.get("personal", {}), len(submission.envelopes)))


def _like_first(envelope: dict, first: dict, types_seen: set[str]) -> bool:
    """True when `check_envelope` would find nothing wrong with this envelope, judged cheaply
    against the first (checked in full): `_check_same_signer` already found it an object naming
    the first's signer and idempotency key, at its own sequence; the same fields, origin and
    time, a type already seen, and an object payload. Anything else is checked field by field."""
    if envelope.keys() != first.keys() or envelope["ledger"] != first["ledger"]:
        return False
    if type(envelope["sequence"]) is not int:  # True and 1.0 equal 1 in _check_same_signer
        return False
    if envelope["occurred_at"] != first["occurred_at"] or not isinstance(envelope["payload"], dict):
        return False
    kind = envelope["type"]
    if kind not in types_seen:
        if not (isinstance(kind, str) and TYPE_PATTERN.fullmatch(kind)):
            return False
        types_seen.add(kind)
    return True


def _base64_paths(paths: list[list[bytes]]) -> list[list[str]]:
    """Audit paths in base64, each node encoded once (the upper nodes are in thousands of paths)."""
    encoded: dict[bytes, str] = {}
    return [[encoded.get(node) or encoded.setdefault(node, signing.b64encode(node)) for node in path]
            for path in paths]


def _check_payloads(envelopes: list[dict]) -> None:
    for position, envelope in enumerate(envelopes):
        where = f"envelopes[{position}]"
        lookup(envelope["type"], f"{where}.type").check_payload(envelope["payload"], f"{where}.payload")


def _encode(envelopes: list[dict], origin: str) -> list[bytes]:
    """Each envelope's canonical bytes. A value the encoding cannot carry is reported by the
    field checks when they name it better (a float where a whole number of rupiah belongs)."""
    try:
        return [canonical_bytes_checked_domain(envelope, f"envelopes[{position}]")
                for position, envelope in enumerate(envelopes)]
    except InvalidInput:
        for position, envelope in enumerate(envelopes):
            check_envelope(envelope, f"envelopes[{position}]", origin)
        _check_payloads(envelopes)
        raise


def _personal(value: object, count: int) -> dict[int, dict]:
    """The side-car of personal fields, keyed by envelope sequence (as a decimal string)."""
    from ledger.personal import check_fields

    if not isinstance(value, dict):
        raise InvalidInput("must be an object keyed by envelope sequence", field="personal")
    result = {}
    for key, record in value.items():
        if not (isinstance(key, str) and SEQUENCE_KEY_PATTERN.fullmatch(key) and int(key) < count):
            raise InvalidInput(f"keys are envelope sequences 0..{count - 1}", field=f"personal.{key}")
        result[int(key)] = check_fields(record, f"personal.{key}")
    return result


def check_envelope(envelope: object, where: str, origin: str) -> None:
    """Field-by-field checks of one envelope; the payload is checked by its event type."""
    if not isinstance(envelope, dict):
        raise InvalidInput("an envelope is a JSON object", field=where)
    missing = [name for name in ENVELOPE_FIELDS if name not in envelope]
    if missing:
        raise InvalidInput("is required", field=f"{where}.{missing[0]}")
    unknown = sorted(set(envelope) - set(ENVELOPE_FIELDS))
    if unknown:
        raise InvalidInput("is not an envelope field", field=f"{where}.{unknown[0]}")
    if envelope["ledger"] != origin or not isinstance(envelope["ledger"], str):  # the exact string
        raise InvalidInput(f"must be this ledger's origin {origin!r}", field=f"{where}.ledger")
    _match(envelope["actor"], ACTOR_PATTERN, f"{where}.actor", "must be an organisation id")
    _match(envelope["key_id"], KEY_ID_PATTERN, f"{where}.key_id", "must be 32 hex digits")
    _match(envelope["idempotency_key"], IDEMPOTENCY_KEY_PATTERN, f"{where}.idempotency_key",
           "must be 1-128 of A-Z a-z 0-9 . _ : -")
    _match(envelope["type"], TYPE_PATTERN, f"{where}.type", "must look like 'pledge.made'")
    check_timestamp(envelope["occurred_at"], f"{where}.occurred_at")
    sequence = envelope["sequence"]
    if not isinstance(sequence, int) or isinstance(sequence, bool) or not 0 <= sequence < MAX_BATCH_ENVELOPES:
        raise InvalidInput(f"must be a whole number 0..{MAX_BATCH_ENVELOPES - 1}", field=f"{where}.sequence")
    if not isinstance(envelope["payload"], dict):
        raise InvalidInput("must be a JSON object", field=f"{where}.payload")


SHARED_ENVELOPE_FIELDS = ("ledger", "actor", "key_id", "idempotency_key", "occurred_at", "type")
shared_fields = itemgetter(*SHARED_ENVELOPE_FIELDS)  # of an envelope `check_envelope` passed
_ENVELOPE_NAMES = frozenset(ENVELOPE_FIELDS)


def like_checked(envelope: object, shared: tuple) -> bool:
    """True when `check_envelope` would find nothing wrong with `envelope`, judged cheaply
    against the `shared_fields` of an envelope it passed with the same origin (a line of the
    same submission): the same fields, signer, origin, time and type, a whole sequence in range,
    an object payload. False says only that the full check must decide."""
    if type(envelope) is not dict or envelope.keys() != _ENVELOPE_NAMES or shared_fields(envelope) != shared:
        return False
    sequence = envelope["sequence"]
    return type(sequence) is int and 0 <= sequence < MAX_BATCH_ENVELOPES and type(envelope["payload"]) is dict


def check_timestamp(value: object, field: str) -> datetime:
    """RFC 3339 UTC with whole seconds, e.g. 2025-03-31T09:00:00Z."""
    _match(value, TIMESTAMP_PATTERN, field, "must be UTC like 2025-03-31T09:00:00Z")
    try:
        return datetime.fromisoformat(value)
    except ValueError as error:
        raise InvalidInput("is not a real date and time", field=field) from error


def _match(value: object, pattern: re.Pattern, field: str, message: str) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidInput(message, field=field)
