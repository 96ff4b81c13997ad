"""Personal data beside the log: sealing a submission's records, reading them, and erasure."""

from __future__ import annotations

import time
from typing import Any

from ledger import personal, personal_rules, personal_store
from ledger.errors import ConfigurationError
from ledger.submission import Submission

ERASURE_POLL_S = 0.5


class PersonalAccess:
    """The ledger's personal side-car (mixed into the Ledger)."""

    recorder: Any
    personal_keys: Any
    pseudonym_secret: bytes | None

    def _seal_personal(self, submission: Submission) -> list[personal.SealedRecord]:
        """Check the personal side-car against the envelopes and the index (ledger/personal_rules.py)
        and seal each record."""
        if not submission.personal:
            return []
        kek = self.personal_keys.matching(self.recorder.read(personal_store.read_kek_id))
        pairs = personal_rules.index_pairs(submission, self.pseudonym_secret)
        if pairs:
            stored = self.recorder.read(lambda c, d: personal_store.select_index_rows(
                c, d, [digest for digest, _ in pairs.values()], [worker for _, worker in pairs.values()]))
            personal_rules.check_index(pairs, stored)
        subjects = personal_rules.subjects(submission)
        return [personal.seal(subjects[sequence], record, kek, pairs.get(sequence))
                for sequence, record in sorted(submission.personal.items())]

    def worker_reference_for(self, nik: str) -> str | None:
        """The worker reference the index holds for a NIK (for BPJS tooling: a person enrolled
        before keeps their reference), or None if the NIK was never enrolled or was erased."""
        if self.pseudonym_secret is None:
            raise ConfigurationError("no pseudonym secret is configured to look NIKs up",
                                     field="AMANAH_PSEUDONYM_SECRET")
        digest = personal.nik_digest(self.pseudonym_secret, nik)
        return self.recorder.read(lambda c, d: personal_store.find_indexed_worker(c, d, digest))

    def personal_data(self, subject: str) -> dict | None:
        """Decrypted personal fields of 'worker:<ref>' or 'heir:<claim>', or None once erased."""
        stored, kek_id = self.recorder.read(lambda c, d: (personal_store.read_personal(c, d, subject),
                                                           personal_store.read_kek_id(c, d)))
        if stored is None:
            return None
        return personal.unseal(subject, *stored, self.personal_keys.matching(kek_id))

    def forget(self, subject: str, wait_seconds: float = 0.0) -> personal.Erasure:
        """Carry out an erasure request: destroy the subject's wrapped key, ciphertext and index
        row, then scrub the database files; waits up to `wait_seconds` for older snapshots (which
        keep copies of deleted rows on PostgreSQL) to end, and says whether the scrub is done."""
        erased, horizon = self.recorder.erase(lambda c, d: personal_store.erase_personal(c, d, subject))
        deadline = time.monotonic() + wait_seconds
        holders = self.recorder.scrub(horizon)
        while holders and time.monotonic() < deadline:
            time.sleep(min(ERASURE_POLL_S, max(0.0, deadline - time.monotonic())))
            holders = self.recorder.scrub(horizon)
        return personal.Erasure(subject, erased, tuple(holders))
