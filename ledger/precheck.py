"""The checks of one log entry that need no history before it: parsing, canonical form, envelope
and payload fields, the batch audit path and the leaf hash. They run anywhere, in any order, so
the verifier can spread them over worker processes (ledger/parallel.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ledger import merkle, signing
from ledger.canonical import canonical_bytes, canonical_bytes_checked_domain, parse_json_strict
from ledger.entry import LogEntry, entry_from_json, envelope_span
from ledger.errors import BadSignature, InvalidInput, LedgerError
from ledger.event_types import lookup
from ledger.submission import check_envelope, like_checked, shared_fields

import ledger.domain  # noqa: F401  (registers the domain's event types, for payload checks)


@dataclass(slots=True)
class Precheck:
    """What can be checked of one entry without the history before it."""

    leaf_hash: bytes
    failures: list[tuple[str, str]] = field(default_factory=list)
    parsed: bool = False        # a well-formed, canonical log entry: go on
    usable: bool = False        # and its envelope is well formed: check keys and rules
    entry: LogEntry | None = None
    signed: bytes = b""         # what the signature covers: the envelope, or its batch root
    signed_error: str | None = None
    payload_error: str | None = None
    parts: tuple | None = None  # bundle format 2: how to build the entry without parsing the path


def precheck(position: int, leaf: bytes, origin: str | None, paths: BatchPaths | None = None,
             known_root: tuple[bytes, int] | None = None) -> Precheck:
    """The history-free checks of the leaf at `position`; `origin` None takes the entry's own
    (genesis declares it). `paths` checks batch audit paths, faster when it saw the lines before.
    `known_root` is (root, place) when the caller built the leaf's audit path itself, for the leaf
    at that place, from a tree of exactly the stated size with that root (bundle format 2): then
    the path leads there by construction and is not walked; the root must be the signed one."""
    checked = Precheck(merkle.leaf_hash(leaf))
    try:
        value, canonical = _parsed(leaf)
        entry = entry_from_json(value, leaf)
    except LedgerError as error:
        checked.failures.append(("entry", f"not a log entry: {error}"))
        return checked
    if entry.index != position:
        checked.failures.append(("order", f"entry says index {entry.index} but stands at {position} "
                                 "(an entry was inserted, deleted or moved)"))
    try:
        canonical = canonical or canonical_bytes_checked_domain(value) == leaf
    except LedgerError as error:
        checked.failures.append(("canonical", str(error)))
        return checked
    if not canonical:
        checked.failures.append(("canonical", "entry bytes are not RFC 8785 canonical"))
    return _checked_entry(checked, entry, leaf, canonical, origin, paths, known_root)


def precheck_rebuilt(position: int, leaf: bytes, origin: str | None, parts: tuple,
                     known_root: tuple[bytes, int] | None) -> Precheck:
    """`precheck` of a leaf that bundle format 2 rebuilt from a submission record and an envelope
    line (ledger/bundle_v2.py): every byte but the envelope's was written canonically by the
    rebuild, so only the envelope is parsed and checked canonical; anything else takes
    `precheck`, which names what is wrong."""
    start, end, index, recorded_at, signature, batch = parts
    envelope_bytes = leaf[start:end]
    try:
        envelope = json.loads(envelope_bytes)
        canonical = isinstance(envelope, dict) and canonical_bytes_checked_domain(envelope) == envelope_bytes
    except (ValueError, RecursionError, LedgerError):
        canonical = False
    if not canonical or index != position or known_root is None or envelope.get("sequence") != known_root[1]:
        return precheck(position, leaf, origin, None, known_root)
    checked = Precheck(merkle.leaf_hash(leaf), parts=parts)
    return _checked_entry(checked, LogEntry(index, recorded_at, envelope, signature, batch, leaf), leaf, True,
                          origin, None, known_root)


def entry_from_parts(data: bytes, parts: tuple) -> LogEntry:
    """The entry `precheck_rebuilt` checked, built again from its envelope bytes alone: `data`
    is its leaf, or only those bytes when a worker process sent them (ledger/parallel.py). Its
    `batch` holds the root and size, not the path, and its `leaf` is empty: nothing after the
    precheck reads either."""
    start, end, index, recorded_at, signature, batch = parts
    return LogEntry(index, recorded_at, json.loads(data[start:end]), signature, batch, b"")


def _checked_entry(checked: Precheck, entry: LogEntry, leaf: bytes, canonical: bool, origin: str | None,
                   paths: BatchPaths | None, known_root: tuple[bytes, int] | None) -> Precheck:
    global _last_good
    checked.parsed, checked.entry = True, entry
    origin = str(entry.envelope.get("ledger")) if origin is None else origin
    last = _last_good
    if last is None or last[0] != origin or not like_checked(entry.envelope, last[1]):
        try:
            check_envelope(entry.envelope, "envelope", origin)
        except LedgerError as error:
            checked.failures.append(("envelope", str(error)))
            return checked
        _last_good = (origin, shared_fields(entry.envelope))
    checked.usable = True
    if known_root is not None and entry.batch is not None and entry.envelope["sequence"] == known_root[1]:
        _known_root_signed(checked, entry.batch["root"], known_root[0])
    else:
        _precheck_signed(checked, entry, leaf, canonical, paths or BatchPaths())
    try:
        lookup(entry.type, "type").check_payload(entry.payload, "payload")
    except LedgerError as error:
        checked.payload_error = f"{entry.type}: {error}"
    return checked


# The origin and `shared_fields` of the last envelope `check_envelope` passed: a submission's
# lines repeat them, so the next line is checked against them cheaply (`like_checked`).
_last_good: tuple[str, tuple] | None = None


def _parsed(leaf: bytes) -> tuple[object, bool]:
    """The leaf's value as the strict parser reads it, and True when the leaf is canonical.

    A leaf that the C parser's value encodes back to byte for byte holds no duplicate key and
    no NaN or Infinity, so that value is the strict parser's; any other leaf (False) goes
    through the strict parser, which names what is wrong with it."""
    try:
        value = json.loads(leaf)
        if canonical_bytes_checked_domain(value) == leaf:
            return value, True
    except (ValueError, RecursionError, LedgerError):
        pass
    return parse_json_strict(leaf, "log entry"), False


def _precheck_signed(checked: Precheck, entry: LogEntry, leaf: bytes, canonical: bool, paths: BatchPaths) -> None:
    try:
        envelope_bytes = envelope_span(leaf, entry.index) if canonical else canonical_bytes(entry.envelope, check=False)
        checked.signed = envelope_bytes if entry.batch is None else paths.root(entry, envelope_bytes)
    except LedgerError as error:
        checked.signed_error = str(error)


def _known_root_signed(checked: Precheck, stated: object, computed: bytes) -> None:
    try:
        if signing.b64decode(stated, "batch.root", 32) != computed:
            raise BadSignature("the root of the batch tree of its submission's envelopes is not the signed "
                              "batch root (an envelope of the submission was changed, moved or reordered)",
                              field="batch")
        checked.signed = computed
    except LedgerError as error:
        checked.signed_error = str(error)


class BatchPaths:
    """Checks batch audit paths, remembering the last one that led to its signed root: the next
    line of the same batch decodes and hashes only the part of its path not shared with it."""

    def __init__(self) -> None:
        # the last good line's (root text, size, root, path texts, path hashes, walk)
        self.last: tuple[str, int, bytes, list[str], list[bytes], merkle.InclusionWalk] | None = None

    def root(self, entry: LogEntry, envelope_bytes: bytes) -> bytes:
        """The batch root the line's signature covers, once its audit path leads there."""
        batch = entry.batch
        if not isinstance(batch, dict) or set(batch) != {"root", "size", "path"} \
                or not isinstance(batch["size"], int) or not isinstance(batch["path"], list):
            raise InvalidInput("batch proof must have root, size and path", field="batch")
        last = self.last
        same_batch = last is not None and last[0] == batch["root"] and last[1] == batch["size"]
        root = last[2] if same_batch else signing.b64decode(batch["root"], "batch.root", 32)
        texts = batch["path"]
        shared = len(texts)  # from here on the path is the last line's, decoded already
        if same_batch and len(last[3]) == shared:
            shared = next(k for k in range(shared + 1) if texts[k:] == last[3][k:])
        path = [signing.b64decode(node, "batch.path", 32) for node in texts[:shared]]
        if shared < len(texts):
            path += last[4][shared:]
        walk = None
        if batch["size"] >= 2:
            walk = merkle.inclusion_walk(merkle.leaf_hash(envelope_bytes), entry.envelope["sequence"],
                                         batch["size"], path, last[5] if same_batch else None)
        if walk is None or not walk.ends_at(root):
            raise BadSignature("batch audit path does not lead to the signed batch root", field="batch")
        self.last = (batch["root"], batch["size"], root, texts, path, walk)
        return root
