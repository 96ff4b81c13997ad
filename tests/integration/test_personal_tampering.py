"""The personal data beside the log (UU PDP: NIK, name, phone, sealed per worker and erasable) is
not in the hashed log, but `verify --db` still checks it: each record belongs to an entry, opens
under its own key (wrapped under the key-encryption key) and subject, and a worker's NIK is the
one the NIK index holds for the reference the signed enrolment names. Someone with database
access (and, to re-seal, the key-encryption key) who edits, swaps or re-seals a record, or edits
the index, is named; a proper erasure is not a failure. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from ledger import payloads, personal, personal_keys
from ledger.bundle import verify_database
from tests.integration.forgery import assert_named, explain
from tests.integration.support import PROGRAMME, raw_database

NIKS = ("3172014405870003", "3172026108900004")


@pytest.fixture
def enrolled(opened):
    """Two workers enrolled by BPJS with their NIK, name and phone beside the envelopes."""
    bpjs = opened.register("bpjs-kelapa-gading", "bpjs")
    opened.workers = []
    for number, nik in enumerate(NIKS):
        reference = personal.new_worker_reference()
        document = bpjs.one(f"enrol-{number}", "worker.enrolled", "2025-01-15T08:00:00Z", payloads.enrolment(
            PROGRAMME, reference, "ojek_online", "Kelapa Gading Barat", "2025-01-15"))
        document["personal"] = {"0": {"nik": nik, "name": f"Pekerja {number}", "phone": "0812 0000 0000"}}
        index = opened.ledger.submit(document)["first_index"]
        opened.workers.append((f"worker:{reference}", index))
    report = verify_database(opened.ledger)
    assert report.ok, explain(report)
    return opened


def sealed(database, subject: str) -> tuple[bytes, bytes, bytes]:
    row = database.execute(
        f"SELECT k.data_key, p.nonce, p.ciphertext FROM {database.table('person_keys')} k "
        f"JOIN {database.table('personal_data')} p ON p.subject = k.subject WHERE k.subject = ?", (subject,)).fetchone()
    return bytes(row[0]), bytes(row[1]), bytes(row[2])


def store(database, subject: str, nonce: bytes, ciphertext: bytes) -> None:
    database.execute(f"UPDATE {database.table('personal_data')} SET nonce = ?, ciphertext = ? WHERE subject = ?",
                     (nonce, ciphertext, subject))


def flip_a_bit(database, workers, kek) -> None:
    subject, _ = workers[0]
    _, nonce, ciphertext = sealed(database, subject)
    store(database, subject, nonce, bytes([ciphertext[0] ^ 1]) + ciphertext[1:])


def swap_records(database, workers, kek) -> None:
    (first, _), (second, _) = workers
    first_record, second_record = sealed(database, first), sealed(database, second)
    for subject, (data_key, nonce, ciphertext) in ((first, second_record), (second, first_record)):
        store(database, subject, nonce, ciphertext)
        database.execute(f"UPDATE {database.table('person_keys')} SET data_key = ? WHERE subject = ?",
                         (data_key, subject))


def reseal_with_another_nik(database, workers, kek) -> None:
    """With the key-encryption key and the stored key in hand, seal a record naming someone
    else's NIK."""
    subject, _ = workers[0]
    wrapped_key, nonce, _ = sealed(database, subject)
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    forged = b'{"name": "Pekerja 0", "nik": "3172064107950009"}'
    data_key = personal_keys.unwrap(kek, wrapped_key)
    store(database, subject, nonce, AESGCM(data_key).encrypt(nonce, forged, subject.encode()))


def add_a_stranger(database, workers, kek) -> None:
    record = personal.seal("worker:" + "ab" * 32, {"nik": "3172064107950001", "name": "Tidak Ada"}, kek)
    database.execute(f"INSERT INTO {database.table('person_keys')} (subject, data_key) VALUES (?, ?)",
                     (record.subject, record.wrapped_key))
    database.execute(f"INSERT INTO {database.table('personal_data')} (subject, nonce, ciphertext) VALUES (?, ?, ?)",
                     (record.subject, record.nonce, record.ciphertext))


def drop_the_record_keep_the_key(database, workers, kek) -> None:
    database.execute(f"DELETE FROM {database.table('personal_data')} WHERE subject = ?", (workers[0][0],))


def point_the_index_elsewhere(database, workers, kek) -> None:
    """Swap the references of two index rows: each NIK now finds the other person."""
    (first, _), (second, _) = workers
    table = database.table("worker_index")
    first, second = first.removeprefix("worker:"), second.removeprefix("worker:")
    database.execute(f"UPDATE {table} SET worker = ? WHERE worker = ?", ("swap", first))
    database.execute(f"UPDATE {table} SET worker = ? WHERE worker = ?", (first, second))
    database.execute(f"UPDATE {table} SET worker = ? WHERE worker = ?", (second, "swap"))


def index_a_stranger(database, workers, kek) -> None:
    database.execute(f"INSERT INTO {database.table('worker_index')} (nik_digest, worker) VALUES (?, ?)",
                     ("cd" * 32, "ef" * 32))


def wrap_a_key_under_another_kek(database, workers, kek) -> None:
    subject, _ = workers[1]
    wrapped_key, _, _ = sealed(database, subject)
    rewrapped = personal_keys.wrap(bytes(32), personal_keys.unwrap(kek, wrapped_key))
    database.execute(f"UPDATE {database.table('person_keys')} SET data_key = ? WHERE subject = ?",
                     (rewrapped, subject))


PERSONAL_TAMPERING = {
    # name: (tamper(database, workers), which workers verify must name, or None for "log")
    "a ciphertext bit flipped": (flip_a_bit, [0]),
    "two workers' records swapped": (swap_records, [0, 1]),
    "re-sealed with another NIK under the stored key": (reseal_with_another_nik, [0]),
    "a record for a worker no entry enrols": (add_a_stranger, None),
    "the record deleted, its key left": (drop_the_record_keep_the_key, [0]),
    "two index rows pointed at each other's worker": (point_the_index_elsewhere, [0, 1]),
    "an index row for a worker no entry enrols": (index_a_stranger, None),
    "a key wrapped under another key-encryption key": (wrap_a_key_under_another_kek, [1]),
}


@pytest.mark.parametrize("case", list(PERSONAL_TAMPERING))
def test_personal_data_changed_in_the_database_is_named_by_verify(enrolled, case):
    tamper, named = PERSONAL_TAMPERING[case]
    kek = enrolled.ledger.personal_keys.matching(None)
    with raw_database(enrolled.settings.database_url) as database:
        tamper(database, enrolled.workers, kek)
    expected = {(None, "personal")} if named is None else {(enrolled.workers[n][1], "personal") for n in named}
    assert_named(verify_database(enrolled.ledger), expected)


def test_an_erasure_is_not_tampering(enrolled):
    subject, _ = enrolled.workers[0]
    assert enrolled.ledger.forget(subject).erased
    report = verify_database(enrolled.ledger)
    assert report.ok, explain(report)
