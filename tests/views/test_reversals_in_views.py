"""Every kind of reversal the rules allow, as the views show it, on SQLite and PostgreSQL: a
claim's payment and approval undone step by step, a refunded premium, a reversed enrolment,
pledge, amil share, receipt and disbursement; and the views built entry by entry equal a rebuild."""

from __future__ import annotations

from sqlalchemy import select

from ledger.domain.reversals import REVERSAL_RULES
from projections import tables as t
from projections.runner import ProjectionRunner
from tests.domain.conftest import worker_state
from tests.domain.test_claims_and_reversals import (  # noqa: F401
    JAN_TO_MAY, MAJU, SINAR, approve, file, funded, pay_claim, pay_months, refund,
)
from tests.niks import nik


def _row(runner: ProjectionRunner, table, *where) -> dict:
    with runner.engine.connect() as connection:
        return dict(connection.execute(select(table).where(*where)).one()._mapping)


def _claim(runner: ProjectionRunner) -> tuple:
    row = _row(runner, t.claims, t.claims.c.claim == "jkm-1")
    return (row["status"], row["amount_rupiah"], row["paid_on"], row["deadline_on"] is not None,
            row["approved_index"] is not None, row["paid_index"] is not None, row["fatal"])


def test_each_reversal_shows_in_the_views_and_a_rebuild_equals_them(funded):
    p = funded
    runner = ProjectionRunner(p.ledger, batch_size=5)
    driver = p.enrol(nik(100), enrolled_on="2025-01-10")
    pay_months(p, driver, JAN_TO_MAY)
    file(p, "jkm-1", driver, "jkm", "2025-05-14")
    approval = approve(p, "jkm-1", driver, "jkm", 42_000_000)
    payment = pay_claim(p, "jkm-1", driver, "jkm", 42_000_000)
    runner.run()
    assert _claim(runner) == ("paid", 42_000_000, "2025-05-20", True, True, True, True)
    reference = {"benefit": "jkm", "claim": "jkm-1", "worker": driver}
    p.reverse(p.bpjs, payment["first_index"], "claim.paid", reference)
    runner.run()
    assert _claim(runner) == ("approved", 42_000_000, None, True, True, False, True)
    p.reverse(p.bpjs, approval["first_index"], "claim.approved", reference)
    runner.run()
    assert _claim(runner) == ("filed", None, None, False, False, False, True)

    worker = p.enrol(nik(800))
    enrolled_at = worker_state(p.ledger, worker).memberships["sertakan-jakut-2025"].enrolled_at
    paid = p.pay("b-800", "ds-1", "2025-03", [worker])
    refund(p, "r-800", "ds-1", [(paid["first_index"] + 1, worker, "2025-03")], 16_800)
    p.reverse(p.bpjs, enrolled_at, "worker.enrolled", {"worker": worker}, "wrong_worker")
    pledge = p.pledge(SINAR, "pl-2", 5_000_000)
    p.reverse(p.companies[SINAR], pledge["first_index"], "pledge.made", {"pledge": "pl-2"})
    share = p.amil("rc-2", SINAR, 1_000_000)
    p.reverse(p.baznas, share["first_index"], "amil.set_aside", {"receipt": "rc-2"}, "wrong_amount")
    made = p.disburse("ds-2", [("rc-2", SINAR, 16_800)])
    p.reverse(p.baznas, made["first_index"], "disbursement.made", {"disbursement": "ds-2"})
    receipt = p.receive(MAJU, "rc-3", 1_000_000, "pl-1")
    p.reverse(p.baznas, receipt["first_index"], "donation.received", {"receipt": "rc-3"}, "wrong_amount")
    runner.run()

    assert _row(runner, t.premiums, t.premiums.c.entry_index == paid["first_index"] + 1)["reversed"]
    assert _row(runner, t.workers, t.workers.c.worker == worker)["reversed"]
    assert _row(runner, t.pledges, t.pledges.c.pledge == "pl-2")["reversed"]
    assert _row(runner, t.amil, t.amil.c.entry_index == share["first_index"])["reversed"]
    assert _row(runner, t.disbursements, t.disbursements.c.disbursement == "ds-2")["reversed"]
    assert _row(runner, t.receipts, t.receipts.c.receipt == "rc-3")["reversed"]
    receipt_2 = _row(runner, t.receipts, t.receipts.c.receipt == "rc-2")
    assert (receipt_2["amil_rupiah"], receipt_2["drawn_rupiah"]) == (0, 0)
    assert _row(runner, t.pledges, t.pledges.c.pledge == "pl-1")["received_rupiah"] == 60_000_000
    with runner.engine.connect() as connection:  # a reversal posts its original's postings negated
        postings = connection.execute(select(t.postings.c.account, t.postings.c.amount_rupiah).where(
            t.postings.c.entry_index.in_([receipt["first_index"], receipt["first_index"] + 1]))).all()
    assert sum(amount for _, amount in postings) == 0 and len(postings) == 8

    reversed_kinds = {entry.payload["reverses"] for _, leaf in p.ledger.entries(0, p.ledger.size())
                      for entry in [_parse(leaf)] if entry.type == "entry.reversed"}
    assert reversed_kinds == set(REVERSAL_RULES)
    incremental = runner.dump()
    runner.rebuild()
    assert runner.dump() == incremental
    runner.close()


def _parse(leaf: bytes):
    from ledger.entry import parse_stored_entry

    return parse_stored_entry(leaf)


def test_a_premium_paid_and_reversed_leaves_the_same_views_in_one_batch_as_entry_by_entry(funded):
    """The rollups (view_company_months, view_company_reach, view_funded_ranges) move a line's
    counts when a refund batch reverses it: a line paid and reversed inside one batch of the runner leaves
    the same rows as when the runner meets the payment and the refund in separate batches."""
    p = funded
    workers = [p.enrol(nik(900 + n), category="ojek_online" if n % 2 else "dasawisma") for n in range(5)]
    paid = p.pay("b-900", "ds-1", "2025-03", workers)
    p.pay("b-901", "ds-1", "2025-04", workers[:3])
    refunded = [(paid["first_index"] + 1 + n, workers[n], "2025-03") for n in (1, 3, 4)]  # every ojek driver of March
    refund(p, "r-900", "ds-1", refunded, 3 * 16_800)
    runner = ProjectionRunner(p.ledger, batch_size=1)
    runner.run()
    entry_by_entry = runner.dump()
    runner.rebuild()  # the whole history in one batch
    assert runner.dump() == entry_by_entry
    with runner.engine.connect() as connection:
        months = connection.execute(select(t.company_months)).all()
        ranges = connection.execute(select(t.funded_ranges)).all()
    march = [row._mapping for row in months if row._mapping["month"] == "2025-03"]
    assert sum(row["live_lines"] for row in march) == 2  # five paid, three reversed by the refund batch
    assert sum(row["funded_rupiah"] for row in march) == 2 * 16_800
    assert ranges, "the funded runs are kept"
    runner.close()
