"""Personal data through the `amanah` command line, run as real processes on SQLite and
PostgreSQL: `init` refuses to write an unencrypted checkpoint key unless told, and makes the
key-encryption key and the keys folder for the owner only; `forget` says done or pending (and
what holds it) and exits 4 while pending; `personal rotate-kek` rewraps every key."""

from __future__ import annotations

import stat
from pathlib import Path

import psycopg
import pytest

from ledger import personal_keys
from tests.domain.conftest import programme  # noqa: F401  (the fixture)
from tests.integration.support import raw_database
from tests.integration.test_cli import Operator
from tests.niks import nik

CHECKPOINT_PASSPHRASE = "kunci checkpoint"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_refuses_an_unencrypted_checkpoint_key_unless_told(tmp_path, database_url):
    """Given no AMANAH_CHECKPOINT_KEY_PASSPHRASE, when `amanah init` runs without --no-passphrase,
    then it exits 3 with one line saying what to do, and writes no key and no genesis."""
    operator = Operator(tmp_path / "home", database_url)
    keys = operator.home / "keys"
    refused = operator.run("init", AMANAH_KEY_PASSPHRASE="kata sandi")
    assert refused.code == 3 and refused.stderr.count("\n") == 1, refused
    assert "AMANAH_CHECKPOINT_KEY_PASSPHRASE" in refused.stderr and "--no-passphrase" in refused.stderr
    assert not keys.exists() or not any(keys.iterdir())
    created = operator.ok("init", AMANAH_KEY_PASSPHRASE="kata sandi",
                          AMANAH_CHECKPOINT_KEY_PASSPHRASE=CHECKPOINT_PASSPHRASE)
    assert "created ledger" in created.stdout
    assert (keys / "checkpoint.key").read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")


def test_init_with_no_passphrase_writes_owner_only_keys_kek_and_database(tmp_path, database_url):
    """--no-passphrase is the deliberate demo choice: plain keys, but still owner-only files in an
    owner-only folder, a 64-hex-digit key-encryption key beside them, and (on SQLite) a database
    file only its owner reads."""
    operator = Operator(tmp_path / "home", database_url)
    operator.ok("init", "--no-passphrase")
    keys = operator.home / "keys"
    assert mode(keys) == 0o700
    for name in ("checkpoint.key", "registrar.key", "pseudonym.secret", "personal.kek"):
        assert mode(keys / name) == 0o600, name
    assert len(bytes.fromhex((keys / "personal.kek").read_text().strip())) == 32
    views = tmp_path / "views" / "views.db"
    operator.ok("projections", "run", AMANAH_VIEWS_URL=f"sqlite:///{views}")
    files = list(views.parent.glob("views.db*"))
    if database_url.startswith("sqlite"):
        database = Path(database_url.removeprefix("sqlite:///"))
        files += list(database.parent.glob(database.name + "*"))
        assert "ledger.db" in {path.name for path in files}  # -wal and -shm go when the last process closes
    assert "views.db" in {path.name for path in files}
    for path in files:
        assert mode(path) == 0o600, path


@pytest.fixture
def enrolled(programme):  # noqa: F811
    """Two workers enrolled with personal data by an in-process ledger; the CLI opens the same
    home and database, as an operator's shell would."""
    programme.refs = [programme.enrol(nik(number)) for number in range(2)]
    programme.operator = Operator(programme.world.settings.home, programme.world.settings.database_url)
    return programme


def test_forget_by_nik_reports_done_and_a_second_time_nothing_stored(enrolled):
    p = enrolled
    first = p.operator.run("forget", "--nik", nik(0), "--wait", "30")
    assert first.code in (0, 4), first
    assert f"erased the personal data of worker:{p.refs[0]}" in first.stdout
    assert ("done: the database files keep no copy" in first.stdout) == (first.code == 0)
    assert p.ledger.personal_data(f"worker:{p.refs[0]}") is None and p.ledger.worker_reference_for(nik(0)) is None
    again = p.operator.run("forget", "--nik", nik(0))
    assert again.code == 0 and "no worker is indexed under that NIK" in again.stdout
    bad = p.operator.run("forget", "--nik", "0000000000000000")
    assert bad.code == 2 and bad.stderr.count("\n") == 1 and "--nik" in bad.stderr


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # SQLite keeps no dead rows for an older snapshot
def test_forget_behind_an_older_postgresql_snapshot_exits_4_naming_it(enrolled, database_url):
    """Given a session holding a snapshot from before the erasure, `amanah forget` says pending,
    names the session's pid and exits 4; once that session ends, running it again says done."""
    p = enrolled
    base, _, query = database_url.partition("?")
    with psycopg.connect(base) as old:
        old.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        old.execute(f'SELECT count(*) FROM "{query.removeprefix("schema=")}".person_keys').fetchone()
        pid = old.info.backend_pid
        pending = p.operator.run("forget", f"worker:{p.refs[1]}")
        assert pending.code == 4, pending
        assert "pending" in pending.stdout and f"pid {pid}" in pending.stdout
        assert "done" not in pending.stdout
        old.rollback()
    finished = p.operator.run("forget", f"worker:{p.refs[1]}", "--wait", "30")
    assert "nothing stored" in finished.stdout and f"pid {pid}" not in finished.stdout
    assert finished.code in (0, 4) and ("done" in finished.stdout) == (finished.code == 0)


def test_rotate_kek_rewraps_every_key_and_records_still_open(enrolled):
    p = enrolled
    kek_file = p.world.settings.personal_kek_path
    before = kek_file.read_bytes()
    rotated = p.operator.ok("personal", "rotate-kek")
    assert "rewrapped 2 per-person keys" in rotated.stdout
    assert kek_file.read_bytes() != before and mode(kek_file) == 0o600
    assert p.ledger.personal_data(f"worker:{p.refs[0]}")["nik"] == nik(0)  # this process notices


def test_rotate_kek_wraps_and_indexes_what_a_version_before_wrapping_stored(enrolled):
    """Given a database from before key wrapping and the NIK index (keys in plain, no index rows,
    no KEK file), when the operator runs `amanah personal rotate-kek`, then every key is wrapped,
    every worker's NIK is indexed, and `verify --db` passes where it failed before."""
    p = enrolled
    settings = p.world.settings
    kek = p.ledger.personal_keys.matching(None)
    with raw_database(settings.database_url) as database:
        keys = database.table("person_keys")
        for subject, wrapped in database.execute(f"SELECT subject, data_key FROM {keys}").fetchall():
            database.execute(f"UPDATE {keys} SET data_key = ? WHERE subject = ?",
                             (personal_keys.unwrap(kek, bytes(wrapped)), subject))
        database.execute(f"DELETE FROM {database.table('worker_index')}")
        database.execute(f"DELETE FROM {database.table('personal_kek')}")
    settings.personal_kek_path.unlink()
    before = p.operator.run("verify", "--db")
    assert before.code == 1 and "personal" in before.stdout
    migrated = p.operator.ok("personal", "rotate-kek")
    assert "rewrapped 2 per-person keys" in migrated.stdout
    assert p.operator.ok("verify", "--db").code == 0
    assert [p.ledger.worker_reference_for(nik(number)) for number in range(2)] == p.refs
    assert p.ledger.personal_data(f"worker:{p.refs[1]}")["nik"] == nik(1)
