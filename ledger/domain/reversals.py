"""Corrections: a new signed event reverses one of the actor's own earlier events, once, with
a reason code. History is never edited. A reversal that would break a rule is refused (a
receipt already disbursed cannot be reversed: the disbursement goes first)."""

from __future__ import annotations

from ledger import fields
from ledger.decision import Decision
from ledger.domain.batch_work import lines_of
from ledger.domain.common import dated, month, worker_ref
from ledger.domain.money import programme_of
from ledger.domain.claims import find_claim
from ledger.domain.workers import find_worker
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
    "claim.approved": ({"benefit": fields.one_of("jkm", "jkk"), "claim": fields.identifier, "worker": worker_ref},
                       "bpjs"),
    "claim.paid": ({"benefit": fields.one_of("jkm", "jkk"), "claim": fields.identifier, "worker": worker_ref},
                   "bpjs"),
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
    REVERSAL_RULES[entry.payload["reverses"]](decision, entry)


def _reverse_enrolment(decision: Decision, entry: LogEntry) -> None:
    worker = _referenced_worker(decision, entry)
    membership = worker.membership(entry.payload["programme"])
    _same(membership.enrolled_at, membership.enrolled_by, entry)
    if any(paid.live and paid.programme == membership.programme for paid in worker.paid.values()):
        raise RuleViolation("premiums were paid for this worker; reverse them first", field="payload.entry")
    decision.record(worker, entry)


def _reverse_pledge(decision: Decision, entry: LogEntry) -> None:
    programme = programme_of(decision, entry)
    pledge = programme.pledges.get(entry.payload["reference"]["pledge"])
    _exists(pledge, "pledge")
    _same(pledge.made_at, pledge.company, entry)
    if pledge.received_rupiah:
        raise RuleViolation("money was received against this pledge; reverse the receipts first",
                            field="payload.entry")
    if pledge.cancelled or pledge.amended:
        raise RuleViolation("the pledge was amended or cancelled since; correct it with pledge.amended",
                            field="payload.entry")
    decision.record(programme, entry)


def _reverse_receipt(decision: Decision, entry: LogEntry) -> None:
    programme = programme_of(decision, entry)
    receipt = programme.receipts.get(entry.payload["reference"]["receipt"])
    _exists(receipt, "receipt")
    _same(receipt.made_at, receipt.recorded_by, entry)
    if receipt.drawn_rupiah or receipt.amil_rupiah:
        raise RuleViolation("the receipt was disbursed or had amil set aside; reverse those first",
                            field="payload.entry")
    if receipt.pledge and programme.pledges[receipt.pledge].cancelled:
        raise RuleViolation("the receipt's pledge was cancelled since; its books would not balance",
                            field="payload.entry")
    decision.record(programme, entry)


def _reverse_amil(decision: Decision, entry: LogEntry) -> None:
    programme = programme_of(decision, entry)
    receipt = programme.receipts.get(entry.payload["reference"]["receipt"])
    _exists(receipt, "receipt")
    if entry.payload["entry"] not in receipt.amil_entries or receipt.recorded_by != entry.actor:
        raise RuleViolation("that entry is not an amil share of this receipt by you", field="payload.entry")
    decision.record(programme, entry)


def _reverse_disbursement(decision: Decision, entry: LogEntry) -> None:
    programme = programme_of(decision, entry)
    disbursement = programme.disbursements.get(entry.payload["reference"]["disbursement"])
    _exists(disbursement, "disbursement")
    _same(disbursement.made_at, disbursement.recorded_by, entry)
    if disbursement.charged_rupiah:
        raise RuleViolation("premiums were charged to this disbursement; refund them first",
                            field="payload.entry")
    decision.record(programme, entry)


def _exists(state: object, what: str) -> None:
    if state is None or getattr(state, "reversed", False):
        raise NotFound(f"no such {what}, or it was reversed already", field=f"payload.reference.{what}")


def _reverse_premium(decision: Decision, entry: LogEntry) -> None:
    work = lines_of(decision.premium_batch, None, True,
                    "premium reversals follow a premium.refund header in the same submission", "payload.reverses")
    worker = _referenced_worker(decision, entry)
    paid = worker.paid.get(entry.payload["reference"]["month"])
    if paid is None or not paid.live or paid.programme != entry.payload["programme"]:
        raise NotFound("no standing premium for that worker and month in this programme (reversed or "
                       "refunded already?)", field="payload.reference.month")
    _same(paid.index, paid.recorded_by, entry)
    if paid.disbursement != work.disbursement:
        raise RuleViolation("the premium was charged to another disbursement than the refund's",
                            field="payload.reference")
    work.add_line(paid.amount_rupiah)
    decision.record(worker, entry)


def _reverse_claim(decision: Decision, entry: LogEntry) -> None:
    """BPJS corrects an approval (back to filed) or a payment (back to approved)."""
    kind = entry.payload["reverses"]
    reference = {**entry.payload["reference"], "programme": entry.payload["programme"]}
    holder, claim = find_claim(decision, reference, "payload.reference.claim")
    status, index = ("paid", claim.paid_at) if kind == "claim.paid" else ("approved", claim.approved_at)
    if claim.status != status:
        raise RuleViolation(f"the claim is {claim.status}, not {status}", field="payload.reference.claim")
    _same(index, claim.decided_by, entry)
    decision.record(holder, entry)


def _referenced_worker(decision: Decision, entry: LogEntry):
    worker = find_worker(decision, entry.payload["reference"]["worker"], "payload.reference.worker")
    membership = worker.membership(entry.payload["programme"])
    if membership is None or membership.reversed:
        raise NotFound(f"worker is not enrolled in {entry.payload['programme']}", field="payload.reference.worker")
    return worker


# The rule for reversing each reversible type; the state each undoes is in the aggregates' reversal
# tables (programme._REVERSALS, workers._WORKER_REVERSALS, claims_state.CLAIM_REVERSALS).
REVERSAL_RULES = {
    "pledge.made": _reverse_pledge,
    "donation.received": _reverse_receipt,
    "amil.set_aside": _reverse_amil,
    "disbursement.made": _reverse_disbursement,
    "premium.paid": _reverse_premium,
    "worker.enrolled": _reverse_enrolment,
    "claim.approved": _reverse_claim,
    "claim.paid": _reverse_claim,
}
assert set(REVERSAL_RULES) == set(REFERENCES)

register(EventType("entry.reversed", frozenset({"company", "baznas", "bpjs"}), _check_payload, dated(_reverse),
                   "Reverses one of the actor's own earlier events, with a reason code."))
