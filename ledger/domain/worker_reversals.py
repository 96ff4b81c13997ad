"""Reversals of a worker's events: an enrolment (while no premium stands for it) and a premium
line (under a `premium.refund` header, charged back to its disbursement). The workers' and
premiums' own rules are in workers.py and premiums.py."""

from __future__ import annotations

from ledger.decision import Decision
from ledger.domain.batch_work import lines_of
from ledger.domain.common import month, worker_ref
from ledger.domain.reversals import reversal_rule, same_author
from ledger.domain.workers import find_worker
from ledger.entry import LogEntry
from ledger.errors import NotFound, RuleViolation
from ledger.payload_types import payload_type, required


@payload_type
class PremiumReference:
    worker: str = required(worker_ref)
    month: str = required(month)


@payload_type
class WorkerReference:
    worker: str = required(worker_ref)


def _referenced_worker(decision: Decision, entry: LogEntry):
    reversal = entry.values
    worker = find_worker(decision, reversal.reference.worker, "payload.reference.worker")
    membership = worker.membership(reversal.programme)
    if membership is None or membership.reversed:
        raise NotFound(f"worker is not enrolled in {reversal.programme}", field="payload.reference.worker")
    return worker


@reversal_rule("premium.paid", PremiumReference, "bpjs")
def _reverse_premium(decision: Decision, entry: LogEntry) -> None:
    reversal = entry.values
    work = lines_of(decision.premium_batch, None, True,
                    "premium reversals follow a premium.refund header in the same submission", "payload.reverses")
    worker = _referenced_worker(decision, entry)
    paid = worker.paid.get(reversal.reference.month)
    if paid is None or not paid.live or paid.programme != reversal.programme:
        raise NotFound("no standing premium for that worker and month in this programme (reversed or "
                       "refunded already?)", field="payload.reference.month")
    same_author(paid.index, paid.recorded_by, entry)
    if paid.disbursement != work.disbursement:
        raise RuleViolation("the premium was charged to another disbursement than the refund's",
                            field="payload.reference")
    work.add_line(paid.amount_rupiah)
    decision.record(worker, entry)


@reversal_rule("worker.enrolled", WorkerReference, "bpjs")
def _reverse_enrolment(decision: Decision, entry: LogEntry) -> None:
    worker = _referenced_worker(decision, entry)
    membership = worker.membership(entry.values.programme)
    same_author(membership.enrolled_at, membership.enrolled_by, entry)
    if any(paid.live and paid.programme == membership.programme for paid in worker.paid.values()):
        raise RuleViolation("premiums were paid for this worker; reverse them first", field="payload.entry")
    decision.record(worker, entry)
