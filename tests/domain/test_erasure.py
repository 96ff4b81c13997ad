"""UU PDP: a worker's or heir's NIK, name and phone never enter the signed log, and an erasure
request destroys them without changing one byte of the log, its proofs or its totals."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger import payloads, personal_keys, personal_store
from ledger.application import Ledger
from ledger.bundle import export_bundle, verify_bundle, verify_database
from ledger.config import Settings
from ledger.errors import ConfigurationError, InvalidInput, RuleViolation
from ledger.personal import new_worker_reference, nik_digest
from tests.domain.conftest import PROGRAMME, assert_refused, attempt
from tests.integration.support import raw_database

MAJU = "pt-maju-bersama"
NEXT_YEAR = "sertakan-jakut-2026"
NIK, NAME, PHONE = "3172014405870003", "Siti Nurhaliza Rahmawati", "0812 7788 9900"
OTHER_NIK, OTHER_NAME = "3172026108900004", "Budi Santoso Wibisono"
HEIR_NAME, HEIR_PHONE = "Ahmad Fauzi Hidayat", "0813 5566 7788"
SECRETS = (NIK, NAME, PHONE, OTHER_NIK, OTHER_NAME, HEIR_NAME, HEIR_PHONE)
SCRUB_WAIT_S = 30  # other sessions on a shared PostgreSQL server may hold older snapshots a while


def enrol(p, nik: str, name: str, phone: str | None = None, reference: str | None = None,
          programme: str = PROGRAMME) -> str:
    reference = reference or p.ledger.worker_reference_for(nik) or new_worker_reference()
    day = "2026-01-15" if programme == NEXT_YEAR else "2025-01-15"
    document = p.bpjs.submission(p.key("enrol"), [("worker.enrolled", f"{day}T08:00:00Z", payloads.enrolment(
        programme, reference, "ojek_online", "Kelapa Gading Barat", day))])
    document["personal"] = {"0": {"nik": nik, "name": name, **({"phone": phone} if phone else {})}}
    p.ledger.submit(document)
    p.workers[reference] = {"worker": reference, "income_rupiah": 1_000_000, "category": "ojek_online", "jht": False}
    return reference


@pytest.fixture
def history(programme):
    """Money in, two workers enrolled with personal data, premiums paid, and a JKM claim filed
    by an heir who gave a name and phone number."""
    p = programme
    p.pledge(MAJU, "pl-1", 10_000_000)
    p.receive(MAJU, "rc-1", 10_000_000, "pl-1")
    p.amil("rc-1", MAJU, 500_000)
    p.disburse("ds-1", [("rc-1", MAJU, 184_800)])  # 11 worker-months
    p.worker = enrol(p, NIK, NAME, PHONE)
    p.other = enrol(p, OTHER_NIK, OTHER_NAME)
    for month in ("2025-01", "2025-02", "2025-03", "2025-04", "2025-05"):
        p.pay(f"b-{month}", "ds-1", month, [p.worker, p.other])
    document = p.bpjs.one(p.key("claim"), "claim.filed", "2025-05-15T08:00:00Z", payloads.claim(
        PROGRAMME, "jkm-1", p.worker, "jkm", incident_on="2025-05-14", filed_on="2025-05-15"))
    document["personal"] = {"0": {"name": HEIR_NAME, "phone": HEIR_PHONE, "relationship": "spouse"}}
    p.ledger.submit(document)
    p.submit(p.bpjs, "claim.approved", payloads.approval(PROGRAMME, "jkm-1", p.worker, "jkm", 42_000_000,
                                                         "2025-05-16", "2025-05-16"))
    p.submit(p.bpjs, "claim.paid", payloads.claim(PROGRAMME, "jkm-1", p.worker, "jkm",
                                                  amount_rupiah=42_000_000, paid_on="2025-05-20"))
    return p


def log_bytes(ledger) -> bytes:
    size, chunks = ledger.size(), []
    for start in range(0, size, 1000):
        chunks += [leaf for _, leaf in ledger.entries(start, min(1000, size - start))]
    assert len(chunks) == size
    return b"".join(chunks)


def bundle_bytes(directory: Path) -> dict[str, bytes]:
    files = {path.name: path.read_bytes() for path in directory.iterdir()}
    assert {"manifest.json", "entries.jsonl", "checkpoints.jsonl", "organisations.json"} <= set(files)
    return files


def assert_nothing_personal(data: bytes, where: str) -> None:
    for secret in SECRETS:
        assert secret.encode() not in data, f"{secret!r} found in {where}"


def test_personal_data_is_readable_beside_the_log_but_never_in_it(history, tmp_path):
    ledger = history.ledger
    assert ledger.personal_data(f"worker:{history.worker}") == {"nik": NIK, "name": NAME, "phone": PHONE}
    assert ledger.personal_data(f"worker:{history.other}") == {"nik": OTHER_NIK, "name": OTHER_NAME}
    assert ledger.personal_data("heir:jkm-1") == {"name": HEIR_NAME, "phone": HEIR_PHONE, "relationship": "spouse"}
    logged = log_bytes(ledger)
    assert history.worker.encode() in logged  # the pseudonymous reference is what the log carries
    assert_nothing_personal(logged, "the log")
    export_bundle(ledger, tmp_path / "bundle")
    for name, data in bundle_bytes(tmp_path / "bundle").items():
        assert_nothing_personal(data, name)


def test_erasure_destroys_the_data_for_every_process_and_changes_nothing_else(history, tmp_path):
    ledger, subject = history.ledger, f"worker:{history.worker}"
    before = verify_database(ledger)
    assert before.ok, [str(f) for f in before.failures]
    assert before.balances["claims:paid:jkm"] == 42_000_000 and before.balances["coverage:premiums"] == 168_000
    size, checkpoint, root = ledger.size(), ledger.latest_checkpoint(), ledger.root(ledger.size())
    logged = log_bytes(ledger)
    export_bundle(ledger, tmp_path / "before")
    assert verify_bundle(tmp_path / "before").ok
    bundle_before = bundle_bytes(tmp_path / "before")

    other = history.world.reopen()  # a second process, same database and secret
    try:
        assert other.personal_data(subject)["nik"] == NIK
        assert ledger.forget(subject).erased is True
        assert ledger.personal_data(subject) is None
        assert other.personal_data(subject) is None
    finally:
        other.close()
    third = history.world.reopen()  # and one started after the erasure
    try:
        assert third.personal_data(subject) is None
        assert third.personal_data(f"worker:{history.other}")["nik"] == OTHER_NIK
    finally:
        third.close()
    assert ledger.forget(subject).erased is False  # nothing left to erase
    assert ledger.personal_data("heir:jkm-1")["name"] == HEIR_NAME
    assert ledger.forget("heir:jkm-1").erased is True and ledger.personal_data("heir:jkm-1") is None

    assert (ledger.size(), ledger.latest_checkpoint(), ledger.root(ledger.size())) == (size, checkpoint, root)
    assert log_bytes(ledger) == logged
    assert_nothing_personal(log_bytes(ledger), "the log after erasure")
    after = verify_database(ledger)
    assert after.ok, [str(f) for f in after.failures]
    assert after.root == before.root == root
    assert after.balances == before.balances
    assert (after.entries, after.checkpoints) == (before.entries, before.checkpoints)

    export_bundle(ledger, tmp_path / "after")
    report = verify_bundle(tmp_path / "after")
    assert report.ok, [str(f) for f in report.failures]
    assert report.root == root and report.balances == before.balances
    bundle_after = bundle_bytes(tmp_path / "after")
    for name, data in bundle_after.items():
        assert_nothing_personal(data, f"{name} after erasure")
    for name in ("entries.jsonl", "checkpoints.jsonl", "organisations.json"):
        assert bundle_after[name] == bundle_before[name], name


def test_the_ledger_goes_on_after_an_erasure(history):
    """The worker's history stays usable under its reference: that reference (of a worker who
    died) cannot be enrolled again, and its premiums and claim still count."""
    p = history
    p.ledger.forget(f"worker:{p.worker}")
    assert_refused(p.ledger, RuleViolation, "payload.worker", lambda: enrol(p, NIK, NAME, reference=p.worker))
    assert p.ledger.personal_data(f"worker:{p.worker}") is None  # the refused enrolment sealed nothing
    p.pay("b-2025-06", "ds-1", "2025-06", [p.other])
    report = verify_database(p.ledger)
    assert report.ok and report.balances["coverage:premiums"] == 168_000 + 16_800


def test_after_an_erasure_no_secret_ties_the_reference_to_the_person(history, database_url):
    """Given a worker enrolled and erased, when someone holding the operator's secret and the
    person's NIK looks for them, then neither the log nor the database leads from the NIK to the
    reference: the reference is random, and the index row that linked them is gone."""
    ledger, secret = history.ledger, history.ledger.pseudonym_secret
    assert ledger.worker_reference_for(NIK) == history.worker  # BPJS tooling finds the person before
    assert history.worker != nik_digest(secret, NIK)  # the log carries no keyed hash of the NIK
    assert ledger.forget(f"worker:{history.worker}").erased
    assert ledger.worker_reference_for(NIK) is None
    assert ledger.worker_reference_for(OTHER_NIK) == history.other  # the other person's row stays
    digest = nik_digest(secret, NIK).encode()
    assert digest not in log_bytes(ledger)
    with raw_database(database_url) as database:
        rows = database.execute(f"SELECT nik_digest, worker FROM {database.table('worker_index')}").fetchall()
    assert [tuple(row) for row in rows] == [(nik_digest(secret, OTHER_NIK), history.other)]
    erasure = ledger.forget(f"worker:{history.worker}", wait_seconds=SCRUB_WAIT_S)
    if erasure.done:
        for name, data in stored_files(database_url).items():
            assert digest not in data, name  # the reference itself stays: the log holds it


def test_a_nik_keeps_one_reference_and_a_reference_one_nik(history):
    """Given two people enrolled, when BPJS enrols a NIK under a new reference, or a new NIK
    under a taken reference, then it is refused naming the NIK and nothing is stored; the same
    person under the same reference is what the index expects."""
    p = history
    fresh = new_worker_reference()
    error = assert_refused(p.ledger, InvalidInput, "personal.0.nik", lambda: enrol(p, NIK, NAME, reference=fresh))
    assert p.worker in str(error)  # says which reference to use
    assert p.ledger.personal_data(f"worker:{fresh}") is None and p.ledger.worker_reference_for(NIK) == p.worker
    p.submit(p.city, "programme.opened", payloads.programme_opened(NEXT_YEAR, 2026), "2026-01-02T08:00:00Z")
    error = assert_refused(p.ledger, InvalidInput, "personal.0.nik", lambda: enrol(
        p, "3172064107950001", "Dewi Lestari", reference=p.other, programme=NEXT_YEAR))
    assert "another NIK" in str(error)
    assert p.ledger.worker_reference_for("3172064107950001") is None
    assert p.ledger.personal_data(f"worker:{p.other}")["nik"] == OTHER_NIK
    # The same person in the 2026 programme keeps the reference: the index accepts it.
    if attempt(p.ledger, lambda: enrol(p, OTHER_NIK, "Budi S. Wibisono", programme=NEXT_YEAR)):
        assert p.ledger.personal_data(f"worker:{p.other}")["name"] == "Budi S. Wibisono"
    assert p.ledger.worker_reference_for(OTHER_NIK) == p.other


def test_two_enrolments_of_one_nik_in_one_submission_are_refused(programme):
    p, nik = programme, "3172064107950001"
    references = [new_worker_reference(), new_worker_reference()]
    document = p.bpjs.submission(p.key("enrol"), [("worker.enrolled", "2025-01-15T08:00:00Z", payloads.enrolment(
        PROGRAMME, reference, "ojek_online", "Kelapa Gading Barat", "2025-01-15")) for reference in references])
    document["personal"] = {"0": {"nik": nik, "name": "Dewi"}, "1": {"nik": nik, "name": "Dewi"}}
    assert_refused(p.ledger, InvalidInput, "personal.1.nik", lambda: p.ledger.submit(document))
    assert p.ledger.worker_reference_for(nik) is None


INVALID_NIKS = {
    "all zeros": "0000000000000000",
    "not a province": "9972064107950001",
    "no regency": "3100064107950001",
    "no district": "3172004107950001",
    "31 February": "3172063102950001",
    "day 32": "3172063201950001",
    "a woman's day 72": "3172067201950001",
    "month 13": "3172060113950001",
    "29 February of a common year": "3172062902950001",
    "serial 0000": "3172064107950000",
    "fifteen digits": "317206410795001",
    "Arabic-Indic digits": "\u0663172064107950001"[:16],
}


@pytest.mark.parametrize("case", list(INVALID_NIKS))
def test_an_enrolment_with_an_impossible_nik_is_refused(programme, case):
    """Given the 2025 programme, when BPJS enrols a worker whose NIK could not exist (issue 12
    rule 7), then it is refused naming personal.0.nik with the reason, and nothing is stored."""
    error = assert_refused(programme.ledger, InvalidInput, "personal.0.nik",
                           lambda: enrol(programme, INVALID_NIKS[case], NAME))
    assert str(error) and programme.ledger.worker_reference_for("3172064107950001") is None


def test_well_formed_niks_of_men_and_women_are_enrolled(programme):
    """29 February 2000, a woman born on the 31st (day 71), a man born on the 1st."""
    for nik in ("3172062902000001", "3172067112880002", "3172010101010003", "9472010101010004"):
        reference = enrol(programme, nik, NAME)
        assert programme.ledger.personal_data(f"worker:{reference}")["nik"] == nik


def stored_files(database_url: str) -> dict[str, bytes]:
    """The raw bytes the database keeps for the personal-data tables: SQLite's database, WAL and
    shared-memory files; PostgreSQL's relation files after a CHECKPOINT (read with the
    superuser function pg_read_binary_file, as the test user is)."""
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        return {candidate.name: candidate.read_bytes() for candidate in path.parent.glob(path.name + "*")}
    import psycopg

    from tests.conftest import POSTGRES_URL

    schema = database_url.split("schema=", 1)[1]
    files = {}
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute("CHECKPOINT")
        for table in ("person_keys", "personal_data", "worker_index"):
            row = connection.execute("SELECT pg_read_binary_file(pg_relation_filepath(%s))",
                                     (f'"{schema}".{table}',)).fetchone()
            files[table] = bytes(row[0])
    return files


def assert_honest(erasure, database_url: str, secrets: tuple[bytes, ...]) -> None:
    """Done means no copy in the files; pending names what holds the copies (PostgreSQL sessions
    with older snapshots, by pid), and then the copies may still be there."""
    if erasure.done:
        for name, data in stored_files(database_url).items():
            for secret in secrets:
                assert secret not in data, f"reported done, yet {secret[:8].hex()}... is still in {name}"
    else:
        assert erasure.holders and all(holder.strip() for holder in erasure.holders)
        assert database_url.startswith("sqlite") or any("pid" in holder for holder in erasure.holders)


def test_an_erased_key_and_ciphertext_are_gone_from_the_database_files(history, database_url):
    """Erasure 'destroys the key and the ciphertext': once forget() reports done, neither may be
    recoverable from what the database keeps on disk (SQLite's WAL, PostgreSQL's dead tuples).
    Other sessions (other tests on the same server) may hold older snapshots for a while: then
    the report must say pending and name them, and waiting finishes the scrub."""
    ledger, subject = history.ledger, f"worker:{history.worker}"
    wrapped_key, _, ciphertext = ledger.recorder.read(lambda c, d: personal_store.read_personal(c, d, subject))
    assert any(wrapped_key in data for data in stored_files(database_url).values())
    erasure = ledger.forget(subject, wait_seconds=SCRUB_WAIT_S)
    assert erasure.erased and ledger.personal_data(subject) is None
    assert_honest(erasure, database_url, (wrapped_key, ciphertext))


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # SQLite has no dead tuples: its WAL is checkpointed at once
def test_an_erasure_behind_an_older_snapshot_is_reported_pending_until_that_snapshot_ends(history, database_url):
    """Given a session that took its snapshot before the erasure (VACUUM must keep the rows it
    may still read), when the worker is forgotten, then the result is pending and names that
    session's pid, the copies are still in the table files, and once the session ends, forgetting
    again finishes the scrub and reports done."""
    import psycopg

    ledger, subject = history.ledger, f"worker:{history.worker}"
    wrapped_key, _, ciphertext = ledger.recorder.read(lambda c, d: personal_store.read_personal(c, d, subject))
    base, _, query = database_url.partition("?")
    with psycopg.connect(base) as old:
        old.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        old.execute(f'SELECT count(*) FROM "{query.removeprefix("schema=")}".person_keys').fetchone()
        pid = old.info.backend_pid
        erasure = ledger.forget(subject)
        assert erasure.erased and not erasure.done
        assert any(f"pid {pid}" in holder for holder in erasure.holders), erasure.holders
        assert any(wrapped_key in data for data in stored_files(database_url).values())  # honestly not yet
        old.rollback()
    again = ledger.forget(subject, wait_seconds=SCRUB_WAIT_S)
    assert again.erased is False
    assert all(f"pid {pid}" not in holder for holder in again.holders)
    assert_honest(again, database_url, (wrapped_key, ciphertext))


# ---- at rest: wrapped keys, owner-only files, KEK rotation ---------------------------------

def stored_rows(database_url: str) -> list[tuple[str, bytes, bytes, bytes]]:
    """(subject, stored key, nonce, ciphertext) of every record, read straight from the database
    as whoever copied its file would."""
    with raw_database(database_url) as database:
        rows = database.execute(
            f"SELECT k.subject, k.data_key, p.nonce, p.ciphertext FROM {database.table('person_keys')} k "
            f"JOIN {database.table('personal_data')} p ON p.subject = k.subject").fetchall()
    return [(row[0], bytes(row[1]), bytes(row[2]), bytes(row[3])) for row in rows]


def readable_with_the_database_alone(rows) -> int:
    """How many records open with what the database holds: the stored key tried as the data key."""
    readable = 0
    for subject, stored_key, nonce, ciphertext in rows:
        try:
            AESGCM(stored_key).decrypt(nonce, ciphertext, subject.encode())
            readable += 1
        except (InvalidTag, ValueError):
            pass
    return readable


def test_a_copied_database_file_opens_no_personal_record(history, database_url, tmp_path):
    """Given three records stored (two workers, one heir), when someone copies the database file
    (or reads the tables) without the key-encryption key, then 0 records decrypt, and a ledger
    opened on the copy without that key refuses in one line naming AMANAH_PERSONAL_KEK."""
    rows = stored_rows(database_url)
    assert len(rows) == 3 and all(len(stored_key) == 40 for _, stored_key, _, _ in rows)  # wrapped
    assert readable_with_the_database_alone(rows) == 0
    if database_url.startswith("sqlite"):
        source = Path(database_url.removeprefix("sqlite:///"))
        history.ledger.recorder.scrub()  # the WAL into the file, as a file copy would find it
        copy = tmp_path / "copied" / "ledger.db"
        copy.parent.mkdir()
        shutil.copyfile(source, copy)
        assert readable_with_the_database_alone(stored_rows(f"sqlite:///{copy}")) == 0
        settings = Settings.from_environment({"AMANAH_HOME": str(tmp_path / "copied"),
                                              "AMANAH_DATABASE_URL": f"sqlite:///{copy}"})
        thief = Ledger(settings, None, history.ledger.pseudonym_secret)  # even with the pseudonym secret
        try:
            with pytest.raises(ConfigurationError) as refused:
                thief.personal_data(f"worker:{history.worker}")
            assert refused.value.field == "AMANAH_PERSONAL_KEK"
        finally:
            thief.close()
    assert history.ledger.personal_data(f"worker:{history.worker}")["nik"] == NIK  # with the KEK it opens


def test_database_files_and_key_folders_are_the_owners_only(history, database_url):
    """ledger.db and its -wal and -shm files 0600, the keys folder 0700, every key file 0600."""
    settings = history.world.settings
    keys = settings.personal_kek_path.parent
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    for path in (settings.personal_kek_path, settings.pseudonym_secret_path, settings.checkpoint_key_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    if database_url.startswith("sqlite"):
        files = list(Path(database_url.removeprefix("sqlite:///")).parent.glob("*.db*"))
        assert {path.name for path in files} >= {"ledger.db", "ledger.db-wal", "ledger.db-shm"}
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_rotating_the_key_encryption_key_rewraps_every_key_in_one_go(history, database_url):
    """Given records sealed under the first KEK and a second process holding it, when the KEK is
    rotated, then every stored key changes, none opens under the old KEK, every record still
    opens (in this process and in the other, which notices the rotation), and new enrolments are
    sealed under the new KEK."""
    ledger, settings = history.ledger, history.world.settings
    old_kek = settings.personal_kek_path.read_bytes()
    before = {subject: stored_key for subject, stored_key, _, _ in stored_rows(database_url)}
    other = history.world.reopen()
    try:
        assert other.personal_data(f"worker:{history.other}")["nik"] == OTHER_NIK
        count = personal_keys.rotate(ledger.recorder.write, ledger.personal_keys,
                                     ledger.recorder.read(personal_store.read_kek_id))
        assert count == 3 and settings.personal_kek_path.read_bytes() != old_kek
        assert stat.S_IMODE(settings.personal_kek_path.stat().st_mode) == 0o600
        assert not personal_keys.pending_path(settings.personal_kek_path).exists()
        after = {subject: stored_key for subject, stored_key, _, _ in stored_rows(database_url)}
        assert set(after) == set(before) and all(after[s] != before[s] for s in after)
        old = bytes.fromhex(old_kek.decode().strip())
        for stored_key in after.values():
            with pytest.raises(ValueError):
                personal_keys.unwrap(old, stored_key)
        assert other.personal_data(f"worker:{history.other}")["nik"] == OTHER_NIK
        reference = enrol(history, "3172064107950001", "Dewi Lestari")  # sealed by this process
        assert other.personal_data(f"worker:{reference}")["name"] == "Dewi Lestari"
        stale = history.world.reopen()  # reads the KEK file after the rotation...
        stale.personal_keys.hold(old)  # ...but is made to hold the old one, as a server started before
        try:
            document = history.bpjs.submission(history.key("enrol"), [("worker.enrolled", "2025-01-15T08:00:00Z",
                payloads.enrolment(PROGRAMME, new_worker_reference(), "ojek_online", "Kelapa Gading Barat",
                                   "2025-01-15"))])
            document["personal"] = {"0": {"nik": "3172064107950002", "name": "Rina"}}
            stale.submit(document)  # sealed under the new KEK, which it rereads on seeing the rotation
        finally:
            stale.close()
        assert other.personal_data(f"worker:{document['envelopes'][0]['payload']['worker']}")["name"] == "Rina"
    finally:
        other.close()
    assert ledger.personal_data(f"worker:{history.worker}") == {"nik": NIK, "name": NAME, "phone": PHONE}
    assert verify_database(ledger).ok


def test_a_rotation_stopped_before_its_rename_is_finished_by_the_next_reader(history, database_url):
    """Given a rotation that rewrapped the keys but crashed before the new KEK file replaced the
    old one, when a process starts, then it finds the database naming the pending file's key,
    finishes the rename and opens every record."""
    ledger, path = history.ledger, history.world.settings.personal_kek_path
    old_kek = path.read_bytes()
    personal_keys.rotate(ledger.recorder.write, ledger.personal_keys, ledger.recorder.read(personal_store.read_kek_id))
    new_kek = path.read_bytes()
    path.write_bytes(old_kek)  # as if the crash came between the commit and the rename
    personal_keys.pending_path(path).write_bytes(new_kek)
    restarted = history.world.reopen()
    try:
        assert restarted.personal_data(f"worker:{history.worker}")["nik"] == NIK
    finally:
        restarted.close()
    assert path.read_bytes() == new_kek and not personal_keys.pending_path(path).exists()
