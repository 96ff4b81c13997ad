"""What could not have happened is refused: cover bought after the event, premiums after a
death, arrears beyond three months, dates out of order or in the future, a JKM benefit of Rp1,
one person covered twice for a month. Given events, when a command, then events or a refusal
that stores nothing; the offline verifier replays the same rules and agrees."""

from __future__ import annotations

import pytest

from ledger import payloads
from ledger.domain.rates import default_rules
from ledger.errors import AlreadyExists, InvalidInput, NotFound, RuleViolation
from tests.kernel import kernel_world  # noqa: F401
from tests.domain.conftest import (
    PROGRAMME, assert_refused, balances, claim_state, programme_state, worker_state,
)
from tests.niks import nik


@pytest.fixture
def world(kernel_world):
    """These rules run in memory, through the writer's rule code (tests/kernel.py)."""
    return kernel_world

MAJU, SINAR = "pt-maju-bersama", "pt-sinar-laut"
BPJS = "bpjs-kelapa-gading"


@pytest.fixture
def funded(programme):
    """Two companies' money at Baznas, Rp1,008,000 (60 worker-months) disbursed on 1 March
    from both, pro rata."""
    p = programme
    p.pledge(MAJU, "pl-1", 100_000_000)
    p.receive(MAJU, "rc-1", 60_000_000, "pl-1")
    p.receive(SINAR, "rc-2", 40_000_000)
    p.disburse("ds-1", [("rc-1", MAJU, 504_000), ("rc-2", SINAR, 504_000)])
    return p


def file_claim(p, claim, worker, benefit, incident, filed=None, **extra):
    return p.submit(p.bpjs, "claim.filed", payloads.claim(PROGRAMME, claim, worker, benefit, incident_on=incident,
                                                          filed_on=filed or incident, **extra))


def approve(p, claim, worker, benefit, amount, complete, approved=None):
    payload = payloads.approval(PROGRAMME, claim, worker, benefit, amount, approved or complete, complete)
    return p.submit(p.bpjs, "claim.approved", payload)


def pay_claim(p, claim, worker, benefit, amount, paid_on):
    return p.submit(p.bpjs, "claim.paid", payloads.claim(PROGRAMME, claim, worker, benefit,
                                                         amount_rupiah=amount, paid_on=paid_on))


@pytest.fixture
def driver(funded):
    """Enrolled 10 January; January to June paid on the first of each month (March's money)."""
    reference = funded.enrol(nik(1), enrolled_on="2025-01-10")
    for month in ("2025-03", "2025-04", "2025-05", "2025-06"):
        funded.pay(f"b-{month}", "ds-1", month, [reference])
    return reference


# ---- cover is paid before it protects -------------------------------------------------------

def test_a_claim_on_cover_paid_after_the_incident_is_refused(funded):
    worker = funded.enrol(nik(2), enrolled_on="2025-01-10")
    funded.pay("b-mar", "ds-1", "2025-03", [worker])
    funded.pay("b-jun", "ds-1", "2025-06", [worker], paid_on="2025-06-28")  # after the death on 14 June
    error = assert_refused(funded.ledger, RuleViolation, "payload.incident_on",
                           lambda: file_claim(funded, "jkm-1", worker, "jkm", "2025-06-14", "2025-06-16"))
    assert "2025-06-28" in str(error) and "after the incident" in str(error)


def test_a_premium_paid_on_the_incident_day_covers_it(funded):
    worker = funded.enrol(nik(3), enrolled_on="2025-01-10")
    funded.pay("b-mar", "ds-1", "2025-03", [worker])
    funded.pay("b-jun", "ds-1", "2025-06", [worker], paid_on="2025-06-14")
    file_claim(funded, "jkk-1", worker, "jkk", "2025-06-14")
    assert claim_state(funded.ledger, "jkk", worker, "jkk-1").status == "filed"


def test_the_premium_records_the_day_it_was_paid(funded, driver):
    paid = worker_state(funded.ledger, driver).paid["2025-06"]
    assert paid.paid_on == "2025-06-01"
    lines = payloads.premium_batch(PROGRAMME, "b-x", "ds-1", "2025-07", [funded.workers[driver]], paid_on="2025-07-01")
    lines[1] = ("premium.paid", {**lines[1][1], "paid_on": "2025-06-30"})
    assert_refused(funded.ledger, RuleViolation, "payload.paid_on", lambda: funded.batch(funded.bpjs, lines))


# ---- death ends membership ------------------------------------------------------------------

def test_no_premium_for_a_month_after_the_death(funded, driver):
    file_claim(funded, "jkm-1", driver, "jkm", "2025-06-14", "2025-06-16")
    assert_refused(funded.ledger, RuleViolation, "payload.month",
                   lambda: funded.pay("b-jul", "ds-1", "2025-07", [driver], paid_on="2025-07-01"))
    assert worker_state(funded.ledger, driver).died_on == "2025-06-14"


def test_an_advance_premium_for_a_month_after_the_death_is_refunded_to_its_funders(funded, driver):
    funded.pay("b-jul", "ds-1", "2025-07", [driver], paid_on="2025-06-10")  # July paid in advance
    file_claim(funded, "jkm-1", driver, "jkm", "2025-06-14", "2025-06-16")
    paid = worker_state(funded.ledger, driver).paid["2025-07"]
    before = balances(funded.ledger)
    refund = lambda month, entry, funders, amount=16_800: funded.submit(  # noqa: E731
        funded.bpjs, "premium.refunded", payloads.refund(PROGRAMME, driver, month, entry, amount, "2025-06-20", funders))
    june = worker_state(funded.ledger, driver).paid["2025-06"]
    assert_refused(funded.ledger, RuleViolation, "payload.month",
                   lambda: refund("2025-06", june.index, [("rc-1", MAJU, 16_800)]))
    assert_refused(funded.ledger, RuleViolation, "payload.funders",
                   lambda: refund("2025-07", paid.index, [("rc-2", SINAR, 16_800)]))
    assert_refused(funded.ledger, RuleViolation, "payload.amount_rupiah",
                   lambda: refund("2025-07", paid.index, [("rc-1", MAJU, 16_000)], 16_000))
    # ds-1 draws half from each company, so a one-line batch is split between them
    refund("2025-07", paid.index, [("rc-1", MAJU, 8_400), ("rc-2", SINAR, 8_400)])
    after = balances(funded.ledger)
    assert after[f"baznas:restricted:{MAJU}"] == before[f"baznas:restricted:{MAJU}"] + 8_400
    assert after[f"baznas:restricted:{SINAR}"] == before[f"baznas:restricted:{SINAR}"] + 8_400
    assert after["coverage:premiums"] == before["coverage:premiums"] - 16_800
    assert not worker_state(funded.ledger, driver).covered("2025-07")
    assert_refused(funded.ledger, NotFound, "payload.month",
                   lambda: refund("2025-07", paid.index, [("rc-1", MAJU, 16_800)]))


def test_a_premium_is_not_refunded_while_the_worker_lives(funded, driver):
    funded.pay("b-jul", "ds-1", "2025-07", [driver], paid_on="2025-06-10")
    paid = worker_state(funded.ledger, driver).paid["2025-07"]
    assert_refused(funded.ledger, RuleViolation, "payload.month", lambda: funded.submit(
        funded.bpjs, "premium.refunded", payloads.refund(PROGRAMME, driver, "2025-07", paid.index, 16_800,
                                                         "2025-06-20", [("rc-1", MAJU, 16_800)])))


def test_one_death_pays_one_benefit(funded, driver):
    file_claim(funded, "jkm-1", driver, "jkm", "2025-06-14", "2025-06-16")
    assert_refused(funded.ledger, AlreadyExists, "payload.claim", lambda: file_claim(
        funded, "jkk-9", driver, "jkk", "2025-06-14", "2025-06-16", fatal=True))
    assert_refused(funded.ledger, RuleViolation, "payload.incident_on",
                   lambda: file_claim(funded, "jkk-2", driver, "jkk", "2025-06-20"))  # an accident after death
    assert_refused(funded.ledger, InvalidInput, "payload.fatal", lambda: file_claim(
        funded, "jkm-2", driver, "jkm", "2025-06-14", fatal=True))


def test_a_fatal_work_accident_is_a_death_too(funded, driver):
    file_claim(funded, "jkk-1", driver, "jkk", "2025-06-14", fatal=True)
    assert worker_state(funded.ledger, driver).died_on == "2025-06-14"
    assert_refused(funded.ledger, AlreadyExists, "payload.claim",
                   lambda: file_claim(funded, "jkm-1", driver, "jkm", "2025-06-14"))
    assert_refused(funded.ledger, RuleViolation, "payload.month",
                   lambda: funded.pay("b-jul", "ds-1", "2025-07", [driver], paid_on="2025-07-01"))


# ---- arrears, lapse and the length of membership --------------------------------------------

def test_at_most_three_months_of_arrears_are_paid(funded):
    worker = funded.enrol(nik(4), enrolled_on="2025-01-10")
    funded.pay("b-mar", "ds-1", "2025-03", [worker], paid_on="2025-03-10")
    assert_refused(funded.ledger, RuleViolation, "payload.month",
                   lambda: funded.pay("b-feb", "ds-1", "2025-02", [worker], paid_on="2025-12-01"))
    assert_refused(funded.ledger, RuleViolation, "payload.month",
                   lambda: funded.pay("b-apr", "ds-1", "2025-04", [worker], paid_on="2025-08-01"))
    funded.pay("b-apr", "ds-1", "2025-04", [worker], paid_on="2025-07-31")  # three months behind


def test_after_more_than_three_unpaid_months_the_membership_ends_and_a_new_enrolment_restores_it(funded):
    worker = funded.enrol(nik(5), enrolled_on="2025-01-10")
    funded.pay("b-mar", "ds-1", "2025-03", [worker])
    assert_refused(funded.ledger, RuleViolation, "payload.month",
                   lambda: funded.pay("b-aug", "ds-1", "2025-08", [worker]))  # April to July unpaid
    assert_refused(funded.ledger, AlreadyExists, "payload.worker",
                   lambda: funded.enrol(nik(5), enrolled_on="2025-03-20"))  # still a member in March
    funded.enrol(nik(5), enrolled_on="2025-08-05")
    funded.pay("b-aug", "ds-1", "2025-08", [worker])
    membership = worker_state(funded.ledger, worker).memberships[PROGRAMME]
    assert membership.enrolled_on == membership.member_since == "2025-08-05"


def test_no_new_enrolment_after_death(funded, driver):
    file_claim(funded, "jkm-1", driver, "jkm", "2025-06-14")
    assert_refused(funded.ledger, RuleViolation, "payload.worker",
                   lambda: funded.enrol(nik(1), enrolled_on="2025-11-01"))


def test_an_earlier_membership_is_declared_with_its_reference(funded):
    enrol = lambda **extra: funded.submit(funded.bpjs, "worker.enrolled", {  # noqa: E731
        **payloads.enrolment(PROGRAMME, "b" * 64, "ojek_online", "Kelapa Gading Barat", "2025-03-20"), **extra})
    assert_refused(funded.ledger, InvalidInput, "payload.member_since_reference",
                   lambda: enrol(member_since="2024-06-01"))
    assert_refused(funded.ledger, RuleViolation, "payload.member_since",
                   lambda: enrol(member_since="2025-04-01", member_since_reference="KPJ-2025"))


# ---- dates in order, none in the future -----------------------------------------------------

def test_claim_dates_run_filed_complete_approved_paid(funded, driver):
    file_claim(funded, "jkm-1", driver, "jkm", "2025-06-14", "2025-06-16")
    assert_refused(funded.ledger, RuleViolation, "payload.complete_on",
                   lambda: approve(funded, "jkm-1", driver, "jkm", 42_000_000, "2025-06-15"))
    assert_refused(funded.ledger, RuleViolation, "payload.approved_on",
                   lambda: approve(funded, "jkm-1", driver, "jkm", 42_000_000, "2025-06-17", approved="2025-06-16"))
    approve(funded, "jkm-1", driver, "jkm", 42_000_000, "2025-06-17", approved="2025-06-18")
    assert_refused(funded.ledger, RuleViolation, "payload.paid_on",
                   lambda: pay_claim(funded, "jkm-1", driver, "jkm", 42_000_000, "2025-06-17"))
    pay_claim(funded, "jkm-1", driver, "jkm", 42_000_000, "2025-06-19")


def test_an_incident_before_the_enrolment_is_refused(funded):
    worker = funded.enrol(nik(6), enrolled_on="2025-03-20")
    funded.pay("b-mar", "ds-1", "2025-03", [worker])
    assert_refused(funded.ledger, RuleViolation, "payload.incident_on",
                   lambda: file_claim(funded, "jkk-1", worker, "jkk", "2025-03-10"))


def test_an_acknowledgement_comes_after_the_disbursement(funded):
    ack = lambda day: funded.submit(funded.bpjs, "disbursement.acknowledged", {  # noqa: E731
        "programme": PROGRAMME, "disbursement": "ds-1", "amount_rupiah": 1_008_000, "received_on": day})
    assert_refused(funded.ledger, RuleViolation, "payload.received_on", lambda: ack("2025-02-28"))
    ack("2025-03-01")


def test_dates_in_the_future_are_refused(funded):
    assert_refused(funded.ledger, RuleViolation, "payload.received_on", lambda: funded.submit(
        funded.baznas, "donation.received", payloads.receipt(PROGRAMME, "rc-9", MAJU, 1_000, "2030-01-01")))
    assert_refused(funded.ledger, RuleViolation, "occurred_at", lambda: funded.submit(
        funded.baznas, "donation.received", payloads.receipt(PROGRAMME, "rc-9", MAJU, 1_000, "2025-03-01"),
        "2030-01-01T00:00:00Z"))


def test_premium_months_and_enrolments_stay_inside_the_programme_year(funded):
    worker = funded.enrol(nik(7), enrolled_on="2025-01-10")
    assert_refused(funded.ledger, RuleViolation, "payload.month",
                   lambda: funded.pay("b-next", "ds-1", "2026-02", [worker], paid_on="2025-12-20"))
    assert_refused(funded.ledger, RuleViolation, "payload.enrolled_on",
                   lambda: funded.enrol(nik(8), enrolled_on="2026-01-05"))


def test_a_disbursement_cannot_spend_money_before_it_was_received(funded):
    funded.receive(SINAR, "rc-late", 5_000_000)  # received 3 February
    assert_refused(funded.ledger, RuleViolation, "payload.made_on", lambda: funded.submit(
        funded.baznas, "disbursement.made", payloads.disbursement(
            PROGRAMME, "ds-early", BPJS, "2025-01", "2025-01-31", [("rc-late", SINAR, 16_800)])))


# ---- statutory tables are data, not programme choices ---------------------------------------

def test_a_programme_cannot_set_a_jkm_benefit_of_one_rupiah(programme):
    rules = default_rules()
    rules["benefits"]["jkm_full_rupiah"] = 1
    assert_refused(programme.ledger, RuleViolation, "payload.rules.benefits.jkm_full_rupiah",
                   lambda: programme.submit(programme.city, "programme.opened",
                                            payloads.programme_opened("cheap-2025", 2025, rules=rules)))
    rules = default_rules()
    rules["rates"][0]["jkm_rupiah"] = 6_000
    assert_refused(programme.ledger, RuleViolation, "payload.rules.rates", lambda: programme.submit(
        programme.city, "programme.opened", payloads.programme_opened("cheap-2025", 2025, rules=rules)))
    rules = default_rules()
    rules["statutory_table"] = "made-up"
    assert_refused(programme.ledger, RuleViolation, "payload.rules.statutory_table", lambda: programme.submit(
        programme.city, "programme.opened", payloads.programme_opened("cheap-2025", 2025, rules=rules)))


# ---- several programmes and years -----------------------------------------------------------

def test_one_person_is_never_covered_twice_for_a_month(funded):
    p, second = funded, "sertakan-jakut-2025-b"
    worker = p.enrol(nik(9), enrolled_on="2025-01-10")
    p.pay("b-mar", "ds-1", "2025-03", [worker])
    p.submit(p.city, "programme.opened", payloads.programme_opened(second, 2025, name="SERTAKAN B"))
    p.submit(p.baznas, "donation.received", payloads.receipt(second, "rc-b", MAJU, 1_000_000, "2025-02-03"))
    p.submit(p.baznas, "disbursement.made", payloads.disbursement(second, "ds-b", BPJS, "2025-03", "2025-03-01",
                                                                  [("rc-b", MAJU, 33_600)]))
    p.submit(p.bpjs, "worker.enrolled", payloads.enrolment(second, worker, "ojek_online", "Tugu Utara", "2025-02-01"))
    lines = payloads.premium_batch(second, "b-b-mar", "ds-b", "2025-03", [p.workers[worker]], paid_on="2025-03-02")
    error = assert_refused(p.ledger, AlreadyExists, "payload.month", lambda: p.batch(p.bpjs, lines))
    assert PROGRAMME in str(error)
    p.batch(p.bpjs, payloads.premium_batch(second, "b-b-apr", "ds-b", "2025-04", [p.workers[worker]],
                                           paid_on="2025-04-01"))
    state = worker_state(p.ledger, worker)
    assert state.paid["2025-03"].programme == PROGRAMME and state.paid["2025-04"].programme == second


def test_a_2025_worker_enrols_in_the_2026_programme(funded):
    p, year = funded, "sertakan-jakut-2026"
    worker = p.enrol(nik(10), enrolled_on="2025-01-10")
    p.submit(p.city, "programme.opened", payloads.programme_opened(year, 2026), "2026-01-02T08:00:00Z")
    p.submit(p.bpjs, "worker.enrolled", payloads.enrolment(year, worker, "ojek_online", "Tugu Utara", "2026-01-05",
                                                           member_since="2025-01-10",
                                                           member_since_reference="SERTAKAN 2025"))
    assert set(worker_state(p.ledger, worker).memberships) == {PROGRAMME, year}


# ---- corrections of claims ------------------------------------------------------------------

def test_bpjs_reverses_a_claim_payment_and_an_approval(funded, driver):
    file_claim(funded, "jkm-1", driver, "jkm", "2025-06-14", "2025-06-16")
    approved = approve(funded, "jkm-1", driver, "jkm", 42_000_000, "2025-06-17")
    paid = pay_claim(funded, "jkm-1", driver, "jkm", 42_000_000, "2025-06-19")
    reference = {"benefit": "jkm", "claim": "jkm-1", "worker": driver}
    assert_refused(funded.ledger, RuleViolation, "payload.reference.claim", lambda: funded.reverse(
        funded.bpjs, approved["first_index"], "claim.approved", reference))
    funded.reverse(funded.bpjs, paid["first_index"], "claim.paid", reference, "wrong_amount")
    assert claim_state(funded.ledger, "jkm", driver, "jkm-1").status == "approved"
    assert balances(funded.ledger)["claims:paid:jkm"] == 0
    funded.reverse(funded.bpjs, approved["first_index"], "claim.approved", reference, "wrong_amount")
    assert claim_state(funded.ledger, "jkm", driver, "jkm-1").status == "filed"
    approve(funded, "jkm-1", driver, "jkm", 42_000_000, "2025-06-20")


# ---- invited companies ----------------------------------------------------------------------

def test_the_city_invites_registered_companies_once(funded):
    invite = lambda company, signer=None: funded.submit(  # noqa: E731
        signer or funded.city, "company.invited", payloads.invitation(PROGRAMME, company, "2025-01-20"))
    invite(MAJU)
    assert_refused(funded.ledger, AlreadyExists, "payload.company", lambda: invite(MAJU))
    assert_refused(funded.ledger, RuleViolation, "payload.company", lambda: invite("baznas-jakarta-utara"))
    assert_refused(funded.ledger, NotFound, "payload.company", lambda: invite("pt-tidak-ada"))
    assert programme_state(funded.ledger).invited == {MAJU: "2025-01-20"}


def test_only_the_bpjs_that_decided_a_claim_reverses_it(funded, driver):
    file_claim(funded, "jkm-1", driver, "jkm", "2025-06-14", "2025-06-16")
    approve(funded, "jkm-1", driver, "jkm", 42_000_000, "2025-06-17")
    paid = pay_claim(funded, "jkm-1", driver, "jkm", 42_000_000, "2025-06-19")
    reference = {"benefit": "jkm", "claim": "jkm-1", "worker": driver}
    for signer in (funded.companies[MAJU], funded.baznas, funded.world.register("bpjs-lain", "bpjs")):
        assert_refused(funded.ledger, RuleViolation, "payload.entry", lambda: funded.reverse(
            signer, paid["first_index"], "claim.paid", reference))
    assert claim_state(funded.ledger, "jkm", driver, "jkm-1").status == "paid"
