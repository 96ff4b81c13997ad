"""The demo tells the real story of ../shared/domain.md, checked through the API."""

from __future__ import annotations

import json
import urllib.request

from ledger.bundle import verify_database
from ledger.application import Ledger


def get(base: str, path: str, token: str | None = None) -> dict:
    request = urllib.request.Request(base + path, headers={"Accept": "application/json",
                                                           **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def tokens(home) -> dict:
    return json.loads((home / "demo-tokens.json").read_text())


def facts(home) -> dict:
    return json.loads((home / "demo-facts.json").read_text())


def test_twenty_one_companies_are_on_the_2025_award_list(demo_server, demo_home):
    awards = get(demo_server, "/api/v1/awards/2025")
    assert awards["companies_contributing"] == 21
    assert len(awards["awarded"]) == 21 and awards["not_awarded"] == []
    assert [row["rank"] for row in awards["awarded"]] == list(range(1, 22))
    assert sorted(row["company"] for row in awards["awarded"]) == sorted(facts(demo_home)["contributors"])
    # every invited company is accounted for: 21 awarded, 25 invited that did not contribute
    assert awards["companies_invited"] == 46 and len(awards["invited_not_contributing"]) == 25
    raised = next(row for row in awards["awarded"] if row["company"] == facts(demo_home)["raised_pledge"])
    assert [change["kind"] for change in raised["pledge_changes"]] == ["amended"]
    assert raised["pledge_changes"][0]["on"].startswith("2025-10")
    assert raised["award_pledge_basis_rupiah"] == raised["pledged_current_rupiah"] > raised["pledged_rupiah"]


def test_the_city_published_its_criteria_and_signed_its_decision(demo_server, demo_home):
    awards = get(demo_server, "/api/v1/awards/2025")
    decision, source = awards["decision"], awards["criteria_source"]
    assert source["signed_by"] == decision["signed_by"] == "pemkot-jakarta-utara"
    assert source["entry"] == facts(demo_home)["award_criteria_entry"] == decision["criteria_entry"]
    assert decision["entry"] == facts(demo_home)["award_decision"]["entry"] and decision["on"] == "2026-01-20"
    # the list the page shows today is the list the city signed
    assert [(row["rank"], row["company"], row["tier"]) for row in awards["awarded"]] == [
        (row["rank"], row["company"], row["tier"]) for row in decision["awarded"]]
    assert decision["differences_from_current_figures"] == [] and decision["not_awarded"] == []


def test_eleven_thousand_eight_hundred_sixty_workers_are_covered(demo_server):
    totals = get(demo_server, "/api/v1/totals?year=2025")
    assert totals["distinct_workers"] == 11_860
    # the advance premium refunded after a death is no longer coverage, and is shown apart
    assert totals["premiums_refunded_rupiah"] == 16_800
    assert totals["premiums_rupiah"] + totals["premiums_refunded_rupiah"] == totals["disbursed_rupiah"]
    assert totals["claims_paid"]["by_benefit"]["jkm"]["count"] == 2


def test_the_42_million_benefit_traces_back_to_the_companies_that_paid_for_the_coverage(demo_server, demo_home):
    auditor = tokens(demo_home)["auditor-baznas"]
    paid = facts(demo_home)["claim_paid_entries"][facts(demo_home)["jkm_claim"]]
    envelope = get(demo_server, f"/api/v1/entries?start={paid}&limit=1", auditor)["entries"][0]["entry"]["envelope"]
    assert envelope["type"] == "claim.paid" and envelope["payload"]["claim"] == facts(demo_home)["jkm_claim"]
    trace = get(demo_server, f"/api/v1/trace/{paid}", auditor)
    backward = trace["backward"]
    assert backward["amount_rupiah"] == 42_000_000 and backward["benefit"] == "jkm"
    assert backward["funded_by"], "the covering premium names its funders"
    funders = {share["company"] for share in backward["funded_by"]}
    assert funders <= set(facts(demo_home)["contributors"])
    assert sum(share["amount_rupiah"] for share in backward["funded_by"]) == backward["covering_premium"]["amount_rupiah"]


def test_every_contributor_money_reaches_workers(demo_server, demo_home):
    auditor = tokens(demo_home)["auditor-baznas"]
    for company in facts(demo_home)["contributors"]:
        statement = get(demo_server, f"/api/v1/companies/{company}/statement?year=2025", auditor)
        assert statement["premiums_funded_rupiah"] > 0 and statement["worker_months"] > 0, company


def test_the_demo_ledger_verifies(demo_settings):
    ledger = Ledger(demo_settings)
    try:
        report = verify_database(ledger)
    finally:
        ledger.close()
    assert report.ok, [str(failure) for failure in report.failures[:5]]
    assert report.balances["claims:paid:jkm"] == 52_000_000
