"""The rules of a submission's personal side-car, without storage: which envelope may carry
personal data, its NIK, and the index of NIK digests to worker references.

The writer reads the stored index rows and seals the records; the in-memory kernel ledger of
the tests keeps both in memory; the checks and their refusals are these functions."""

from __future__ import annotations

from ledger import personal
from ledger.errors import ConfigurationError, InvalidInput
from ledger.submission import Submission


def subjects(submission: Submission) -> dict[int, str]:
    """The subject of each personal record ('worker:<ref>' or 'heir:<claim>'), heirs' NIKs checked."""
    found = {}
    for sequence, record in sorted(submission.personal.items()):
        envelope, where = submission.envelopes[sequence], f"personal.{sequence}"
        if envelope["type"] == "worker.enrolled":
            found[sequence] = f"worker:{envelope['payload']['worker']}"
        elif envelope["type"] == "claim.filed":
            if "nik" in record:
                personal.check_nik(record["nik"], f"{where}.nik")
            found[sequence] = f"heir:{envelope['payload']['claim']}"
        else:
            raise InvalidInput(f"{envelope['type']} carries no personal data", field=where)
    return found


def index_pairs(submission: Submission, secret: bytes | None) -> dict[int, tuple[str, str]]:
    """(NIK digest, worker reference) of each enrolment's personal record; its NIK is required."""
    enrolments = {sequence: record for sequence, record in submission.personal.items()
                  if submission.envelopes[sequence]["type"] == "worker.enrolled"}
    if not enrolments:
        return {}
    if secret is None:
        raise ConfigurationError("no pseudonym secret is configured to index NIKs", field="AMANAH_PSEUDONYM_SECRET")
    pairs = {}
    for sequence, record in sorted(enrolments.items()):
        if "nik" not in record:
            raise InvalidInput("an enrolment's personal data must include the NIK", field=f"personal.{sequence}.nik")
        nik = personal.check_nik(record["nik"], f"personal.{sequence}.nik")
        pairs[sequence] = (personal.nik_digest(secret, nik), submission.envelopes[sequence]["payload"]["worker"])
    return pairs


def check_index(pairs: dict[int, tuple[str, str]], stored: list[tuple[str, str]]) -> None:
    """Refuse an enrolment whose NIK the index (or an earlier enrolment in the same submission)
    holds under another reference, or whose reference it holds under another NIK."""
    by_digest, by_worker = dict(stored), {worker: digest for digest, worker in stored}
    for sequence, (digest, worker) in sorted(pairs.items()):
        if by_digest.setdefault(digest, worker) != worker:
            raise InvalidInput(f"this NIK is enrolled under the worker reference {by_digest[digest]}: enrol "
                               "the person with that reference (Ledger.worker_reference_for)",
                               field=f"personal.{sequence}.nik")
        if by_worker.setdefault(worker, digest) != digest:
            raise InvalidInput("the worker reference belongs to another NIK: a new person needs a new "
                               "reference (personal.new_worker_reference)", field=f"personal.{sequence}.nik")
