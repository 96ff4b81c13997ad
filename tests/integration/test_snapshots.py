"""Workers' snapshots (ledger/snapshots.py) are a cache on disk: a ledger that takes them and one
that does not make the same decisions and refusals with their caches cleared, a snapshot that is
missing, unreadable or older than the events is rebuilt from them, a submission that is not stored
leaves none behind, only the latest per worker is kept, and none holds personal data."""

from __future__ import annotations

import itertools
import zlib
from pathlib import Path

import pytest

from ledger import log_store, payloads, signing, snapshot_store, wiring
from ledger.client import Signer, public_key_b64
from ledger.config import Settings
from ledger.domain.workers import worker_uuid
from ledger.errors import LedgerError
from ledger.wiring import Organisation
from tests.conftest import World, empty_database
from tests.domain import conftest as domain
from tests.integration.support import raw_database
from tests.niks import nik

MAJU, SINAR = "pt-maju-bersama", "pt-sinar-laut"
MONTHS = ("2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08")


def _world(database_url: str, home: Path, snapshot_every: int) -> World:
    settings = Settings.from_environment({"AMANAH_HOME": str(home), "AMANAH_DATABASE_URL": database_url},
                                         snapshot_every=snapshot_every, aggregate_cache=1)
    checkpoint_key = wiring.prepare_files(settings, plain_checkpoint_key=True)
    registrar = Signer(settings.origin, "registrar", signing.generate())
    company_key = signing.generate()
    ledger, _ = wiring.create_ledger(settings, checkpoint_key, registrar, "Pemerintah Kota Jakarta Utara", [
        Organisation(MAJU, MAJU.upper(), "company", public_key_b64(company_key))],
        created_at="2025-01-01T00:00:00Z", registered_at="2025-01-02T00:00:00Z")
    return World(ledger, settings, checkpoint_key, registrar, Signer(settings.origin, MAJU, company_key))


def _funded(world: World) -> domain.Programme:
    """The domain tests' programme (tests/domain/conftest.py), with Rp1,008,000 disbursed."""
    city = world.register("pemkot-jakarta-utara", "city")
    baznas = world.register("baznas-jakarta-utara", "baznas")
    bpjs = world.register("bpjs-kelapa-gading", "bpjs")
    p = domain.Programme(world, city, baznas, bpjs, {MAJU: world.company, SINAR: world.register(SINAR, "company")})
    p.submit(city, "programme.opened", payloads.programme_opened(domain.PROGRAMME, 2025), "2025-01-02T08:00:00Z")
    p.pledge(MAJU, "pl-1", 100_000_000)
    p.receive(MAJU, "rc-1", 60_000_000, "pl-1")
    p.receive(SINAR, "rc-2", 40_000_000)
    p.disburse("ds-1", [("rc-1", MAJU, 504_000), ("rc-2", SINAR, 504_000)])
    return p


@pytest.fixture
def second_url(database_url: str, tmp_path: Path):
    """Another empty database of the same kind."""
    with empty_database("sqlite" if database_url.startswith("sqlite") else "postgres", tmp_path / "second.db") as url:
        yield url


@pytest.fixture
def references(monkeypatch):
    """Worker references from a counter, so two ledgers given the same commands name the same
    workers; calling the fixture's value starts the counter again."""
    counter = [itertools.count()]
    monkeypatch.setattr(domain, "new_worker_reference", lambda: f"{next(counter[0]):064x}")
    return lambda: counter.__setitem__(0, itertools.count())


def _outcome(p: domain.Programme, command) -> tuple:
    """What a user sees of a command run on a cold cache: where it was stored, or its refusal."""
    p.ledger.cache.clear()
    try:
        result = command()
    except LedgerError as error:
        return type(error).__name__, error.field, str(error)
    return "stored", result["first_index"], result["count"]


def _history(p: domain.Programme) -> list[tuple]:
    """Six months of premiums for three drivers, then the refusals the rules make on that history."""
    outcomes = []
    run = lambda command: outcomes.append(_outcome(p, command))  # noqa: E731
    drivers = [p.enrol(nik(n), enrolled_on="2025-01-10") for n in range(3)]
    for month in MONTHS:
        run(lambda month=month: p.pay(f"b-{month}", "ds-1", month, drivers if month < "2025-07" else drivers[:2]))
    run(lambda: p.pay("b-again", "ds-1", "2025-05", drivers[:1]))  # a second premium for a paid month
    run(lambda: p.pay("b-late", "ds-1", "2025-04", drivers[1:2], paid_on="2025-08-01"))  # four months behind
    run(lambda: p.pay("b-lapsed", "ds-1", "2025-11", drivers[2:], paid_on="2025-11-01"))  # July to October unpaid
    run(lambda: p.submit(p.bpjs, "claim.filed", payloads.claim(
        domain.PROGRAMME, "jkm-1", drivers[0], "jkm", incident_on="2025-08-20", filed_on="2025-08-21")))
    run(lambda: p.pay("b-after-death", "ds-1", "2025-09", drivers[:2], paid_on="2025-09-01"))
    run(lambda: p.pay("b-sep", "ds-1", "2025-09", drivers[1:2], paid_on="2025-09-01"))
    run(lambda: p.enrol(nik(0), enrolled_on="2025-09-05"))  # no new enrolment after death
    return outcomes


def _state(aggregate) -> dict:
    """An aggregate's state but for its clock readings."""
    return {name: value for name, value in vars(aggregate).items() if name not in ("_created_on", "_modified_on")}


def _snapshots(ledger) -> list[tuple]:
    """Every stored snapshot row: (id bytes, version, topic, state)."""
    def query(cursor, dialect):
        cursor.execute(f"SELECT originator_id, originator_version, topic, state FROM {dialect.qualify(snapshot_store.TABLE)} "
                       "ORDER BY originator_id")
        return [(bytes(row["originator_id"]), row["originator_version"], row["topic"], bytes(row["state"]))
                for row in cursor.fetchall()]

    return ledger.recorder.read(query)


def test_a_ledger_with_snapshots_decides_as_one_without(database_url, second_url, tmp_path, references):
    outcomes, workers = [], []
    for url, every, home in ((database_url, 1, tmp_path / "with"), (second_url, 0, tmp_path / "without")):
        p = _funded(_world(url, home, every))
        outcomes.append(_history(p))
        p.ledger.cache.clear()
        workers.append({reference: _state(p.ledger.aggregate(worker_uuid(reference))) for reference in p.workers})
        if every:
            assert len(_snapshots(p.ledger)) == len(p.workers) == 3  # the latest one per worker
        else:
            assert _snapshots(p.ledger) == []
        p.ledger.close()
        references()  # the second ledger's workers get the same references
    assert outcomes[0] == outcomes[1]
    refusals = {(kind, field) for kind, field, _ in outcomes[0] if kind != "stored"}
    assert refusals == {("AlreadyExists", "payload.month"), ("RuleViolation", "payload.month"),
                        ("RuleViolation", "payload.worker")}, outcomes[0]
    assert sum(kind == "RuleViolation" and "death" in text for kind, _, text in outcomes[0]) == 1
    assert workers[0] == workers[1]


@pytest.fixture
def paid(database_url, tmp_path, references):
    """Three drivers with six months paid on a ledger that snapshots every worker event."""
    p = _funded(_world(database_url, tmp_path, 1))
    p.drivers = [p.enrol(nik(n), enrolled_on="2025-01-10") for n in range(3)]
    for month in MONTHS:
        p.ledger.cache.clear()  # each batch reads its drivers from the database, and snapshots them
        p.pay(f"b-{month}", "ds-1", month, p.drivers)
    yield p
    p.ledger.close()


def _loaded_matches_replay(p: domain.Programme) -> None:
    """Every driver loaded on a cold cache equals its replay from all its events, with eventsourcing's
    own repository (only the creation and modification times differ: a snapshot keeps the clock
    readings of the writer's aggregate, as its cache does; no rule reads them)."""
    p.ledger.cache.clear()
    for reference in p.drivers:
        loaded = p.ledger.aggregate(worker_uuid(reference))
        assert _state(loaded) == _state(p.ledger.repository.get(worker_uuid(reference)))
        assert loaded.memberships and loaded.paid


def test_a_snapshot_is_the_replay_of_its_events(paid):
    rows = _snapshots(paid.ledger)
    assert sorted(row[1] for row in rows) == [7, 7, 7]  # enrolled, then six months
    _loaded_matches_replay(paid)


def test_a_missing_unreadable_or_older_snapshot_is_completed_from_the_events(paid, database_url):
    first, second, third = (worker_uuid(reference).bytes for reference in paid.drivers)
    older = next(row for row in _snapshots(paid.ledger) if bytes(row[0]) == third)
    paid.ledger.cache.clear()
    paid.pay("b-2025-09", "ds-1", "2025-09", paid.drivers, paid_on="2025-09-01")
    with raw_database(database_url) as database:
        table = database.table(snapshot_store.TABLE)
        database.execute(f"DELETE FROM {table} WHERE originator_id = ?", (first,))
        database.execute(f"UPDATE {table} SET state = ? WHERE originator_id = ?", (b"not zlib", second))
        database.execute(f"UPDATE {table} SET originator_version = ?, state = ? WHERE originator_id = ?",
                         (older[1], bytes(older[3]), third))
    _loaded_matches_replay(paid)
    assert paid.ledger.aggregate(worker_uuid(paid.drivers[2])).version == 8
    assert _outcome(paid, lambda: paid.pay("b-again", "ds-1", "2025-09", paid.drivers[2:]))[:2] == (
        "AlreadyExists", "payload.month")


def test_a_snapshot_of_an_unknown_format_is_ignored(paid, database_url):
    with raw_database(database_url) as database:
        database.execute(f"UPDATE {database.table(snapshot_store.TABLE)} SET topic = 'worker/older-format'")
    _loaded_matches_replay(paid)


def test_a_submission_that_is_not_stored_leaves_no_snapshot(paid, monkeypatch):
    before = _snapshots(paid.ledger)

    def fail(*_args):
        raise RuntimeError("the database went away while signing the checkpoint")

    monkeypatch.setattr(log_store, "store_checkpoint", fail)  # runs after the snapshots, in the same transaction
    paid.ledger.cache.clear()
    with pytest.raises(RuntimeError):
        paid.pay("b-2025-09", "ds-1", "2025-09", paid.drivers, paid_on="2025-09-01")
    assert _snapshots(paid.ledger) == before
    _loaded_matches_replay(paid)


def test_a_worker_held_in_the_cache_is_not_snapshotted_until_read_from_the_database(paid):
    paid.ledger.cache.limit = 100  # room for the driver between batches
    third = worker_uuid(paid.drivers[2]).bytes
    paid.pay("b-2025-09", "ds-1", "2025-09", paid.drivers[2:], paid_on="2025-09-01")  # read from the database
    before = {row[0]: row[1] for row in _snapshots(paid.ledger)}
    assert before[third] == 8
    for month in ("2025-10", "2025-11"):
        paid.pay(f"b-{month}", "ds-1", month, paid.drivers[2:], paid_on=f"{month}-01")  # held in the cache
    assert {row[0]: row[1] for row in _snapshots(paid.ledger)} == before
    paid.ledger.cache.clear()
    paid.pay("b-2025-12", "ds-1", "2025-12", paid.drivers[2:], paid_on="2025-12-01")
    assert {row[0]: row[1] for row in _snapshots(paid.ledger)} == {**before, third: 11}
    _loaded_matches_replay(paid)


def test_snapshots_hold_no_personal_data(paid):
    states = b"".join(zlib.decompress(bytes(row[3])) for row in _snapshots(paid.ledger))
    assert paid.drivers[0].encode() in states  # the pseudonymous reference, as in the log
    for n in range(3):
        for personal in (nik(n), f"Pekerja {nik(n)[-4:]}", "0812 0000 0000"):
            assert personal.encode() not in states
