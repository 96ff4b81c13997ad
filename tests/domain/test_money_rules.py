"""The money rules, given events / when a command / then events or a named error.

Every refusal names its exact error class and field and leaves the log and the latest checkpoint
as they were. Real numbers: Rp16,800 a month (JKK Rp10,000 + JKM Rp6,800), Rp36,800 with JHT,
a 20% amil cap for infak and sedekah and 12.5% for zakat."""

from __future__ import annotations

import pytest

from ledger import payloads
from ledger.domain.workers import Worker, worker_uuid
from ledger.errors import AlreadyExists, InvalidInput, NotFound, NotPermitted, RuleViolation
from ledger.personal import new_worker_reference
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
BPJS = "bpjs-kelapa-gading"


@pytest.fixture
def funded(programme):
    """Maju pledged Rp100m and paid Rp60m of it; Sinar Laut gave Rp40m without a pledge."""
    programme.pledge(MAJU, "pl-1", 100_000_000)
    programme.receive(MAJU, "rc-1", 60_000_000, "pl-1")
    programme.receive(SINAR, "rc-2", 40_000_000)
    return programme


# ---- pledges --------------------------------------------------------------------------------

def test_a_pledge_is_made_and_posted_as_outstanding(programme):
    result = programme.pledge(MAJU, "pl-1", 100_000_000)
    assert result["count"] == 1
    assert balances(programme.ledger)[f"pledge:outstanding:{MAJU}"] == 100_000_000
    pledge = programme_state(programme.ledger).pledges["pl-1"]
    assert (pledge.company, pledge.amount_rupiah, pledge.fund_type, pledge.outstanding_rupiah) == (
        MAJU, 100_000_000, "infak", 100_000_000)


def test_a_pledge_id_is_used_once(programme):
    programme.pledge(MAJU, "pl-1", 100_000_000)
    assert_refused(programme.ledger, AlreadyExists, "payload.pledge",
                   lambda: programme.pledge(SINAR, "pl-1", 5_000_000))


def test_a_pledge_in_an_unopened_programme_is_refused(programme):
    assert_refused(programme.ledger, NotFound, "payload.programme", lambda: programme.submit(
        programme.companies[MAJU], "pledge.made", payloads.pledge("sertakan-jakut-2030", "pl-1", 1_000_000)))


def amend(programme, company, amount, previous, pledge="pl-1"):
    return programme.submit(programme.companies[company], "pledge.amended", {
        "programme": PROGRAMME, "pledge": pledge, "amount_rupiah": amount, "previous_rupiah": previous,
        "reason": "board decision"})


def cancel(programme, company, outstanding, pledge="pl-1"):
    return programme.submit(programme.companies[company], "pledge.cancelled", {
        "programme": PROGRAMME, "pledge": pledge, "outstanding_rupiah": outstanding, "reason": "budget cut"})


def test_a_pledge_cannot_be_amended_below_what_was_received(funded):
    assert_refused(funded.ledger, RuleViolation, "payload.amount_rupiah",
                   lambda: amend(funded, MAJU, 59_999_999, 100_000_000))
    amend(funded, MAJU, 60_000_000, 100_000_000)
    assert balances(funded.ledger)[f"pledge:outstanding:{MAJU}"] == 0


def test_an_amendment_must_name_the_amount_it_replaces(funded):
    assert_refused(funded.ledger, RuleViolation, "payload.previous_rupiah",
                   lambda: amend(funded, MAJU, 120_000_000, 90_000_000))
    amend(funded, MAJU, 120_000_000, 100_000_000)
    assert balances(funded.ledger)[f"pledge:outstanding:{MAJU}"] == 60_000_000
    assert_refused(funded.ledger, RuleViolation, "payload.previous_rupiah",
                   lambda: amend(funded, MAJU, 130_000_000, 100_000_000))


def test_a_cancellation_must_name_the_outstanding_amount(funded):
    assert_refused(funded.ledger, RuleViolation, "payload.outstanding_rupiah",
                   lambda: cancel(funded, MAJU, 100_000_000))
    cancel(funded, MAJU, 40_000_000)
    assert balances(funded.ledger)[f"pledge:outstanding:{MAJU}"] == 0
    assert_refused(funded.ledger, RuleViolation, "payload.pledge", lambda: cancel(funded, MAJU, 0))
    assert_refused(funded.ledger, RuleViolation, "payload.pledge",
                   lambda: amend(funded, MAJU, 100_000_000, 100_000_000))
    assert_refused(funded.ledger, RuleViolation, "payload.pledge",
                   lambda: funded.receive(MAJU, "rc-3", 1_000_000, "pl-1"))


def test_only_the_pledging_company_may_amend_or_cancel(funded):
    assert_refused(funded.ledger, RuleViolation, "payload.pledge",
                   lambda: amend(funded, SINAR, 120_000_000, 100_000_000))
    assert_refused(funded.ledger, RuleViolation, "payload.pledge", lambda: cancel(funded, SINAR, 40_000_000))
    assert_refused(funded.ledger, NotPermitted, "envelopes[0].type", lambda: funded.submit(
        funded.baznas, "pledge.cancelled", {"programme": PROGRAMME, "pledge": "pl-1",
                                            "outstanding_rupiah": 40_000_000, "reason": "x"}))


def test_amending_an_unknown_pledge_is_not_found(funded):
    assert_refused(funded.ledger, NotFound, "payload.pledge",
                   lambda: amend(funded, MAJU, 1_000_000, 1_000_000, pledge="pl-9"))


# ---- receipts -------------------------------------------------------------------------------

def test_receipts_against_a_pledge_reduce_what_is_outstanding(funded):
    totals = balances(funded.ledger)
    assert totals[f"pledge:outstanding:{MAJU}"] == 40_000_000
    assert totals[f"baznas:restricted:{MAJU}"] == 60_000_000 and totals[f"donations:{MAJU}"] == -60_000_000
    assert totals[f"baznas:restricted:{SINAR}"] == 40_000_000
    funded.receive(MAJU, "rc-3", 40_000_000, "pl-1")
    assert programme_state(funded.ledger).pledges["pl-1"].outstanding_rupiah == 0


def test_a_receipt_above_the_outstanding_is_refused(funded):
    assert_refused(funded.ledger, RuleViolation, "payload.amount_rupiah",
                   lambda: funded.receive(MAJU, "rc-3", 40_000_001, "pl-1"))
    funded.receive(MAJU, "rc-3", 40_000_000, "pl-1")
    assert_refused(funded.ledger, RuleViolation, "payload.amount_rupiah",
                   lambda: funded.receive(MAJU, "rc-4", 1, "pl-1"))


def test_a_receipt_against_another_companys_pledge_is_refused(funded):
    assert_refused(funded.ledger, RuleViolation, "payload.pledge",
                   lambda: funded.receive(SINAR, "rc-3", 1_000_000, "pl-1"))


def test_a_receipt_against_an_unknown_pledge_is_not_found(funded):
    assert_refused(funded.ledger, NotFound, "payload.pledge",
                   lambda: funded.receive(MAJU, "rc-3", 1_000_000, "pl-9"))


def test_a_receipt_from_an_unregistered_company_is_not_found(funded):
    assert_refused(funded.ledger, NotFound, "payload.company",
                   lambda: funded.receive("pt-tidak-ada", "rc-3", 1_000_000))


@pytest.mark.parametrize("payer", ["baznas-jakarta-utara", BPJS, "pemkot-jakarta-utara"])
def test_a_receipt_must_come_from_a_company(funded, payer):
    assert_refused(funded.ledger, RuleViolation, "payload.company",
                   lambda: funded.receive(payer, "rc-3", 1_000_000))


def test_a_receipt_must_be_of_its_pledges_fund_type(funded):
    funded.submit(funded.companies[SINAR], "pledge.made",
                  payloads.pledge(PROGRAMME, "pl-zakat", 10_000_000, fund_type="zakat"))
    receive = lambda fund: funded.submit(funded.baznas, "donation.received", payloads.receipt(  # noqa: E731
        PROGRAMME, "rc-3", SINAR, 10_000_000, "2025-02-03", "pl-zakat", fund_type=fund))
    assert_refused(funded.ledger, RuleViolation, "payload.fund_type", lambda: receive("infak"))
    assert_refused(funded.ledger, RuleViolation, "payload.fund_type", lambda: receive("sedekah"))
    receive("zakat")
    assert programme_state(funded.ledger).receipts["rc-3"].fund_type == "zakat"


def test_a_receipt_id_is_used_once(funded):
    assert_refused(funded.ledger, AlreadyExists, "payload.receipt", lambda: funded.receive(SINAR, "rc-2", 1_000))
    assert_refused(funded.ledger, AlreadyExists, "payload.receipt", lambda: funded.receive(MAJU, "rc-1", 1_000))


def test_only_baznas_issues_receipts(funded):
    assert_refused(funded.ledger, NotPermitted, "envelopes[0].type", lambda: funded.submit(
        funded.companies[MAJU], "donation.received",
        payloads.receipt(PROGRAMME, "rc-3", MAJU, 1_000_000, "2025-02-03")))


# ---- amil share -----------------------------------------------------------------------------

def test_amil_at_the_twenty_percent_cap_is_accepted_one_rupiah_over_is_not(funded):
    assert_refused(funded.ledger, RuleViolation, "payload.amount_rupiah",
                   lambda: funded.amil("rc-2", SINAR, 8_000_001))
    funded.amil("rc-2", SINAR, 8_000_000)
    totals = balances(funded.ledger)
    assert totals["baznas:amil"] == 8_000_000 and totals[f"baznas:restricted:{SINAR}"] == 32_000_000


def test_cumulative_amil_is_capped(funded):
    funded.amil("rc-1", MAJU, 5_000_000)
    funded.amil("rc-1", MAJU, 6_000_000)
    assert_refused(funded.ledger, RuleViolation, "payload.amount_rupiah", lambda: funded.amil("rc-1", MAJU, 1_000_001))
    funded.amil("rc-1", MAJU, 1_000_000)  # Rp12m: 20% of Rp60m
    assert_refused(funded.ledger, RuleViolation, "payload.amount_rupiah", lambda: funded.amil("rc-1", MAJU, 1))
    assert programme_state(funded.ledger).receipts["rc-1"].amil_rupiah == 12_000_000


def test_zakat_amil_is_capped_at_twelve_and_a_half_percent(funded):
    funded.submit(funded.baznas, "donation.received", payloads.receipt(
        PROGRAMME, "rc-z", SINAR, 40_000_000, "2025-02-03", fund_type="zakat"))
    assert_refused(funded.ledger, RuleViolation, "payload.amount_rupiah", lambda: funded.amil("rc-z", SINAR, 5_000_001))
    funded.amil("rc-z", SINAR, 5_000_000)


def test_sedekah_amil_cap_is_twenty_percent(funded):
    funded.submit(funded.baznas, "donation.received", payloads.receipt(
        PROGRAMME, "rc-s", SINAR, 1_000_001, "2025-02-03", fund_type="sedekah"))
    assert_refused(funded.ledger, RuleViolation, "payload.amount_rupiah", lambda: funded.amil("rc-s", SINAR, 200_001))
    funded.amil("rc-s", SINAR, 200_000)  # 20% of Rp1,000,001 rounded down


def test_amil_cannot_take_what_was_disbursed_already(funded):
    funded.disburse("ds-1", [("rc-2", SINAR, 39_000_000)])
    assert_refused(funded.ledger, RuleViolation, "payload.amount_rupiah", lambda: funded.amil("rc-2", SINAR, 1_000_001))
    funded.amil("rc-2", SINAR, 1_000_000)
    assert programme_state(funded.ledger).receipts["rc-2"].available_rupiah == 0


def test_amil_must_name_the_receipts_company(funded):
    assert_refused(funded.ledger, RuleViolation, "payload.company", lambda: funded.amil("rc-2", MAJU, 1_000))
    assert_refused(funded.ledger, NotFound, "payload.receipt", lambda: funded.amil("rc-9", MAJU, 1_000))


def test_a_programme_with_a_zero_amil_cap_takes_none(programme):
    from ledger.domain.rates import default_rules

    rules = default_rules()
    rules["amil_cap_basis_points"] = {"infak": 0, "sedekah": 0, "zakat": 0}
    programme.submit(programme.city, "programme.opened",
                     payloads.programme_opened("csr-nol-amil", 2025, rules=rules))
    programme.submit(programme.baznas, "donation.received",
                     payloads.receipt("csr-nol-amil", "rc-1", MAJU, 10_000_000, "2025-02-03"))
    assert_refused(programme.ledger, RuleViolation, "payload.amount_rupiah",
                   lambda: programme.amil("rc-1", MAJU, 1, programme_id="csr-nol-amil"))


def test_rules_above_the_legal_amil_cap_cannot_open_a_programme(programme):
    from ledger.domain.rates import default_rules

    rules = default_rules()
    rules["amil_cap_basis_points"]["zakat"] = 1_300
    assert_refused(programme.ledger, InvalidInput, "envelopes[0].payload.rules.amil_cap_basis_points.zakat",
                   lambda: programme.submit(programme.city, "programme.opened",
                                            payloads.programme_opened("sertakan-jakut-2026", 2026, rules=rules)))
    assert_refused(programme.ledger, AlreadyExists, "payload.programme", lambda: programme.submit(
        programme.city, "programme.opened", payloads.programme_opened(PROGRAMME, 2025)))


# ---- disbursements --------------------------------------------------------------------------

def test_a_disbursement_moves_restricted_money_to_the_premium_fund(funded):
    funded.disburse("ds-1", [("rc-1", MAJU, 1_000_000), ("rc-2", SINAR, 500_000)])
    totals = balances(funded.ledger)
    assert totals["bpjs:premium_fund"] == 1_500_000
    assert totals[f"baznas:restricted:{MAJU}"] == 59_000_000
    assert totals[f"baznas:restricted:{SINAR}"] == 39_500_000


def test_the_sources_must_add_up_to_the_amount(funded):
    payload = payloads.disbursement(PROGRAMME, "ds-1", BPJS, "2025-03", "2025-03-01",
                                    [("rc-1", MAJU, 1_000_000), ("rc-2", SINAR, 500_000)])
    payload["amount_rupiah"] = 1_500_001
    assert_refused(funded.ledger, RuleViolation, "payload.sources",
                   lambda: funded.submit(funded.baznas, "disbursement.made", payload))


def test_a_draw_beyond_the_receipts_remainder_after_amil_and_earlier_draws_is_refused(funded):
    funded.amil("rc-2", SINAR, 8_000_000)
    funded.disburse("ds-1", [("rc-2", SINAR, 30_000_000)])
    assert_refused(funded.ledger, RuleViolation, "payload.sources[1].amount_rupiah",
                   lambda: funded.disburse("ds-2", [("rc-1", MAJU, 1_000), ("rc-2", SINAR, 2_000_001)]))
    funded.disburse("ds-2", [("rc-1", MAJU, 1_000), ("rc-2", SINAR, 2_000_000)])
    assert_refused(funded.ledger, RuleViolation, "payload.sources[0].amount_rupiah",
                   lambda: funded.disburse("ds-3", [("rc-2", SINAR, 1)]))


def test_a_disbursement_names_each_receipt_once(funded):
    assert_refused(funded.ledger, InvalidInput, "payload.sources[1].receipt",
                   lambda: funded.disburse("ds-1", [("rc-1", MAJU, 1_000), ("rc-1", MAJU, 2_000)]))


def test_a_disbursement_goes_to_bpjs(funded):
    payload = payloads.disbursement(PROGRAMME, "ds-1", "pemkot-jakarta-utara", "2025-03", "2025-03-01",
                                    [("rc-1", MAJU, 1_000)])
    assert_refused(funded.ledger, RuleViolation, "payload.to",
                   lambda: funded.submit(funded.baznas, "disbursement.made", payload))
    payload["to"] = "bpjs-tidak-ada"
    assert_refused(funded.ledger, NotFound, "payload.to",
                   lambda: funded.submit(funded.baznas, "disbursement.made", payload))


def test_a_source_must_name_its_receipts_company(funded):
    assert_refused(funded.ledger, RuleViolation, "payload.sources[0].company",
                   lambda: funded.disburse("ds-1", [("rc-2", MAJU, 1_000)]))
    assert_refused(funded.ledger, NotFound, "payload.sources[0].receipt",
                   lambda: funded.disburse("ds-1", [("rc-9", MAJU, 1_000)]))


def test_a_disbursement_id_is_used_once(funded):
    funded.disburse("ds-1", [("rc-1", MAJU, 1_000)])
    assert_refused(funded.ledger, AlreadyExists, "payload.disbursement",
                   lambda: funded.disburse("ds-1", [("rc-2", SINAR, 1_000)]))


# ---- acknowledgement ------------------------------------------------------------------------

def acknowledge(programme, signer, amount, disbursement="ds-1"):
    return programme.submit(signer, "disbursement.acknowledged", {
        "programme": PROGRAMME, "disbursement": disbursement, "amount_rupiah": amount,
        "received_on": "2025-03-03"})


def test_only_the_recipient_bpjs_acknowledges_the_exact_amount_once(funded):
    funded.disburse("ds-1", [("rc-1", MAJU, 1_000_000)])
    other_branch = funded.world.register("bpjs-tanjung-priok", "bpjs")
    assert_refused(funded.ledger, RuleViolation, "payload.disbursement",
                   lambda: acknowledge(funded, other_branch, 1_000_000))
    assert_refused(funded.ledger, NotPermitted, "envelopes[0].type",
                   lambda: acknowledge(funded, funded.baznas, 1_000_000))
    assert_refused(funded.ledger, RuleViolation, "payload.amount_rupiah",
                   lambda: acknowledge(funded, funded.bpjs, 999_999))
    assert_refused(funded.ledger, NotFound, "payload.disbursement",
                   lambda: acknowledge(funded, funded.bpjs, 1_000_000, "ds-9"))
    result = acknowledge(funded, funded.bpjs, 1_000_000)
    state = programme_state(funded.ledger).disbursements["ds-1"]
    assert state.acknowledged_at == result["first_index"]
    assert_refused(funded.ledger, AlreadyExists, "payload.disbursement",
                   lambda: acknowledge(funded, funded.bpjs, 1_000_000))


# ---- premiums -------------------------------------------------------------------------------

@pytest.fixture
def covered(funded):
    """Three ojek drivers enrolled in January and Rp100,800 disbursed: six Rp16,800 worker-months."""
    funded.refs = [funded.enrol(nik(n)) for n in range(3)]
    funded.disburse("ds-1", [("rc-1", MAJU, 100_800)])
    return funded


def batch(programme, batch_id, month, references, disbursement="ds-1", programme_id=PROGRAMME):
    workers = [programme.workers[reference] for reference in references]
    return payloads.premium_batch(programme_id, batch_id, disbursement, month, workers,
                                  paid_on=programme.earliest_payment(disbursement, month, workers))


def test_a_premium_batch_is_its_header_then_one_line_per_worker(covered):
    result = covered.pay("b-1", "ds-1", "2025-03", covered.refs)
    assert result["count"] == 4
    entries = covered.ledger.entries(result["first_index"], 4)
    assert b'"type":"premium.batch"' in entries[0][1]
    assert all(b'"type":"premium.paid"' in leaf and b'"amount_rupiah":16800' in leaf for _, leaf in entries[1:])
    totals = balances(covered.ledger)
    assert totals["coverage:premiums"] == 50_400 and totals["bpjs:premium_fund"] == 50_400
    assert programme_state(covered.ledger).disbursements["ds-1"].remaining_rupiah == 50_400
    worker = covered.ledger.repository.get(worker_uuid(covered.refs[0]))
    assert worker.covered("2025-03") and not worker.covered("2025-04")


@pytest.mark.parametrize("name, value, field", [
    ("jkk_rupiah", 9_000, "payload.jkk_rupiah"),
    ("jkm_rupiah", 6_000, "payload.jkm_rupiah"),
    ("jht_rupiah", 20_000, "payload.jht_rupiah"),
])
def test_a_line_must_follow_the_rate_table(covered, name, value, field):
    lines = batch(covered, "b-1", "2025-03", covered.refs)
    header, line = lines[0][1], lines[2][1]
    wrong = {**line, name: value}
    wrong["amount_rupiah"] = wrong["jkk_rupiah"] + wrong["jkm_rupiah"] + wrong["jht_rupiah"]
    lines[2] = ("premium.paid", wrong)
    lines[0] = ("premium.batch", {**header, "total_rupiah": header["total_rupiah"] - line["amount_rupiah"]
                                  + wrong["amount_rupiah"]})
    assert_refused(covered.ledger, RuleViolation, field, lambda: covered.batch(covered.bpjs, lines))


def test_a_line_whose_amount_is_not_its_parts_is_refused(covered):
    lines = batch(covered, "b-1", "2025-03", covered.refs[:1])
    lines[1] = ("premium.paid", {**lines[1][1], "amount_rupiah": 16_000})
    lines[0] = ("premium.batch", {**lines[0][1], "total_rupiah": 16_000})
    assert_refused(covered.ledger, RuleViolation, "payload.amount_rupiah", lambda: covered.batch(covered.bpjs, lines))


def test_a_premium_for_an_unknown_worker_is_not_found(covered):
    stranger = new_worker_reference()
    covered.workers[stranger] = {"worker": stranger, "income_rupiah": 1_000_000, "category": "ojek_online", "jht": False}
    assert_refused(covered.ledger, NotFound, "payload.worker",
                   lambda: covered.pay("b-1", "ds-1", "2025-03", [covered.refs[0], stranger]))


def test_no_premium_for_a_month_before_enrolment(covered):
    late = covered.enrol(nik(50), enrolled_on="2025-04-01")
    assert_refused(covered.ledger, RuleViolation, "payload.month", lambda: covered.pay("b-1", "ds-1", "2025-03", [late]))
    covered.pay("b-1", "ds-1", "2025-04", [late])


def test_one_premium_per_worker_and_month_even_in_a_later_batch(covered):
    covered.pay("b-1", "ds-1", "2025-03", covered.refs[:2])
    assert_refused(covered.ledger, AlreadyExists, "payload.month",
                   lambda: covered.pay("b-2", "ds-1", "2025-03", [covered.refs[2], covered.refs[1]]))
    assert_refused(covered.ledger, AlreadyExists, "payload.month",
                   lambda: covered.pay("b-2", "ds-1", "2025-04", [covered.refs[0], covered.refs[0]]))
    covered.pay("b-2", "ds-1", "2025-03", [covered.refs[2]])


def test_a_batch_id_is_used_once(covered):
    covered.pay("b-1", "ds-1", "2025-03", covered.refs[:1])
    assert_refused(covered.ledger, AlreadyExists, "payload.batch",
                   lambda: covered.pay("b-1", "ds-1", "2025-04", covered.refs[:1]))


def withdraw(programme, reference, on):
    return programme.submit(programme.bpjs, "worker.withdrawn", {
        "programme": PROGRAMME, "worker": reference, "withdrawn_on": on, "reason": "moved away"})


def test_no_premium_after_the_month_a_worker_was_withdrawn(covered):
    worker = covered.refs[0]
    assert_refused(covered.ledger, RuleViolation, "payload.withdrawn_on", lambda: withdraw(covered, worker, "2025-01-14"))
    withdraw(covered, worker, "2025-04-10")
    assert_refused(covered.ledger, RuleViolation, "payload.worker", lambda: withdraw(covered, worker, "2025-04-11"))
    covered.pay("b-1", "ds-1", "2025-04", [worker])  # the month of withdrawal is still paid
    assert_refused(covered.ledger, RuleViolation, "payload.month", lambda: covered.pay("b-2", "ds-1", "2025-05", [worker]))


def test_a_withdrawal_cannot_predate_premiums_already_paid(covered):
    """No premium may stand for a month after the withdrawal month, whichever came first: a
    worker paid for June cannot be withdrawn as of April while June stays paid (refund first)."""
    worker = covered.refs[0]
    covered.pay("b-0", "ds-1", "2025-03", [worker])
    covered.pay("b-1", "ds-1", "2025-06", [worker])
    assert_refused_as_one_of(covered.ledger, (RuleViolation,), ("payload.withdrawn_on", "payload.worker"),
                             lambda: withdraw(covered, worker, "2025-04-10"))
    withdraw(covered, worker, "2025-06-20")


def test_premiums_cannot_exceed_what_is_left_of_the_disbursement(covered):
    covered.pay("b-1", "ds-1", "2025-03", covered.refs)  # Rp50,400 of Rp100,800
    covered.pay("b-2", "ds-1", "2025-04", covered.refs[:2])  # Rp33,600 more: Rp16,800 left
    assert_refused(covered.ledger, RuleViolation, "payload.total_rupiah",
                   lambda: covered.pay("b-3", "ds-1", "2025-05", covered.refs[:2]))
    covered.pay("b-3", "ds-1", "2025-05", covered.refs[:1])
    assert programme_state(covered.ledger).disbursements["ds-1"].remaining_rupiah == 0
    assert balances(covered.ledger)["bpjs:premium_fund"] == 0


def test_the_header_control_totals_must_match_the_lines(covered):
    lines = batch(covered, "b-1", "2025-03", covered.refs)
    header = lines[0][1]
    assert_refused(covered.ledger, RuleViolation, "envelopes[0].payload",
                   lambda: covered.batch(covered.bpjs, lines[:3]))  # says 3 lines, holds 2
    assert_refused(covered.ledger, RuleViolation, "envelopes[0].payload", lambda: covered.batch(
        covered.bpjs, [("premium.batch", {**header, "total_rupiah": 50_401}), *lines[1:]]))


def test_premium_lines_need_their_header_in_the_same_submission(covered):
    lines = batch(covered, "b-1", "2025-03", covered.refs)
    assert_refused(covered.ledger, InvalidInput, "payload.batch", lambda: covered.batch(covered.bpjs, lines[1:]))
    assert_refused(covered.ledger, InvalidInput, "payload.batch",
                   lambda: covered.batch(covered.bpjs, [lines[1], lines[0], *lines[2:]]))
    other = batch(covered, "b-2", "2025-03", covered.refs[:1])
    assert_refused(covered.ledger, InvalidInput, "payload.batch",
                   lambda: covered.batch(covered.bpjs, [lines[0], lines[1], other[1]]))


def test_a_line_must_match_its_headers_month_and_disbursement(covered):
    lines = batch(covered, "b-1", "2025-03", covered.refs[:1])
    lines[1] = ("premium.paid", {**lines[1][1], "month": "2025-04"})
    assert_refused(covered.ledger, RuleViolation, "payload.month", lambda: covered.batch(covered.bpjs, lines))


def test_premiums_are_charged_to_a_disbursement_made_to_the_bpjs_recording_them(covered):
    other_branch = covered.world.register("bpjs-tanjung-priok", "bpjs")
    assert_refused(covered.ledger, RuleViolation, "payload.disbursement",
                   lambda: covered.batch(other_branch, batch(covered, "b-1", "2025-03", covered.refs[:1])))
    assert_refused(covered.ledger, NotFound, "payload.disbursement",
                   lambda: covered.pay("b-1", "ds-9", "2025-03", covered.refs[:1]))


def test_a_worker_with_jht_pays_36_800(funded):
    saver = funded.enrol(nik(7), jht=True)
    funded.disburse("ds-1", [("rc-2", SINAR, 36_800)])
    result = funded.pay("b-1", "ds-1", "2025-03", [saver])
    leaf = dict(funded.ledger.entries(result["first_index"] + 1, 1))[result["first_index"] + 1]
    assert b'"jht_rupiah":20000' in leaf and b'"amount_rupiah":36800' in leaf
    assert balances(funded.ledger)["coverage:premiums"] == 36_800
    assert programme_state(funded.ledger).disbursements["ds-1"].remaining_rupiah == 0


def test_a_2026_programme_pays_8_400_for_an_ojek_driver_under_pp_50_2025(programme):
    p, year = programme, "sertakan-jakut-2026"
    p.submit(p.city, "programme.opened", payloads.programme_opened(year, 2026), "2026-01-02T08:00:00Z")
    p.submit(p.baznas, "donation.received", payloads.receipt(year, "rc-1", MAJU, 10_000_000, "2026-01-05"))
    p.submit(p.baznas, "disbursement.made", payloads.disbursement(
        year, "ds-1", BPJS, "2026-01", "2026-01-06", [("rc-1", MAJU, 33_600)]))
    driver = new_worker_reference()
    p.submit(p.bpjs, "worker.enrolled", payloads.enrolment(year, driver, "ojek_online", "Tugu Utara", "2026-01-06"))
    member = new_worker_reference()
    p.submit(p.bpjs, "worker.enrolled", payloads.enrolment(year, member, "dasawisma", "Tugu Utara", "2026-01-06"))
    profile = {"income_rupiah": 1_000_000, "jht": False}
    lines = payloads.premium_batch(year, "b-2026-01", "ds-1", "2026-01", [
        {"worker": driver, "category": "ojek_online", **profile},
        {"worker": member, "category": "dasawisma", **profile}], paid_on="2026-01-07")
    assert [payload["amount_rupiah"] for _, payload in lines[1:]] == [8_400, 16_800]
    assert (lines[1][1]["jkk_rupiah"], lines[1][1]["jkm_rupiah"]) == (5_000, 3_400)
    full_price = [lines[0], ("premium.paid", {**lines[1][1], "jkk_rupiah": 10_000, "jkm_rupiah": 6_800,
                                              "amount_rupiah": 16_800}), lines[2]]
    full_price[0] = ("premium.batch", {**lines[0][1], "total_rupiah": 33_600})
    assert_refused(p.ledger, RuleViolation, "payload.jkk_rupiah", lambda: p.batch(p.bpjs, full_price))
    p.batch(p.bpjs, lines)
    assert balances(p.ledger)["coverage:premiums"] == 25_200
    assert programme_state(p.ledger, year).disbursements["ds-1"].remaining_rupiah == 8_400
    # the 2025 programme's disbursement and workers are not the 2026 programme's
    assert_refused(p.ledger, NotFound, "payload.disbursement", lambda: p.batch(
        p.bpjs, payloads.premium_batch(year, "b-x", "ds-9", "2026-02", [{"worker": driver, "category": "ojek_online",
                                                                         **profile}])))


def test_a_driver_covered_in_2025_can_be_covered_by_the_2026_programme(programme):
    """The programme is opened per year; a worker enrolled under SERTAKAN 2025 must be payable
    from the 2026 programme's money (after enrolling there, if the ledger wants that). Today the
    worker aggregate is keyed by NIK alone: the 2026 enrolment is refused as a duplicate and the
    2026 premium as 'enrolled in sertakan-jakut-2025', so no 2025 worker can ever continue."""
    p, year = programme, "sertakan-jakut-2026"
    driver = p.enrol(nik(1))
    p.submit(p.city, "programme.opened", payloads.programme_opened(year, 2026), "2026-01-02T08:00:00Z")
    p.submit(p.baznas, "donation.received", payloads.receipt(year, "rc-1", MAJU, 10_000_000, "2026-01-05"))
    p.submit(p.baznas, "disbursement.made", payloads.disbursement(
        year, "ds-1", BPJS, "2026-01", "2026-01-06", [("rc-1", MAJU, 8_400)]))
    attempt(p.ledger, lambda: p.submit(p.bpjs, "worker.enrolled", payloads.enrolment(
        year, driver, "ojek_online", "Kelapa Gading Barat", "2026-01-06")))
    p.batch(p.bpjs, payloads.premium_batch(year, "b-2026-01", "ds-1", "2026-01", [p.workers[driver]],
                                           paid_on="2026-01-07"))
    assert balances(p.ledger)["coverage:premiums"] == 8_400


def test_a_premium_line_cannot_name_another_programme_than_its_header(programme):
    """A premium line of the 2026 programme must not be charged to a 2025 disbursement: the
    header belongs to one programme, so every line of the batch must belong to it too."""
    p, year = programme, "sertakan-jakut-2026"
    p.receive(MAJU, "rc-1", 10_000_000)
    p.disburse("ds-1", [("rc-1", MAJU, 16_800)])
    p.submit(p.city, "programme.opened", payloads.programme_opened(year, 2026), "2026-01-02T08:00:00Z")
    driver = new_worker_reference()
    p.submit(p.bpjs, "worker.enrolled", payloads.enrolment(year, driver, "dasawisma", "Tugu Utara", "2026-01-05"))
    lines = payloads.premium_batch(PROGRAMME, "b-1", "ds-1", "2025-12", [
        {"worker": driver, "category": "dasawisma", "income_rupiah": 1_000_000, "jht": False}])
    lines[1] = ("premium.paid", {**lines[1][1], "programme": year})
    assert_refused_as_one_of(p.ledger, (RuleViolation, NotFound), ("payload.programme", "payload.disbursement"),
                             lambda: p.batch(p.bpjs, lines))


# ---- enrolment ------------------------------------------------------------------------------

def test_a_nik_is_enrolled_once(programme):
    first = programme.enrol(nik(1))
    assert first == programme.ledger.worker_reference_for(nik(1))
    assert_refused(programme.ledger, AlreadyExists, "payload.worker", lambda: programme.enrol(nik(1), category="dasawisma"))
    worker = programme.ledger.repository.get(worker_uuid(first))
    assert isinstance(worker, Worker) and worker.memberships[PROGRAMME].category == "ojek_online"


def test_declared_income_must_be_a_bracket(programme):
    reference = new_worker_reference()
    enrol = lambda income: programme.submit(programme.bpjs, "worker.enrolled", payloads.enrolment(  # noqa: E731
        PROGRAMME, reference, "jumantik", "Kelapa Gading Timur", "2025-01-15", income_rupiah=income))
    for income in (999_999, 1_050_000, 20_800_000):
        assert_refused(programme.ledger, InvalidInput, "payload.income_rupiah", lambda: enrol(income))
    enrol(20_700_000)


def test_the_personal_nik_must_match_the_reference(programme):
    """A NIK the index holds under another reference cannot be enrolled under this one."""
    programme.enrol(nik(4))
    reference = new_worker_reference()
    document = programme.bpjs.submission("enrol-mismatch", [("worker.enrolled", "2025-01-15T08:00:00Z",
                                         payloads.enrolment(PROGRAMME, reference, "dasawisma",
                                                            "Kelapa Gading Timur", "2025-01-15"))])
    document["personal"] = {"0": {"nik": nik(4), "name": "Siti Aminah"}}
    assert_refused(programme.ledger, InvalidInput, "personal.0.nik", lambda: programme.ledger.submit(document))
    assert programme.ledger.personal_data(f"worker:{reference}") is None
    document["personal"] = {"0": {"name": "Siti Aminah"}}
    assert_refused(programme.ledger, InvalidInput, "personal.0.nik", lambda: programme.ledger.submit(document))
    document["personal"] = {"0": {"nik": nik(3), "name": "Siti Aminah"}}
    programme.ledger.submit(document)
    assert programme.ledger.personal_data(f"worker:{reference}") == {"nik": nik(3), "name": "Siti Aminah"}
