"""When a worker's snapshot is taken (ledger/snapshots.py), and the setting that says how often."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

import ledger.domain  # noqa: F401  (registers the workers' snapshot codec)
from ledger import snapshots
from ledger.config import Settings
from ledger.domain import worker_snapshot
from ledger.errors import ConfigurationError


def _worker(version: int):
    """A worker at `version`, as a snapshot would restore it."""
    now = datetime.now(UTC).isoformat()
    state = f'["{now}","{now}","{"a" * 64}",[],[],null]\n[]'.encode()  # no membership, no month paid
    return worker_snapshot.decode(uuid.UUID(int=version), version, state)


def test_a_snapshot_is_due_once_per_interval_of_an_aggregates_events():
    aggregate_id = uuid.uuid4()
    taken = [version for version in range(1, 41) if snapshots.due(aggregate_id, version - 1, version, 4)]
    assert len(taken) == 10 and all(later - earlier == 4 for earlier, later in zip(taken, taken[1:]))


def test_a_submission_adding_several_events_takes_at_most_one_snapshot():
    aggregate_id = uuid.uuid4()
    assert snapshots.due(aggregate_id, 0, 4, 4)  # four events pass one multiple, whatever the shift
    assert not snapshots.due(aggregate_id, 4, 4, 4)  # no new event, no snapshot


def test_a_months_batch_snapshots_a_share_of_its_workers_not_all_at_once():
    workers = [uuid.UUID(int=n) for n in range(1_000)]
    per_month = [sum(snapshots.due(worker, month, month + 1, 4) for worker in workers) for month in range(1, 13)]
    assert per_month == [250] * 12


def test_no_snapshots_when_the_interval_is_zero():
    assert not any(snapshots.due(uuid.uuid4(), version, version + 1, 0) for version in range(20))
    assert snapshots.take([_worker(9)], {uuid.UUID(int=9): 0}, 0) == []


def test_only_workers_read_from_the_database_are_snapshotted():
    worker = _worker(8)
    assert snapshots.take([worker], {}, 4) == []  # held in the cache: it cost no replay
    [row] = snapshots.take([worker], {worker.id: 0}, 4)  # read with all 8 events replayed
    assert (row.originator_id, row.originator_version, row.topic) == (worker.id.bytes, 8, worker_snapshot.CODEC.topic)
    assert snapshots.take([worker], {worker.id: 8}, 4) == []  # read from a snapshot at its version


@pytest.mark.parametrize("value, reason", [("four", "whole number"), ("-1", "0..1,000"), ("1001", "0..1,000")])
def test_the_snapshot_interval_setting_is_checked(value, reason):
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_environment({"AMANAH_SNAPSHOT_EVERY": value})
    assert raised.value.field == "AMANAH_SNAPSHOT_EVERY" and reason in str(raised.value)
    assert Settings.from_environment({"AMANAH_SNAPSHOT_EVERY": "0"}).snapshot_every == 0
