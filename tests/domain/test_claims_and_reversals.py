"""Claims (the Rp42,000,000 JKM of the ojek driver who died; Rp10,000,000 under three paid months;
JKK up to the bound), coverage and membership, and reversals that never edit history."""

from __future__ import annotations

import pytest
from eventsourcing.application import AggregateNotFoundError

from ledger import payloads, personal
from ledger.domain.claims import Claim, claim_uuid
from ledger.domain.workers import Worker, worker_uuid
from ledger.errors import AlreadyExists, InvalidInput, NotFound, RuleViolation
from tests.kernel import kernel_world  # noqa: F401
from tests.domain.conftest import (
    PROGRAMME, assert_refused, assert_refused_as_one_of, attempt, balances, programme_state,
)
from tests.niks import nik


@pytest.fixture
def world(kernel_world):
    """These rules run in memory, through the writer's rule code (tests/kernel.py)."""
    return kernel_world

MAJU, SINAR = "pt-maju-bersama", "pt-sinar-laut"
JAN_TO_MAY = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05"]


@pytest.fixture
def funded(programme):
    programme.pledge(MAJU, "pl-1", 100_000_000)
    programme.receive(MAJU, "rc-1", 60_000_000, "pl-1")
    programme.receive(SINAR, "rc-2", 40_000_000)
    programme.disburse("ds-1", [("rc-1", MAJU, 1_008_000)])  # 60 worker-months at Rp16,800
    return programme


def pay_months(p, worker: str, months: list[str]) -> list[dict]:
    return [p.pay(f"b-{worker[:8]}-{month}", "ds-1", month, [worker]) for month in months]


def file(p, claim, worker, benefit, incident, filed=None, personal=None):
    document = p.bpjs.one(p.key("claim"), "claim.filed", "2025-06-01T08:00:00Z", payloads.claim(
        PROGRAMME, claim, worker, benefit, incident_on=incident, filed_on=filed or incident))
    if personal:
        document["personal"] = {"0": personal}
    return p.ledger.submit(document)


def approve(p, claim, worker, benefit, amount, complete="2025-05-16", deadline=None):
    payload = payloads.approval(PROGRAMME, claim, worker, benefit, amount, complete, complete)
    if deadline:
        payload["deadline_on"] = deadline
    return p.submit(p.bpjs, "claim.approved", payload)


def pay_claim(p, claim, worker, benefit, amount, paid_on="2025-05-20"):
    return p.submit(p.bpjs, "claim.paid", payloads.claim(PROGRAMME, claim, worker, benefit,
                                                         amount_rupiah=amount, paid_on=paid_on))


def claim_of(p, benefit, worker, claim):
    """The claim's state: a JKK injury claim is its own aggregate, a death claim is the worker's."""
    if benefit == "jkk":
        try:
            loaded = p.ledger.repository.get(claim_uuid(claim))
            assert isinstance(loaded, Claim)
            return loaded.state
        except AggregateNotFoundError:
            pass
    state = worker_state(p, worker).death_claim
    assert state is not None and state.claim_id == claim
    return state


# ---- JKM: the Rp42,000,000 ------------------------------------------------------------------

@pytest.fixture
def driver(funded):
    """An ojek driver enrolled in January, premiums January to May paid, who died on 14 May."""
    reference = funded.enrol(nik(100), enrolled_on="2025-01-10")
    pay_months(funded, reference, JAN_TO_MAY)
    return reference


def test_the_heir_of_a_driver_with_five_paid_months_receives_42_million(funded, driver):
    p = funded
    file(p, "jkm-1", driver, "jkm", "2025-05-14", "2025-05-15",
         personal={"name": "Ahli Waris", "relationship": "spouse", "phone": "0812 3456 7890"})
    assert claim_of(p, "jkm", driver, "jkm-1").status == "filed"
    assert p.ledger.personal_data("heir:jkm-1")["relationship"] == "spouse"
    assert_refused(p.ledger, RuleViolation, "payload.claim", lambda: pay_claim(p, "jkm-1", driver, "jkm", 42_000_000))
    assert_refused(p.ledger, RuleViolation, "payload.amount_rupiah",
                   lambda: approve(p, "jkm-1", driver, "jkm", 10_000_000))
    approve(p, "jkm-1", driver, "jkm", 42_000_000, complete="2025-05-16")  # a Friday
    claim = claim_of(p, "jkm", driver, "jkm-1")
    assert (claim.status, claim.approved_rupiah, claim.deadline_on) == ("approved", 42_000_000, "2025-05-21")
    assert_refused(p.ledger, RuleViolation, "payload.amount_rupiah",
                   lambda: pay_claim(p, "jkm-1", driver, "jkm", 41_999_999))
    assert_refused(p.ledger, RuleViolation, "payload.amount_rupiah",
                   lambda: pay_claim(p, "jkm-1", driver, "jkm", 42_000_001))
    assert_refused(p.ledger, RuleViolation, "payload.paid_on",
                   lambda: pay_claim(p, "jkm-1", driver, "jkm", 42_000_000, paid_on="2025-05-15"))
    pay_claim(p, "jkm-1", driver, "jkm", 42_000_000, paid_on="2025-05-21")
    claim = claim_of(p, "jkm", driver, "jkm-1")
    assert claim.status == "paid" and claim.paid_on == "2025-05-21" and not claim.paid_late
    totals = balances(p.ledger)
    assert totals["claims:paid:jkm"] == 42_000_000 and totals["bpjs:insurance_fund"] == -42_000_000
    assert_refused(p.ledger, RuleViolation, "payload.claim", lambda: pay_claim(p, "jkm-1", driver, "jkm", 42_000_000))


def test_a_jkm_paid_after_the_deadline_is_accepted_but_marked_late(funded, driver):
    file(funded, "jkm-1", driver, "jkm", "2025-05-14")
    approve(funded, "jkm-1", driver, "jkm", 42_000_000, complete="2025-05-16")
    pay_claim(funded, "jkm-1", driver, "jkm", 42_000_000, paid_on="2025-05-22")
    claim = claim_of(funded, "jkm", driver, "jkm-1")
    assert claim.status == "paid" and claim.paid_late


def test_a_worker_with_two_paid_months_gets_10_million(funded):
    newcomer = funded.enrol(nik(200), enrolled_on="2025-04-01")
    pay_months(funded, newcomer, ["2025-04", "2025-05"])
    file(funded, "jkm-2", newcomer, "jkm", "2025-05-20")
    assert_refused(funded.ledger, RuleViolation, "payload.amount_rupiah",
                   lambda: approve(funded, "jkm-2", newcomer, "jkm", 42_000_000, complete="2025-05-21"))
    approve(funded, "jkm-2", newcomer, "jkm", 10_000_000, complete="2025-05-21")
    pay_claim(funded, "jkm-2", newcomer, "jkm", 10_000_000, paid_on="2025-05-26")
    assert balances(funded.ledger)["claims:paid:jkm"] == 10_000_000


def test_the_benefit_follows_the_length_of_membership_not_the_premiums_paid(funded):
    """Enrolled 20 March, died 25 May: three paid months, but not three months of membership."""
    worker = funded.enrol(nik(300), enrolled_on="2025-03-20")
    pay_months(funded, worker, ["2025-03", "2025-04", "2025-05"])
    file(funded, "jkm-3", worker, "jkm", "2025-05-25")
    assert_refused(funded.ledger, RuleViolation, "payload.amount_rupiah",
                   lambda: approve(funded, "jkm-3", worker, "jkm", 42_000_000, complete="2025-05-27"))
    approve(funded, "jkm-3", worker, "jkm", 10_000_000, complete="2025-05-27")


def test_a_membership_that_began_before_the_programme_counts_from_its_start(funded):
    reference = personal.new_worker_reference()
    funded.submit(funded.bpjs, "worker.enrolled", payloads.enrolment(
        PROGRAMME, reference, "ojek_online", "Kelapa Gading Barat", "2025-03-20", member_since="2024-06-01",
        member_since_reference="KPJ-letter-2024-118"))
    funded.workers[reference] = {"worker": reference, "income_rupiah": 1_000_000, "category": "ojek_online",
                                 "jht": False, "enrolled_on": "2025-03-20"}
    pay_months(funded, reference, ["2025-03", "2025-04", "2025-05"])
    file(funded, "jkm-4", reference, "jkm", "2025-05-25")
    approve(funded, "jkm-4", reference, "jkm", 42_000_000, complete="2025-05-27")


def test_no_claim_for_an_incident_in_an_unpaid_month(funded, driver):
    assert_refused(funded.ledger, RuleViolation, "payload.incident_on",
                   lambda: file(funded, "jkm-1", driver, "jkm", "2025-06-02"))
    assert_refused(funded.ledger, RuleViolation, "payload.incident_on",
                   lambda: file(funded, "jkk-1", driver, "jkk", "2024-12-31"))


def test_a_claim_is_filed_after_its_incident(funded, driver):
    assert_refused(funded.ledger, RuleViolation, "payload.filed_on",
                   lambda: file(funded, "jkk-1", driver, "jkk", "2025-05-14", filed="2025-05-13"))


def test_a_claim_for_an_unknown_worker_is_not_found(funded):
    assert_refused(funded.ledger, NotFound, "payload.worker",
                   lambda: file(funded, "jkk-1", "c" * 64, "jkk", "2025-05-14"))


def test_one_jkm_claim_per_worker(funded, driver):
    file(funded, "jkm-1", driver, "jkm", "2025-05-14")
    assert_refused(funded.ledger, AlreadyExists, "payload.claim",
                   lambda: file(funded, "jkm-9", driver, "jkm", "2025-05-14", "2025-05-15"))
    funded.submit(funded.bpjs, "claim.rejected", payloads.claim(
        PROGRAMME, "jkm-1", driver, "jkm", reason="a work accident: JKK pays it", rejected_on="2025-05-20"))
    fatal = payloads.claim(PROGRAMME, "jkk-9", driver, "jkk", incident_on="2025-05-14", filed_on="2025-05-21",
                           fatal=True)
    funded.submit(funded.bpjs, "claim.filed", fatal)  # the rejected JKM is no longer a standing death
    assert_refused(funded.ledger, AlreadyExists, "payload.claim",
                   lambda: file(funded, "jkm-9", driver, "jkm", "2025-05-14", "2025-05-21"))


def test_the_payment_deadline_is_three_working_days_for_jkm(funded, driver):
    file(funded, "jkm-1", driver, "jkm", "2025-05-14")
    for wrong in ("2025-05-19", "2025-05-20", "2025-05-22"):  # calendar days, one short, one long
        assert_refused(funded.ledger, RuleViolation, "payload.deadline_on", lambda: approve(
            funded, "jkm-1", driver, "jkm", 42_000_000, complete="2025-05-16", deadline=wrong))
    approve(funded, "jkm-1", driver, "jkm", 42_000_000, complete="2025-05-16", deadline="2025-05-21")


# ---- JKK ------------------------------------------------------------------------------------

def test_jkk_is_approved_up_to_the_bound_with_seven_working_days(funded, driver):
    file(funded, "jkk-1", driver, "jkk", "2025-03-07")
    assert_refused(funded.ledger, RuleViolation, "payload.amount_rupiah", lambda: approve(
        funded, "jkk-1", driver, "jkk", 1_000_000_001, complete="2025-03-14"))
    assert_refused(funded.ledger, RuleViolation, "payload.deadline_on", lambda: approve(
        funded, "jkk-1", driver, "jkk", 1_000_000_000, complete="2025-03-14", deadline="2025-03-19"))
    approve(funded, "jkk-1", driver, "jkk", 1_000_000_000, complete="2025-03-14")  # Friday
    assert claim_of(funded, "jkk", driver, "jkk-1").deadline_on == "2025-03-25"  # Tuesday after next
    pay_claim(funded, "jkk-1", driver, "jkk", 1_000_000_000, paid_on="2025-03-25")
    file(funded, "jkk-2", driver, "jkk", "2025-04-07")  # JKK: one per claim, not one per worker
    approve(funded, "jkk-2", driver, "jkk", 3_500_000, complete="2025-04-08")
    assert balances(funded.ledger)["claims:paid:jkk"] == 1_000_000_000
    assert_refused(funded.ledger, AlreadyExists, "payload.claim",
                   lambda: file(funded, "jkk-2", driver, "jkk", "2025-04-07"))


def test_a_claim_is_rejected_with_a_reason(funded, driver):
    file(funded, "jkk-1", driver, "jkk", "2025-03-07")
    reject = lambda: funded.submit(funded.bpjs, "claim.rejected", payloads.claim(  # noqa: E731
        PROGRAMME, "jkk-1", driver, "jkk", reason="not work related", rejected_on="2025-03-10"))
    reject()
    claim = claim_of(funded, "jkk", driver, "jkk-1")
    assert claim.status == "rejected" and claim.rejection_reason == "not work related"
    assert_refused(funded.ledger, RuleViolation, "payload.claim", reject)
    assert_refused(funded.ledger, RuleViolation, "payload.claim",
                   lambda: approve(funded, "jkk-1", driver, "jkk", 1_000_000, complete="2025-03-14"))
    assert_refused(funded.ledger, NotFound, "payload.claim",
                   lambda: approve(funded, "jkk-9", driver, "jkk", 1_000_000, complete="2025-03-14"))


def test_a_claim_is_approved_and_paid_for_the_worker_who_filed_it(funded, driver):
    """The approval and payment of a JKK claim must name the worker who filed it; naming another
    worker (or a reference nobody holds) would put a benefit on the wrong person's record."""
    other = funded.enrol(nik(400))
    file(funded, "jkk-1", driver, "jkk", "2025-03-07")
    mismatch = ((RuleViolation, NotFound), ("payload.worker", "payload.claim"))
    assert_refused_as_one_of(funded.ledger, *mismatch,
                             lambda: approve(funded, "jkk-1", other, "jkk", 1_000_000, complete="2025-03-14"))
    approve(funded, "jkk-1", driver, "jkk", 1_000_000, complete="2025-03-14")
    assert_refused_as_one_of(funded.ledger, *mismatch,
                             lambda: pay_claim(funded, "jkk-1", "d" * 64, "jkk", 1_000_000, paid_on="2025-03-20"))


# ---- coverage and membership ----------------------------------------------------------------

def worker_state(p, reference) -> Worker:
    loaded = p.ledger.repository.get(worker_uuid(reference))
    assert isinstance(loaded, Worker)
    return loaded


def test_membership_lapses_after_three_unpaid_months_and_resumes_with_payment(funded):
    worker = funded.enrol(nik(500), enrolled_on="2025-01-10")
    pay_months(funded, worker, ["2025-01", "2025-02"])
    state = worker_state(funded, worker)
    limit = programme_state(funded.ledger).rules["membership"]["max_arrears_months"]
    assert limit == 3
    assert not state.active("2024-12", limit)  # before enrolment
    assert state.active("2025-01", limit) and state.covered("2025-02")
    assert state.active("2025-05", limit)  # March and April unpaid: May may still be paid
    assert state.active("2025-06", limit)  # March to May unpaid: three months of arrears at most
    assert not state.active("2025-07", limit)  # March to June unpaid: the membership ended
    pay_months(funded, worker, ["2025-06"])
    state = worker_state(funded, worker)
    assert state.active("2025-06", limit) and not state.covered("2025-05")
    assert state.active("2025-10", limit) and not state.active("2025-11", limit)


def test_a_new_worker_is_active_before_the_first_payment(funded):
    worker = funded.enrol(nik(501), enrolled_on="2025-03-01")
    state = worker_state(funded, worker)
    assert state.active("2025-03", 3) and state.active("2025-06", 3) and not state.active("2025-07", 3)


# ---- reversals ------------------------------------------------------------------------------

def test_an_undrawn_receipt_is_reversed_and_the_pledge_is_owed_again(funded):
    p = funded
    made = p.receive(MAJU, "rc-3", 30_000_000, "pl-1")
    assert programme_state(p.ledger).pledges["pl-1"].received_rupiah == 90_000_000
    before = balances(p.ledger)
    p.reverse(p.baznas, made["first_index"], "donation.received", {"receipt": "rc-3"}, "wrong_amount")
    after = balances(p.ledger)
    assert after[f"baznas:restricted:{MAJU}"] == before[f"baznas:restricted:{MAJU}"] - 30_000_000
    assert after[f"donations:{MAJU}"] == before[f"donations:{MAJU}"] + 30_000_000
    assert after[f"pledge:outstanding:{MAJU}"] == before[f"pledge:outstanding:{MAJU}"] + 30_000_000
    pledge = programme_state(p.ledger).pledges["pl-1"]
    assert pledge.received_rupiah == 60_000_000 and pledge.outstanding_rupiah == 40_000_000
    assert_refused(p.ledger, NotFound, "payload.sources[0].receipt", lambda: p.disburse("ds-2", [("rc-3", MAJU, 1)]))
    assert_refused(p.ledger, AlreadyExists, "payload.receipt", lambda: p.receive(MAJU, "rc-3", 3_000_000, "pl-1"))
    p.receive(MAJU, "rc-4", 40_000_000, "pl-1")


def test_a_disbursed_receipt_is_reversed_only_after_its_disbursement(funded):
    p = funded
    receipt = p.receive(SINAR, "rc-3", 5_000_000)
    made = p.disburse("ds-2", [("rc-3", SINAR, 1_000_000)])
    reverse_receipt = lambda: p.reverse(p.baznas, receipt["first_index"], "donation.received",  # noqa: E731
                                        {"receipt": "rc-3"}, "duplicate")
    assert_refused(p.ledger, RuleViolation, "payload.entry", reverse_receipt)
    assert_refused(p.ledger, RuleViolation, "payload.entry", lambda: p.reverse(
        p.baznas, made["first_index"] - 1, "disbursement.made", {"disbursement": "ds-2"}))
    p.reverse(p.baznas, made["first_index"], "disbursement.made", {"disbursement": "ds-2"})
    assert balances(p.ledger)["bpjs:premium_fund"] == 1_008_000  # only ds-1 is left
    worker = p.enrol(nik(101))
    assert_refused(p.ledger, NotFound, "payload.disbursement", lambda: p.pay("b-1", "ds-2", "2025-03", [worker]))
    reverse_receipt()
    totals = balances(p.ledger)
    assert totals[f"baznas:restricted:{SINAR}"] == 40_000_000 and totals[f"donations:{SINAR}"] == -40_000_000


def test_only_the_author_may_reverse_an_event(funded):
    p = funded
    pledge = p.pledge(SINAR, "pl-2", 10_000_000)
    receipt = p.receive(SINAR, "rc-3", 5_000_000)
    assert_refused(p.ledger, RuleViolation, "payload.entry", lambda: p.reverse(
        p.companies[MAJU], pledge["first_index"], "pledge.made", {"pledge": "pl-2"}))
    assert_refused(p.ledger, RuleViolation, "payload.entry", lambda: p.reverse(
        p.companies[SINAR], receipt["first_index"], "donation.received", {"receipt": "rc-3"}))
    assert_refused(p.ledger, RuleViolation, "payload.entry", lambda: p.reverse(
        p.bpjs, receipt["first_index"], "donation.received", {"receipt": "rc-3"}))
    other_baznas = p.world.register("baznas-dki", "baznas")
    assert_refused(p.ledger, RuleViolation, "payload.entry", lambda: p.reverse(
        other_baznas, receipt["first_index"], "donation.received", {"receipt": "rc-3"}))
    p.reverse(p.companies[SINAR], pledge["first_index"], "pledge.made", {"pledge": "pl-2"})
    assert balances(p.ledger).get(f"pledge:outstanding:{SINAR}", 0) == 0


def test_a_pledge_with_receipts_is_not_reversed(funded):
    first = next(index for index, leaf in funded.ledger.entries(0, 50) if b'"type":"pledge.made"' in leaf)
    assert_refused(funded.ledger, RuleViolation, "payload.entry", lambda: funded.reverse(
        funded.companies[MAJU], first, "pledge.made", {"pledge": "pl-1"}))


def test_an_event_is_reversed_once(funded):
    p = funded
    receipt = p.receive(SINAR, "rc-3", 5_000_000)
    p.reverse(p.baznas, receipt["first_index"], "donation.received", {"receipt": "rc-3"})
    assert_refused(p.ledger, NotFound, "payload.reference.receipt", lambda: p.reverse(
        p.baznas, receipt["first_index"], "donation.received", {"receipt": "rc-3"}))
    made = p.disburse("ds-2", [("rc-2", SINAR, 1_000)])
    p.reverse(p.baznas, made["first_index"], "disbursement.made", {"disbursement": "ds-2"})
    assert_refused(p.ledger, NotFound, "payload.reference.disbursement", lambda: p.reverse(
        p.baznas, made["first_index"], "disbursement.made", {"disbursement": "ds-2"}))
    assert balances(p.ledger)[f"baznas:restricted:{SINAR}"] == 40_000_000


def test_a_reversed_amil_share_frees_the_cap_and_the_money(funded):
    p = funded
    share = p.amil("rc-2", SINAR, 8_000_000)
    assert_refused(p.ledger, RuleViolation, "payload.amount_rupiah", lambda: p.amil("rc-2", SINAR, 1))
    assert_refused(p.ledger, RuleViolation, "payload.sources[0].amount_rupiah",
                   lambda: p.disburse("ds-2", [("rc-2", SINAR, 32_000_001)]))
    p.reverse(p.baznas, share["first_index"], "amil.set_aside", {"receipt": "rc-2"}, "wrong_amount")
    assert balances(p.ledger)["baznas:amil"] == 0
    assert_refused(p.ledger, RuleViolation, "payload.entry", lambda: p.reverse(
        p.baznas, share["first_index"], "amil.set_aside", {"receipt": "rc-2"}))
    p.amil("rc-2", SINAR, 2_000_000)
    p.disburse("ds-2", [("rc-2", SINAR, 38_000_000)])
    totals = balances(p.ledger)
    assert totals["baznas:amil"] == 2_000_000 and totals[f"baznas:restricted:{SINAR}"] == 0


def refund(p, batch_id, disbursement, lines: list[tuple[int, str, str]], total, count=None):
    """A premium.refund header and one entry.reversed per (entry, worker, month)."""
    events = [("premium.refund", {"programme": PROGRAMME, "batch": batch_id, "disbursement": disbursement,
                                  "lines": len(lines) if count is None else count, "total_rupiah": total})]
    events += [("entry.reversed", {"programme": PROGRAMME, "entry": entry, "reverses": "premium.paid",
                                   "reference": {"worker": worker, "month": month},
                                   "reason_code": "wrong_worker", "note": "paid for the wrong person"})
               for entry, worker, month in lines]
    return p.batch(p.bpjs, events)


def test_a_premium_is_reversed_by_a_refund_batch_and_can_be_paid_again(funded):
    p = funded
    workers = [p.enrol(nik(600 + n)) for n in range(2)]
    paid = p.pay("b-1", "ds-1", "2025-03", workers)
    first_line = paid["first_index"] + 1
    remaining = programme_state(p.ledger).disbursements["ds-1"].remaining_rupiah
    assert remaining == 1_008_000 - 33_600
    # a bare reversal, without its refund header, is refused
    assert_refused(p.ledger, InvalidInput, "payload.reverses", lambda: p.reverse(
        p.bpjs, first_line, "premium.paid", {"worker": workers[0], "month": "2025-03"}))
    assert_refused(p.ledger, RuleViolation, "envelopes[0].payload",
                   lambda: refund(p, "r-1", "ds-1", [(first_line, workers[0], "2025-03")], 16_801))
    assert_refused(p.ledger, RuleViolation, "payload.entry",
                   lambda: refund(p, "r-1", "ds-1", [(first_line + 1, workers[0], "2025-03")], 16_800))
    assert_refused(p.ledger, NotFound, "payload.reference.month",
                   lambda: refund(p, "r-1", "ds-1", [(first_line, workers[0], "2025-04")], 16_800))
    refund(p, "r-1", "ds-1", [(first_line, workers[0], "2025-03")], 16_800)
    assert programme_state(p.ledger).disbursements["ds-1"].remaining_rupiah == remaining + 16_800
    assert not worker_state(p, workers[0]).covered("2025-03") and worker_state(p, workers[1]).covered("2025-03")
    totals = balances(p.ledger)
    assert totals["coverage:premiums"] == 16_800 and totals["bpjs:premium_fund"] == 1_008_000 - 16_800
    assert_refused(p.ledger, NotFound, "payload.reference.month",
                   lambda: refund(p, "r-2", "ds-1", [(first_line, workers[0], "2025-03")], 16_800))
    p.pay("b-2", "ds-1", "2025-03", [workers[0]])
    assert worker_state(p, workers[0]).covered("2025-03")
    assert balances(p.ledger)["coverage:premiums"] == 33_600


def test_a_refund_cannot_exceed_what_was_charged(funded):
    p = funded
    worker = p.enrol(nik(700))
    paid = p.pay("b-1", "ds-1", "2025-03", [worker])
    assert_refused(p.ledger, RuleViolation, "payload.total_rupiah",
                   lambda: refund(p, "r-1", "ds-1", [(paid["first_index"] + 1, worker, "2025-03")], 16_801))


def test_a_disbursement_with_premiums_is_reversed_only_after_they_are_refunded(funded):
    p = funded
    worker = p.enrol(nik(710))
    made = p.disburse("ds-2", [("rc-2", SINAR, 16_800)])
    paid = p.pay("b-1", "ds-2", "2025-03", [worker])
    reverse = lambda: p.reverse(p.baznas, made["first_index"], "disbursement.made", {"disbursement": "ds-2"})  # noqa: E731
    assert_refused(p.ledger, RuleViolation, "payload.entry", reverse)
    refund(p, "r-1", "ds-2", [(paid["first_index"] + 1, worker, "2025-03")], 16_800)
    reverse()
    assert programme_state(p.ledger).receipts["rc-2"].available_rupiah == 40_000_000


def test_an_enrolment_with_premiums_is_not_reversed(funded):
    p = funded
    worker = p.enrol(nik(800))
    enrolled_at = worker_state(p, worker).memberships[PROGRAMME].enrolled_at
    paid = p.pay("b-1", "ds-1", "2025-03", [worker])
    reverse = lambda: p.reverse(p.bpjs, enrolled_at, "worker.enrolled", {"worker": worker}, "wrong_worker")  # noqa: E731
    assert_refused(p.ledger, RuleViolation, "payload.entry", reverse)
    refund(p, "r-1", "ds-1", [(paid["first_index"] + 1, worker, "2025-03")], 16_800)
    reverse()
    assert worker_state(p, worker).memberships[PROGRAMME].reversed
    assert_refused(p.ledger, NotFound, "payload.worker", lambda: p.pay("b-2", "ds-1", "2025-04", [worker]))


def test_a_nik_whose_enrolment_was_reversed_can_be_enrolled_again(funded):
    """A reversed enrolment is not an active membership: when BPJS keyed the wrong NIK and
    reversed it, the person that NIK belongs to must still be able to join later. Today the
    NIK stays 'enrolled already' for ever."""
    p = funded
    worker = p.enrol(nik(910))
    p.reverse(p.bpjs, worker_state(p, worker).memberships[PROGRAMME].enrolled_at, "worker.enrolled", {"worker": worker}, "wrong_worker")
    p.enrol(nik(910), category="dasawisma", enrolled_on="2025-04-01")
    p.pay("b-1", "ds-1", "2025-04", [worker])
    assert worker_state(p, worker).covered("2025-04")


def test_a_reversed_enrolment_is_not_reversed_again(funded):
    p = funded
    worker = p.enrol(nik(900))
    enrolled_at = worker_state(p, worker).memberships[PROGRAMME].enrolled_at
    p.reverse(p.bpjs, enrolled_at, "worker.enrolled", {"worker": worker}, "duplicate")
    assert_refused(p.ledger, NotFound, "payload.reference.worker", lambda: p.reverse(
        p.bpjs, enrolled_at, "worker.enrolled", {"worker": worker}, "duplicate"))


# ---- pledges: the memorandum accounts must agree with the pledges after any reversal --------

def amend_pledge(p, company, pledge, amount, previous):
    return p.submit(p.companies[company], "pledge.amended", {
        "programme": PROGRAMME, "pledge": pledge, "amount_rupiah": amount, "previous_rupiah": previous,
        "reason": "board decision"})


def cancel_pledge(p, company, pledge, outstanding):
    return p.submit(p.companies[company], "pledge.cancelled", {
        "programme": PROGRAMME, "pledge": pledge, "outstanding_rupiah": outstanding, "reason": "budget cut"})


def assert_pledges_agree_with_the_books(p, company=MAJU):
    """The log verifies, and pledge:outstanding is what the pledges say is still owed."""
    owed = sum(pledge.outstanding_rupiah for pledge in programme_state(p.ledger).pledges.values()
               if pledge.company == company)
    assert balances(p.ledger).get(f"pledge:outstanding:{company}", 0) == owed


def test_a_pledge_reversed_before_any_receipt_owes_nothing(funded):
    made = funded.pledge(SINAR, "pl-2", 10_000_000)
    funded.reverse(funded.companies[SINAR], made["first_index"], "pledge.made", {"pledge": "pl-2"}, "duplicate")
    assert_pledges_agree_with_the_books(funded, SINAR)
    assert balances(funded.ledger)[f"pledge:outstanding:{SINAR}"] == 0


def test_reversing_a_cancelled_pledge_keeps_the_log_verifiable(funded):
    """pl-2 is cancelled (its Rp10m outstanding posted back), then its pledge.made is reversed:
    the write path accepts it today and posts the Rp10m back a second time, so the ledger's own
    verifier fails the database: pledge:outstanding:pt-sinar-laut goes below zero."""
    made = funded.pledge(SINAR, "pl-2", 10_000_000)
    cancel_pledge(funded, SINAR, "pl-2", 10_000_000)
    attempt(funded.ledger, lambda: funded.reverse(funded.companies[SINAR], made["first_index"], "pledge.made",
                                                  {"pledge": "pl-2"}, "duplicate"))
    assert_pledges_agree_with_the_books(funded, SINAR)


def test_reversing_an_amended_pledge_leaves_nothing_outstanding(funded):
    """pl-2 made at Rp10m, amended to Rp12m, then reversed: reversing only the Rp10m of the
    original leaves a phantom Rp2m outstanding on a pledge that no longer exists."""
    made = funded.pledge(SINAR, "pl-2", 10_000_000)
    amend_pledge(funded, SINAR, "pl-2", 12_000_000, 10_000_000)
    attempt(funded.ledger, lambda: funded.reverse(funded.companies[SINAR], made["first_index"], "pledge.made",
                                                  {"pledge": "pl-2"}, "wrong_amount"))
    assert_pledges_agree_with_the_books(funded, SINAR)


def test_reversing_a_receipt_of_a_cancelled_pledge_leaves_nothing_outstanding(funded):
    """Rp15m of a Rp20m pledge received, the remaining Rp5m cancelled, then the Rp15m receipt
    reversed: the pledge is cancelled and owes nothing, yet pledge:outstanding shows Rp15m
    that no receipt or cancellation can ever clear."""
    funded.pledge(SINAR, "pl-2", 20_000_000)
    receipt = funded.receive(SINAR, "rc-3", 15_000_000, "pl-2")
    cancel_pledge(funded, SINAR, "pl-2", 5_000_000)
    assert_pledges_agree_with_the_books(funded, SINAR)
    attempt(funded.ledger, lambda: funded.reverse(funded.baznas, receipt["first_index"], "donation.received",
                                                  {"receipt": "rc-3"}, "wrong_party"))
    assert_pledges_agree_with_the_books(funded, SINAR)
