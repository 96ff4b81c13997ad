"""The domain kernel: the ledger's rules as plain functions over aggregates, with no storage.

`decide` takes a checked submission and the aggregates it may touch (a `Decision`, whose `load`
is the only way in) and returns the entries it adds, with the aggregates' new events pending, or
raises a named refusal (a `LedgerError`). The writer (ledger/application.py) stores what it
returns; the offline verifier (ledger/verify.py) re-runs `authorisation` and `apply_entry` on
every entry of a log; the tests' in-memory ledger (tests/kernel.py) runs `decide` with no
database. The rules themselves are the event types' handlers (ledger/domain/*.py, registered in
ledger/event_types.py) and the aggregates' mutator tables.
"""

from __future__ import annotations

from ledger import authorisation, signing
from ledger.decision import Decision
from ledger.entry import LogEntry, build_entry
from ledger.errors import LedgerError, LedgerNotInitialised
from ledger.event_types import lookup
from ledger.organisations import GENESIS_TYPE, Organisation, organisation_uuid
from ledger.submission import Submission

KEY_CHANGES = ("key.revoked", "key.rotated")


def authorise(decision: Decision, submission: Submission, first_index: int) -> None:
    """Signature, key validity and permission of a submission whose first entry is `first_index`."""
    genesis = any(envelope["type"] == GENESIS_TYPE for envelope in submission.envelopes)
    if first_index == 0 and not genesis:
        raise LedgerNotInitialised("the ledger has no genesis entry yet; run `amanah init`")
    signer = None if genesis else decision.get(Organisation, organisation_uuid(submission.actor))
    public = authorisation.authorise(signer, submission.actor, submission.key_id, first_index,
                                     submission.envelopes)
    signing.verify(public, submission.signature, submission.signed_message)


def apply_entry(decision: Decision, entry: LogEntry, position: int | None = None) -> None:
    """Run the entry's rules against the aggregates, which record its event; `position` (the
    envelope's place in its submission) is set on a refusal that does not name one."""
    event_type = lookup(entry.type, "type" if position is None else f"envelopes[{position}].type")
    try:
        event_type.apply(decision, entry)
    except LedgerError as error:
        if error.index is None:
            error.index = position
        raise


def decide(decision: Decision, submission: Submission, first_index: int, recorded_at: str) -> list[LogEntry]:
    """The entries a checked submission adds at `first_index`, all or nothing: authorised, each
    applied in order, and the end-of-submission checks (control totals) passed."""
    authorise(decision, submission, first_index)
    decision.prefetch([aggregate_id for envelope in submission.envelopes for aggregate_id in _touched(envelope)])
    entries = []
    for position, envelope in enumerate(submission.envelopes):
        entry = build_entry(first_index + position, recorded_at, envelope, submission.envelope_bytes[position],
                            signing.b64encode(submission.signature), submission.batch_proof(position))
        apply_entry(decision, entry, position)
        if envelope["type"] in KEY_CHANGES and position < len(submission.envelopes) - 1:
            # A key change must leave the submission's key valid for the envelopes after it.
            signer = decision.get(Organisation, organisation_uuid(submission.actor))
            authorisation.signer_key(signer, submission.actor, submission.key_id, entry.index + 1,
                                     f"envelopes[{position + 1}].")
        entries.append(entry)
    decision.finish()
    return entries


def _touched(envelope: dict) -> list:
    event_type = lookup(envelope["type"], "type")
    return event_type.touches(envelope["payload"]) if event_type.touches else []
