"""`amanah verify --db` on the personal data beside the log: every stored record belongs to an
entry of the log, its wrapped key opens under the key-encryption key, the record decrypts under
its own key and subject, and a worker's NIK is the one the index holds for that worker reference
(and every index row names an enrolled worker). Erased records and index rows are simply absent,
which is not a failure."""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidTag

from ledger import personal, personal_store
from ledger.errors import ConfigurationError
from ledger.verify import Verifier

PAGE = 1000


def check_personal_data(ledger: Any, verifier: Verifier) -> None:
    """Report each stored personal record that is orphaned, altered or swapped."""
    index, kek_id = ledger.recorder.read(lambda c, d: (personal_store.select_worker_index(c, d), personal_store.read_kek_id(c, d)))
    for worker in sorted(set(index) - {subject.removeprefix("worker:") for subject in verifier.subjects}):
        verifier.fail(None, "personal", f"the NIK index names worker:{worker}, which no entry of the log enrols")
    after, kek = "", None
    while True:
        rows = ledger.recorder.read(lambda c, d: personal_store.select_personal(c, d, after, PAGE))
        if rows and kek is None:
            try:
                kek = ledger.personal_keys.matching(kek_id)
            except ConfigurationError as error:
                verifier.fail(None, "personal", f"personal data is stored but cannot be checked: {error}")
                return
        for subject, wrapped_key, nonce, ciphertext in rows:
            _check_record(verifier, ledger.pseudonym_secret, kek, index, subject, wrapped_key, nonce, ciphertext)
        if len(rows) < PAGE:
            return
        after = rows[-1][0]


def _check_record(verifier: Verifier, secret: bytes | None, kek: bytes, index: dict[str, str], subject: str,
                  wrapped_key: bytes, nonce: bytes | None, ciphertext: bytes | None) -> None:
    entry = verifier.subjects.get(subject)
    if entry is None:
        verifier.fail(None, "personal", f"personal data for {subject} but no entry of the log enrols "
                      "that worker or files that claim")
        return
    try:
        if nonce is None or ciphertext is None:
            raise ValueError("its key is stored without the record")
        record = personal.unseal(subject, wrapped_key, nonce, ciphertext, kek)
    except (InvalidTag, ValueError) as error:
        verifier.fail(entry, "personal", f"personal data of {subject} does not decrypt under its key "
                      f"and subject (altered, or moved from another subject) {error}".rstrip())
        return
    worker = subject.removeprefix("worker:")
    if secret is not None and subject.startswith("worker:") and (
            not isinstance(record, dict) or personal.nik_digest(secret, str(record.get("nik"))) != index.get(worker)):
        verifier.fail(entry, "personal", f"the NIK stored beside the enrolment of {subject} is not the one the "
                      "NIK index holds for that worker reference (replaced, or its index row lost)")
