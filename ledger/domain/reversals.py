"""Corrections: a new signed event reverses one of the actor's own earlier events, once, with
a reason code. History is never edited. A reversal that would break a rule is refused (a
receipt already disbursed cannot be reversed: the disbursement goes first)."""

from __future__ import annotations

from ledger import fields
from ledger.decision import Decision
from ledger.domain.common import month, spec, worker_ref
from ledger.domain.money import programme_of
from ledger.domain.workers import existing_worker
from ledger.entry import LogEntry
from ledger.errors import InvalidInput, NotFound, RuleViolation
from ledger.event_types import EventType, register

REASON_CODES = ("duplicate", "wrong_amount", "wrong_party", "wrong_worker", "data_entry_error", "other")
REFERENCES = {  # what each reversible type names, and who may reverse it
    "pledge.made": ({"pledge": fields.identifier}, "company"),
    "donation.received": ({"receipt": fields.identifier}, "baznas"),
    "amil.set_aside": ({"receipt": fields.identifier}, "baznas"),
    "disbursement.made": ({"disbursement": fields.identifier}, "baznas"),
    "premium.paid": ({"worker": worker_ref, "month": month}, "bpjs"),
    "worker.enrolled": ({"worker": worker_ref}, "bpjs"),
}


def _check_payload(payload: dict, where: str) -> None:
    fields.check_payload(payload, where, {
        "programme": fields.identifier, "entry": fields.integer(0, 2**48), "reverses":
        fields.one_of(*REFERENCES), "reference": lambda v, f: v, "reason_code": fields.one_of(*REASON_CODES),
        "note": fields.text(500)})
    reference = payload["reference"]
    if not isinstance(reference, dict):
        raise InvalidInput("must be an object", field=f"{where}.reference")
    fields.check_payload(reference, f"{where}.reference", REFERENCES[payload["reverses"]][0])


def _same(index: int, recorded_by: str, entry: LogEntry) -> None:
    if index != entry.payload["entry"]:
        raise RuleViolation(f"the {entry.payload['reverses']} event named is entry {index}", field="payload.entry")
    if recorded_by != entry.actor:
        raise RuleViolation(f"entry {index} was signed by {recorded_by}; only its author may reverse it",
                            field="payload.entry")


def _reverse(decision: Decision, entry: LogEntry) -> None:
    kind, reference = entry.payload["reverses"], entry.payload["reference"]
    if kind == "premium.paid":
        _reverse_premium(decision, entry)
        return
    if kind == "worker.enrolled":
        worker = _referenced_worker(decision, entry)
        _same(worker.enrolled_at, worker.enrolled_by, entry)
        if any(not paid.reversed for paid in worker.paid.values()):
            raise RuleViolation("premiums were paid for this worker; reverse them first", field="payload.entry")
        worker.record(entry)
        return
    programme = programme_of(decision, entry)
    if kind == "pledge.made":
        pledge = programme.pledges.get(reference["pledge"])
        _exists(pledge, "pledge")
        _same(pledge.made_at, pledge.company, entry)
        if pledge.received_rupiah:
            raise RuleViolation("money was received against this pledge; reverse the receipts first",
                                field="payload.entry")
        if pledge.cancelled or pledge.amended:
            raise RuleViolation("the pledge was amended or cancelled since; correct it with pledge.amended",
                                field="payload.entry")
    elif kind in ("donation.received", "amil.set_aside"):
        receipt = programme.receipts.get(reference["receipt"])
        _exists(receipt, "receipt")
        if kind == "donation.received":
            _same(receipt.made_at, receipt.recorded_by, entry)
            if receipt.drawn_rupiah or receipt.amil_rupiah:
                raise RuleViolation("the receipt was disbursed or had amil set aside; reverse those first",
                                    field="payload.entry")
            if receipt.pledge and programme.pledges[receipt.pledge].cancelled:
                raise RuleViolation("the receipt's pledge was cancelled since; its books would not balance",
                                    field="payload.entry")
        elif entry.payload["entry"] not in receipt.amil_entries or receipt.recorded_by != entry.actor:
            raise RuleViolation("that entry is not an amil share of this receipt by you", field="payload.entry")
    elif kind == "disbursement.made":
        disbursement = programme.disbursements.get(reference["disbursement"])
        _exists(disbursement, "disbursement")
        _same(disbursement.made_at, disbursement.recorded_by, entry)
        if disbursement.charged_rupiah:
            raise RuleViolation("premiums were charged to this disbursement; refund them first",
                                field="payload.entry")
    programme.record(entry)


def _exists(state: object, what: str) -> None:
    if state is None or getattr(state, "reversed", False):
        raise NotFound(f"no such {what}, or it was reversed already", field=f"payload.reference.{what}")


def _reverse_premium(decision: Decision, entry: LogEntry) -> None:
    header = decision.scratch.get("premium_header")
    if header is None or not header["refund"]:
        raise InvalidInput("premium reversals follow a premium.refund header in the same submission",
                           field="payload.reverses")
    worker = _referenced_worker(decision, entry)
    paid = worker.paid.get(entry.payload["reference"]["month"])
    if paid is None or paid.reversed:
        raise NotFound("no premium for that worker and month, or it was reversed already",
                       field="payload.reference.month")
    _same(paid.index, paid.recorded_by, entry)
    if paid.disbursement != header["payload"]["disbursement"]:
        raise RuleViolation("the premium was charged to another disbursement than the refund's",
                            field="payload.reference")
    header["lines"] += 1
    header["total_rupiah"] += paid.amount_rupiah
    worker.record(entry)


class _EntryView:
    """An entry whose payload also carries the reference's worker, for the worker lookup."""

    def __init__(self, entry: LogEntry):
        self.payload = {**entry.payload, "worker": entry.payload["reference"]["worker"]}


def _with_worker(entry: LogEntry) -> _EntryView:
    return _EntryView(entry)


def _referenced_worker(decision: Decision, entry: LogEntry):
    try:
        return existing_worker(decision, _with_worker(entry))
    except NotFound as error:
        raise NotFound(error.detail, field="payload.reference.worker") from error


register(EventType("entry.reversed", frozenset({"company", "baznas", "bpjs"}), _check_payload, _reverse,
                   "Reverses one of the actor's own earlier events, with a reason code."))
