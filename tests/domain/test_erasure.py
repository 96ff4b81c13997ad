"""UU PDP: a worker's or heir's NIK, name and phone never enter the signed log, and an erasure
request destroys them without changing one byte of the log, its proofs or its totals."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import payloads
from ledger.bundle import export_bundle, verify_bundle, verify_database
from ledger.errors import AlreadyExists
from tests.domain.conftest import PROGRAMME, assert_refused

MAJU = "pt-maju-bersama"
NIK, NAME, PHONE = "3172014405870003", "Siti Nurhaliza Rahmawati", "0812 7788 9900"
OTHER_NIK, OTHER_NAME = "3172026108900004", "Budi Santoso Wibisono"
HEIR_NAME, HEIR_PHONE = "Ahmad Fauzi Hidayat", "0813 5566 7788"
SECRETS = (NIK, NAME, PHONE, OTHER_NIK, OTHER_NAME, HEIR_NAME, HEIR_PHONE)


def enrol(p, nik: str, name: str, phone: str | None = None) -> str:
    from ledger.personal import worker_reference

    reference = worker_reference(p.ledger.pseudonym_secret, nik)
    document = p.bpjs.submission(p.key("enrol"), [("worker.enrolled", "2025-01-15T08:00:00Z", payloads.enrolment(
        PROGRAMME, reference, "ojek_online", "Kelapa Gading Barat", "2025-01-15"))])
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
        assert ledger.forget(subject) is True
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
    assert ledger.forget(subject) is False  # nothing left to erase
    assert ledger.personal_data("heir:jkm-1")["name"] == HEIR_NAME
    assert ledger.forget("heir:jkm-1") is True and ledger.personal_data("heir:jkm-1") is None

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
    """The worker's history stays usable under the pseudonym: the NIK cannot be enrolled twice,
    and its premiums and claim still count."""
    p = history
    p.ledger.forget(f"worker:{p.worker}")
    assert_refused(p.ledger, AlreadyExists, "payload.worker", lambda: enrol(p, NIK, NAME))
    assert p.ledger.personal_data(f"worker:{p.worker}") is None  # the refused enrolment sealed nothing
    p.pay("b-2025-06", "ds-1", "2025-06", [p.other])
    report = verify_database(p.ledger)
    assert report.ok and report.balances["coverage:premiums"] == 168_000 + 16_800


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
        for table in ("person_keys", "personal_data"):
            row = connection.execute("SELECT pg_read_binary_file(pg_relation_filepath(%s))",
                                     (f'"{schema}".{table}',)).fetchone()
            files[table] = bytes(row[0])
    return files


def test_an_erased_key_and_ciphertext_are_gone_from_the_database_files(history, database_url):
    """Erasure 'destroys the key and the ciphertext': after forget() neither may still be
    recoverable from what the database keeps on disk (SQLite's WAL, PostgreSQL's dead tuples)."""
    from ledger import log_store

    ledger, subject = history.ledger, f"worker:{history.worker}"
    data_key, _, ciphertext = ledger.recorder.read(lambda c, d: log_store.read_personal(c, d, subject))
    assert any(data_key in data for data in stored_files(database_url).values())
    assert ledger.forget(subject)
    assert ledger.personal_data(subject) is None
    for name, data in stored_files(database_url).items():
        assert data_key not in data, f"the destroyed data key is still in {name}"
        assert ciphertext not in data, f"the erased ciphertext is still in {name}"
