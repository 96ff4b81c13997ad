"""Snapshots: an aggregate's state at a version, kept on disk so that loading it does not replay
its whole history.

A snapshot is a cache, never a record. It is not part of the hashed log, the bundle or the
verifier; it is written in the transaction that stores the events it follows, only the latest one
per aggregate is kept, it is trusted up to its own version only (the events after it are replayed
on top), and one that is missing, unreadable or of an older format is ignored: the aggregate is
rebuilt from its events. eventsourcing's own snapshots (`snapshotting_intervals`) are taken after
the save, in a table that keeps every snapshot and as the aggregate's `__dict__` through the
transcoder; this ledger stores leaf bytes as events (ledger/mapper.py) and bypasses
`Application.save`, so its snapshots have their own compact codecs, registered per aggregate class.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple
from uuid import UUID

logger = logging.getLogger(__name__)


class SnapshotRow(NamedTuple):
    """A snapshot as stored: the aggregate id's 16 bytes, its version, the codec's topic, the state."""

    originator_id: bytes
    originator_version: int
    topic: str
    state: bytes


@dataclass(frozen=True)
class SnapshotCodec:
    """How one aggregate class becomes bytes and back. `topic` names the class and the format of
    its state: a stored snapshot whose topic no codec has (an older format) is ignored."""

    aggregate_class: type
    topic: str
    encode: Callable[[Any], bytes]
    decode: Callable[[UUID, int, bytes], Any]


_BY_CLASS: dict[type, SnapshotCodec] = {}
_BY_TOPIC: dict[str, SnapshotCodec] = {}


def register(codec: SnapshotCodec) -> SnapshotCodec:
    """Take snapshots of `codec.aggregate_class` with this codec."""
    assert codec.aggregate_class not in _BY_CLASS and codec.topic not in _BY_TOPIC, codec.topic
    _BY_CLASS[codec.aggregate_class] = codec
    _BY_TOPIC[codec.topic] = codec
    return codec


def kept_for(aggregate: Any) -> bool:
    """Whether `aggregate`'s class has snapshots (loading it replays only the events after one)."""
    return type(aggregate) in _BY_CLASS


def due(aggregate_id: UUID, snapshot_version: int, version: int, every: int) -> bool:
    """Whether an aggregate read from its snapshot at `snapshot_version` (0: none) and now at
    `version` passed a multiple of `every` since. The multiples are shifted by the aggregate's id,
    so the workers of a month's batch come due one in `every` at a time, not all in one month."""
    if every <= 0 or version <= snapshot_version:
        return False
    offset = aggregate_id.int % every
    return (snapshot_version + offset) // every < (version + offset) // every


def take(aggregates: Iterable[Any], from_store: dict[UUID, int], every: int) -> list[SnapshotRow]:
    """The snapshots due after a submission. Only aggregates it read from the database are
    considered (`from_store`: their snapshot's version, 0 for none): one the process held in its
    cache cost no replay, and needs no snapshot until it is read from the database again, when
    the events since its snapshot are counted. A process that holds all its workers writes none."""
    if every <= 0:
        return []
    rows = []
    for aggregate in aggregates:
        snapshot_version = from_store.get(aggregate.id)
        if snapshot_version is None:
            continue
        codec = _BY_CLASS.get(type(aggregate))
        if codec is not None and due(aggregate.id, snapshot_version, aggregate.version, every):
            state = zlib.compress(codec.encode(aggregate))
            rows.append(SnapshotRow(aggregate.id.bytes, aggregate.version, codec.topic, state))
    return rows


def restore(row: SnapshotRow) -> Any | None:
    """The aggregate a stored snapshot holds, or None when it cannot be used (an unknown topic or
    unreadable bytes): the caller then replays all the aggregate's events."""
    codec = _BY_TOPIC.get(row.topic)
    if codec is None:
        return None
    aggregate_id = UUID(bytes=bytes(row.originator_id))
    try:
        return codec.decode(aggregate_id, row.originator_version, zlib.decompress(bytes(row.state)))
    except (ValueError, TypeError, KeyError, IndexError, zlib.error) as error:
        logger.warning("ignoring the unreadable snapshot of %s at version %s (%s); replaying its events",
                       aggregate_id, row.originator_version, error)
        return None
