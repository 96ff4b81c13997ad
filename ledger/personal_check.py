"""`amanah verify --db` on the personal data beside the log: every stored record belongs to an
entry of the log, decrypts under its own key and subject, and a worker's NIK still hashes to the
worker reference the log holds. (Erased records are simply absent, which is not a failure.)"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidTag

from ledger import log_store, personal
from ledger.verify import Verifier

PAGE = 1000


def check_personal_data(ledger: Any, verifier: Verifier) -> None:
    """Report each stored personal record that is orphaned, altered or swapped."""
    after = ""
    while True:
        rows = ledger.recorder.read(lambda c, d: log_store.select_personal(c, d, after, PAGE))
        for subject, data_key, nonce, ciphertext in rows:
            _check_record(verifier, ledger.pseudonym_secret, subject, data_key, nonce, ciphertext)
        if len(rows) < PAGE:
            return
        after = rows[-1][0]


def _check_record(verifier: Verifier, secret: bytes | None, subject: str, data_key: bytes,
                  nonce: bytes | None, ciphertext: bytes | None) -> None:
    index = verifier.subjects.get(subject)
    if index is None:
        verifier.fail(None, "personal", f"personal data for {subject} but no entry of the log enrols "
                      "that worker or files that claim")
        return
    try:
        if nonce is None or ciphertext is None:
            raise ValueError("its key is stored without the record")
        record = personal.unseal(subject, data_key, nonce, ciphertext)
    except (InvalidTag, ValueError) as error:
        verifier.fail(index, "personal", f"personal data of {subject} does not decrypt under its key "
                      f"and subject (altered, or moved from another subject) {error}".rstrip())
        return
    worker = subject.removeprefix("worker:")
    if secret is not None and subject.startswith("worker:") and (
            not isinstance(record, dict) or personal.worker_reference(secret, str(record.get("nik"))) != worker):
        verifier.fail(index, "personal", f"the NIK stored beside the enrolment of {subject} does not "
                      "hash to that worker reference (replaced)")
