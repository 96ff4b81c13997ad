"""Given events, when a command, then events or a named error (and nothing stored), with the
real numbers of the programme: Rp16,800 a month, Rp42,000,000 and Rp10,000,000 JKM."""

from __future__ import annotations

import pytest

from ledger import payloads
from ledger.bundle import export_bundle, verify_bundle, verify_database
from ledger.errors import AlreadyExists, InvalidInput, NotFound, RuleViolation
from tests.domain.conftest import PROGRAMME, claim_state, worker_state
from tests.niks import nik

MAIN = "pt-maju-bersama"


def unchanged(ledger):
    return ledger.size(), ledger.latest_checkpoint()["root"]


def refused(programme, error, field_part, command):
    before = unchanged(programme.ledger)
    with pytest.raises(error) as caught:
        command()
    assert field_part in (caught.value.field or ""), caught.value
    assert unchanged(programme.ledger) == before


@pytest.fixture
def funded(programme):
    programme.pledge(MAIN, "pl-1", 100_000_000)
    programme.receive(MAIN, "rc-1", 60_000_000, "pl-1")
    programme.receive("pt-sinar-laut", "rc-2", 40_000_000)
    return programme


def test_a_receipt_above_the_pledge_outstanding_is_refused(funded):
    refused(funded, RuleViolation, "amount_rupiah", lambda: funded.receive(MAIN, "rc-3", 40_000_001, "pl-1"))
    funded.receive(MAIN, "rc-3", 40_000_000, "pl-1")


def test_amil_share_is_capped_at_twenty_percent_of_infak(funded):
    amil = lambda amount, key="": funded.submit(funded.baznas, "amil.set_aside", {  # noqa: E731
        "programme": PROGRAMME, "receipt": "rc-2", "company": "pt-sinar-laut", "amount_rupiah": amount})
    refused(funded, RuleViolation, "amount_rupiah", lambda: amil(8_000_001))
    amil(8_000_000)
    refused(funded, RuleViolation, "amount_rupiah", lambda: amil(1))


def test_a_disbursement_cannot_overdraw_a_receipt(funded):
    refused(funded, RuleViolation, "sources[0].amount_rupiah",
            lambda: funded.disburse("ds-1", [("rc-2", "pt-sinar-laut", 40_000_001)]))
    refused(funded, RuleViolation, "company", lambda: funded.disburse("ds-1", [("rc-2", MAIN, 1_000)]))
    funded.disburse("ds-1", [("rc-2", "pt-sinar-laut", 30_000_000)])
    refused(funded, RuleViolation, "sources[0].amount_rupiah",
            lambda: funded.disburse("ds-2", [("rc-2", "pt-sinar-laut", 10_000_001)]))


def test_premiums_follow_the_rate_table_and_never_exceed_the_disbursement(funded):
    workers = [funded.enrol(nik(n)) for n in range(3)]
    funded.disburse("ds-1", [("rc-1", MAIN, 50_400)])  # exactly 3 x Rp16,800
    batch = payloads.premium_batch(PROGRAMME, "b-1", "ds-1", "2025-03", [funded.workers[w] for w in workers])
    assert {payload["amount_rupiah"] for kind, payload in batch[1:]} == {16_800}
    wrong = [batch[0], *batch[1:]]
    wrong[2] = ("premium.paid", {**batch[2][1], "jkm_rupiah": 6_000, "amount_rupiah": 16_000})
    wrong[0] = ("premium.batch", {**batch[0][1], "total_rupiah": 50_400 - 800})
    refused(funded, RuleViolation, "jkm_rupiah", lambda: funded.batch(funded.bpjs, wrong))
    result = funded.batch(funded.bpjs, batch)
    assert result["count"] == 4
    again = payloads.premium_batch(PROGRAMME, "b-2", "ds-1", "2025-04", [funded.workers[workers[0]]])
    refused(funded, RuleViolation, "total_rupiah", lambda: funded.batch(funded.bpjs, again))


def test_one_premium_per_worker_per_month(funded):
    worker = funded.enrol(nik(1))
    funded.disburse("ds-1", [("rc-1", MAIN, 33_600)])
    funded.pay("b-1", "ds-1", "2025-03", [worker])
    duplicate = payloads.premium_batch(PROGRAMME, "b-2", "ds-1", "2025-03", [funded.workers[worker]])
    refused(funded, AlreadyExists, "month", lambda: funded.batch(funded.bpjs, duplicate))


def test_a_nik_is_enrolled_once_and_must_match_its_reference(funded):
    funded.enrol(nik(9))
    refused(funded, AlreadyExists, "worker", lambda: funded.enrol(nik(9)))
    document = funded.bpjs.submission("mismatch", [("worker.enrolled", "2025-01-15T08:00:00Z", payloads.enrolment(
        PROGRAMME, "a" * 64, "dasawisma", "Kelapa Gading Timur", "2025-01-15"))])
    document["personal"] = {"0": {"nik": nik(9), "name": "Siti"}}  # indexed under another reference
    refused(funded, InvalidInput, "personal.0.nik", lambda: funded.ledger.submit(document))


def _paid_months(funded, worker, months):
    total = 16_800 * len(months)
    funded.disburse(f"ds-{worker[:6]}", [("rc-1", MAIN, total)])
    for month in months:
        funded.pay(f"b-{worker[:6]}-{month}", f"ds-{worker[:6]}", month, [worker])


def _claim(funded, claim, worker, benefit, incident, amount):
    funded.submit(funded.bpjs, "claim.filed", payloads.claim(PROGRAMME, claim, worker, benefit, incident_on=incident,
                                                             filed_on=incident))
    return lambda value: funded.submit(funded.bpjs, "claim.approved", payloads.approval(
        PROGRAMME, claim, worker, benefit, value, incident, incident))


def test_the_jkm_benefit_is_42_million_after_three_months_of_membership_and_10_million_before(funded):
    driver = funded.enrol(nik(100))
    newcomer = funded.enrol(nik(200), enrolled_on="2025-04-01")
    _paid_months(funded, driver, ["2025-03", "2025-04", "2025-05"])
    _paid_months(funded, newcomer, ["2025-04", "2025-05"])
    approve = _claim(funded, "jkm-1", driver, "jkm", "2025-05-14", 42_000_000)
    refused(funded, RuleViolation, "amount_rupiah", lambda: approve(10_000_000))
    approve(42_000_000)
    pay = lambda amount: funded.submit(funded.bpjs, "claim.paid", payloads.claim(  # noqa: E731
        PROGRAMME, "jkm-1", driver, "jkm", amount_rupiah=amount, paid_on="2025-05-16"))
    refused(funded, RuleViolation, "amount_rupiah", lambda: pay(41_999_999))
    pay(42_000_000)
    approve_short = _claim(funded, "jkm-2", newcomer, "jkm", "2025-05-20", 10_000_000)
    refused(funded, RuleViolation, "amount_rupiah", lambda: approve_short(42_000_000))
    approve_short(10_000_000)
    refused(funded, AlreadyExists, "claim", lambda: funded.submit(funded.bpjs, "claim.filed", payloads.claim(
        PROGRAMME, "jkm-3", driver, "jkm", incident_on="2025-05-14", filed_on="2025-05-15")))
    claim = claim_state(funded.ledger, "jkm", driver, "jkm-1")
    assert claim.status == "paid" and not claim.paid_late


def test_a_claim_outside_a_covered_month_is_refused(funded):
    worker = funded.enrol(nik(300))
    _paid_months(funded, worker, ["2025-03"])
    refused(funded, RuleViolation, "incident_on", lambda: funded.submit(funded.bpjs, "claim.filed", payloads.claim(
        PROGRAMME, "jkk-1", worker, "jkk", incident_on="2025-04-02", filed_on="2025-04-03")))


def test_a_disbursed_receipt_cannot_be_reversed_until_the_disbursement_is(funded):
    made = funded.disburse("ds-1", [("rc-2", "pt-sinar-laut", 1_000_000)])
    receipt_entry = next(index for index, leaf in funded.ledger.entries(0, 100) if b'"receipt":"rc-2"' in leaf)
    reverse = lambda entry, kind, reference: funded.submit(funded.baznas, "entry.reversed", {  # noqa: E731
        "programme": PROGRAMME, "entry": entry, "reverses": kind, "reference": reference,
        "reason_code": "duplicate", "note": "keyed twice"})
    refused(funded, RuleViolation, "entry", lambda: reverse(receipt_entry, "donation.received", {"receipt": "rc-2"}))
    reverse(made["first_index"], "disbursement.made", {"disbursement": "ds-1"})
    reverse(receipt_entry, "donation.received", {"receipt": "rc-2"})
    refused(funded, NotFound, "receipt", lambda: reverse(receipt_entry, "donation.received", {"receipt": "rc-2"}))
    report = verify_database(funded.ledger)
    assert report.ok and report.balances.get("baznas:restricted:pt-sinar-laut", 0) == 0


def test_erasure_destroys_personal_data_and_changes_nothing_else(funded, tmp_path):
    nik, name = "3172064512889012", "Pekerja 9012"
    worker = funded.enrol(nik)
    subject = f"worker:{worker}"
    assert funded.ledger.personal_data(subject)["nik"] == nik
    before = verify_database(funded.ledger)
    export_bundle(funded.ledger, tmp_path / "before")
    logged = b"".join(leaf for _, leaf in funded.ledger.entries(0, funded.ledger.size()))
    assert nik.encode() not in logged and name.encode() not in logged
    assert funded.ledger.forget(subject).erased
    assert funded.ledger.personal_data(subject) is None
    other = funded.world.reopen()
    try:
        assert other.personal_data(subject) is None
    finally:
        other.close()
    after = verify_database(funded.ledger)
    assert after.ok and after.root == before.root and after.balances == before.balances
    export_bundle(funded.ledger, tmp_path / "after")
    assert verify_bundle(tmp_path / "after").ok
    for path in (tmp_path / "after").iterdir():
        assert nik.encode() not in path.read_bytes() and name.encode() not in path.read_bytes()
    assert (tmp_path / "before" / "entries.jsonl").read_bytes() == (tmp_path / "after" / "entries.jsonl").read_bytes()


def test_membership_ends_after_more_than_three_unpaid_months_and_needs_a_new_enrolment(funded):
    worker = funded.enrol(nik(400), enrolled_on="2025-01-05")
    _paid_months(funded, worker, ["2025-01", "2025-05"])  # Feb, Mar, Apr unpaid: three months, allowed
    state = worker_state(funded.ledger, worker)
    assert state.active("2025-05", 3) and state.covered("2025-05") and not state.covered("2025-04")
    assert not state.active("2025-10", 3)  # June to September unpaid: four months
    funded.disburse("ds-late", [("rc-1", MAIN, 16_800)])
    refused(funded, RuleViolation, "month", lambda: funded.pay("b-late", "ds-late", "2025-10", [worker]))


def test_a_late_claim_payment_is_accepted_and_shows_as_late(funded):
    worker = funded.enrol(nik(500), enrolled_on="2025-01-10")
    _paid_months(funded, worker, ["2025-03", "2025-04"])
    _claim(funded, "jkm-late", worker, "jkm", "2025-04-18", 42_000_000)(42_000_000)  # complete on a Friday
    claim = claim_state(funded.ledger, "jkm", worker, "jkm-late")
    assert claim.deadline_on == "2025-04-23"  # three working days: Mon 21, Tue 22, Wed 23
    funded.submit(funded.bpjs, "claim.paid", payloads.claim(PROGRAMME, "jkm-late", worker, "jkm",
                                                           amount_rupiah=42_000_000, paid_on="2025-04-30"))
    assert claim_state(funded.ledger, "jkm", worker, "jkm-late").paid_late


def test_only_the_receiving_bpjs_acknowledges_a_disbursement_once_for_its_amount(funded):
    funded.disburse("ds-1", [("rc-1", MAIN, 1_000_000)])
    acknowledge = lambda signer, amount: funded.submit(signer, "disbursement.acknowledged", {  # noqa: E731
        "programme": PROGRAMME, "disbursement": "ds-1", "amount_rupiah": amount, "received_on": "2025-03-02"})
    other_bpjs = funded.world.register("bpjs-lain", "bpjs")
    refused(funded, RuleViolation, "disbursement", lambda: acknowledge(other_bpjs, 1_000_000))
    refused(funded, RuleViolation, "amount_rupiah", lambda: acknowledge(funded.bpjs, 999_999))
    acknowledge(funded.bpjs, 1_000_000)
    refused(funded, AlreadyExists, "disbursement", lambda: acknowledge(funded.bpjs, 1_000_000))


def test_pledges_are_amended_and_cancelled_only_by_their_company_and_never_below_what_was_received(funded):
    amend = lambda signer, amount, previous: funded.submit(signer, "pledge.amended", {  # noqa: E731
        "programme": PROGRAMME, "pledge": "pl-1", "amount_rupiah": amount, "previous_rupiah": previous,
        "reason": "board decision"})
    refused(funded, RuleViolation, "pledge", lambda: amend(funded.companies["pt-sinar-laut"], 70_000_000, 100_000_000))
    refused(funded, RuleViolation, "amount_rupiah", lambda: amend(funded.companies[MAIN], 59_999_999, 100_000_000))
    refused(funded, RuleViolation, "previous_rupiah", lambda: amend(funded.companies[MAIN], 70_000_000, 90_000_000))
    amend(funded.companies[MAIN], 70_000_000, 100_000_000)
    cancel = lambda outstanding: funded.submit(funded.companies[MAIN], "pledge.cancelled", {  # noqa: E731
        "programme": PROGRAMME, "pledge": "pl-1", "outstanding_rupiah": outstanding, "reason": "budget cut"})
    refused(funded, RuleViolation, "outstanding_rupiah", lambda: cancel(40_000_000))
    cancel(10_000_000)
    assert verify_database(funded.ledger).ok
