"""The log entry: the object whose RFC 8785 bytes are a Merkle leaf and a stored event's state.

    {"batch": {...}?, "envelope": {...}, "index": n, "recorded_at": "...Z", "signature": "b64"}

`batch` appears only for submissions of more than one envelope; see docs/verifying.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any

from ledger.canonical import join_members, parse_json_strict
from ledger.errors import InvalidInput
from ledger.event_types import payload_values

ENTRY_FIELDS = frozenset({"envelope", "index", "recorded_at", "signature"})


@dataclass(frozen=True)
class LogEntry:
    index: int
    recorded_at: str
    envelope: dict
    signature: str
    batch: dict | None
    leaf: bytes

    @property
    def type(self) -> str:
        return self.envelope["type"]

    @property
    def actor(self) -> str:
        return self.envelope["actor"]

    @property
    def key_id(self) -> str:
        return self.envelope["key_id"]

    @property
    def payload(self) -> dict:
        return self.envelope["payload"]

    @cached_property
    def values(self) -> Any:
        """The payload as its event type's typed, immutable value, decoded once and kept."""
        return payload_values(self.envelope["type"], self.envelope["payload"])

    @property
    def recorded_datetime(self) -> datetime:
        return datetime.fromisoformat(self.recorded_at)

    def as_json(self) -> dict:
        """The entry object as plain JSON values."""
        return json.loads(self.leaf)


def build_entry(
    index: int,
    recorded_at: str,
    envelope: dict,
    envelope_bytes: bytes,
    signature: str,
    batch: dict | None,
) -> LogEntry:
    """Assemble an entry from already-canonical envelope bytes (no second canonicalisation)."""
    members = [
        ("envelope", envelope_bytes),
        ("index", str(index).encode()),
        ("recorded_at", _json_string(recorded_at)),
        ("signature", _json_string(signature)),
    ]
    if batch is not None:
        members.append(("batch", _batch_bytes(batch)))
    return LogEntry(index, recorded_at, envelope, signature, batch, join_members(members))


@lru_cache(maxsize=16)
def _json_string(text: str) -> bytes:
    """A JSON string's bytes; every entry of a submission has the same time and signature."""
    return json.dumps(text).encode()


def envelope_span(leaf: bytes, index: int) -> bytes | None:
    """The envelope's own bytes inside a canonical leaf, without encoding it again.

    In canonical form the envelope member is followed by `,"index":N,"recorded_at":` at the top
    level, and that sequence is the last of its kind (later members hold no such text). Only
    valid for a leaf already checked to be canonical."""
    start = leaf.find(b'"envelope":')
    end = leaf.rfind(b',"index":' + str(index).encode() + b',"recorded_at":')
    if start < 0 or end < start:
        return None
    return leaf[start + len(b'"envelope":'):end]


def _batch_bytes(batch: dict) -> bytes:
    """JCS of {"path": [base64...], "root": base64, "size": n}: base64 text needs no escaping,
    so the bytes are built directly (equal to canonical_bytes(batch), which a test checks)."""
    path = ",".join(f'"{node}"' for node in batch["path"])
    return f'{{"path":[{path}],"root":"{batch["root"]}","size":{int(batch["size"])}}}'.encode()


LINE_PREFIX = b'{"line":{'  # a batched line's compact stored state (ledger/batch_store.py)


class StoredLine(LogEntry):
    """A batched line read back from its compact stored state: the envelope, index and time the
    rules replay. Its signature, batch and leaf are stored once per submission, not in it: read
    them with the log's entries (`Ledger.entries`), which rebuilds the exact leaf."""

    def __init__(self, index: int, recorded_at: str, envelope: dict) -> None:
        self.__dict__.update(index=index, recorded_at=recorded_at, envelope=envelope)

    def __getattr__(self, name: str) -> object:
        if name in ("signature", "batch", "leaf"):
            raise AttributeError(f"entry {self.index} was read from its compact stored state, which holds no "
                                 f"{name}: read the entry with Ledger.entries")
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"StoredLine(index={self.index}, type={self.envelope.get('type')!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is StoredLine and (self.index, self.recorded_at, self.envelope) == (
            other.index, other.recorded_at, other.envelope)

    __hash__ = None  # type: ignore[assignment]  # like LogEntry, whose envelope is a dict


def parse_entry(state: bytes) -> LogEntry:
    """Read a stored leaf, or a batched line's compact stored state, back into a LogEntry;
    raises InvalidInput when it is neither."""
    if state.startswith(LINE_PREFIX):
        value = parse_json_strict(state, "stored line")["line"]
        return StoredLine(value["index"], value["recorded_at"], value["envelope"])
    return entry_from_json(parse_json_strict(state, "log entry"), state)


def parse_stored_entry(state: bytes) -> LogEntry:
    """Read back a leaf or compact line this ledger stored itself, checked strictly when it was
    written; the verifier, not this, is what re-checks stored leaves."""
    if state.startswith(LINE_PREFIX):
        value = json.loads(state)["line"]
        return StoredLine(value["index"], value["recorded_at"], value["envelope"])
    return entry_from_json(json.loads(state), state)


def entry_from_json(value: object, leaf: bytes) -> LogEntry:
    """A LogEntry from the parsed leaf."""
    if not isinstance(value, dict):
        raise InvalidInput("log entry must be a JSON object")
    names = set(value)
    if not ENTRY_FIELDS <= names or not names <= ENTRY_FIELDS | {"batch"}:
        raise InvalidInput(f"log entry fields are {sorted(names)}", field="entry")
    envelope = value["envelope"]
    if not isinstance(envelope, dict) or not isinstance(value["index"], int):
        raise InvalidInput("log entry envelope or index has the wrong type", field="entry")
    return LogEntry(value["index"], value["recorded_at"], envelope, value["signature"],
                    value.get("batch"), bytes(leaf))
