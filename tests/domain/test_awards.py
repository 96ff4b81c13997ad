"""The city's award: criteria and decision as events the city signs; `amanah verify` recomputes
each decision's ranking from the log under its criteria and names every difference."""

from __future__ import annotations

import pytest

from ledger import signing
from ledger.award_check import ranking_at
from ledger.bundle import export_bundle, verify_bundle, verify_database
from ledger.domain.awards import DEFAULT_CRITERIA
from ledger.errors import AlreadyExists, InvalidInput, NotFound, NotPermitted, RuleViolation
from tests.domain.conftest import assert_refused

A, B = "pt-maju-bersama", "pt-sinar-laut"
CRITERIA = {**DEFAULT_CRITERIA, "exclude_open_reconciliation": False, "min_pledge_fulfilment_percent": 0,
            "tiers": [{"name": "Emas", "min_received_rupiah": 100_000_000, "min_worker_months": 0},
                      {"name": "Perak", "min_received_rupiah": 1, "min_worker_months": 0}]}


@pytest.fixture
def year(programme):
    """Two companies gave in 2025 (A more than B), and the city published its criteria."""
    programme.receive(A, "rc-a", 200_000_000)
    programme.receive(B, "rc-b", 50_000_000)
    programme.criteria_entry = publish(programme, CRITERIA)["first_index"]
    return programme


def publish(programme, criteria: dict, published_on: str = "2025-01-10") -> dict:
    return programme.submit(programme.city, "award.criteria_published",
                            {"year": 2025, "published_on": published_on, **criteria})


def leaves(ledger, size: int):
    for start in range(0, size, 1000):
        for _, leaf in ledger.entries(start, min(1000, size - start)):
            yield leaf


def decision(programme, **changes) -> dict:
    """The decision the criteria give at the latest checkpoint, with `changes` applied."""
    ledger = programme.ledger
    checkpoint = ledger.latest_checkpoint()
    awarded, reasons = ranking_at(leaves(ledger, checkpoint["tree_size"]), checkpoint["tree_size"], 2025, CRITERIA)
    payload = {"year": 2025, "criteria_entry": programme.criteria_entry,
               "checkpoint": {"tree_size": checkpoint["tree_size"], "root": checkpoint["root"]},
               "decided_on": "2026-01-20",
               "awarded": [{"rank": item.rank, "company": item.company, "tier": item.tier} for item in awarded],
               "not_awarded": sorted(reasons)}
    return {**payload, **changes}


def decide(programme, payload: dict) -> dict:
    return programme.submit(programme.city, "award.decided", payload, "2026-01-20T03:00:00Z")


def test_a_decision_under_the_criteria_is_stored_and_verifies(year, tmp_path):
    payload = decision(year)
    assert [(item["rank"], item["company"], item["tier"]) for item in payload["awarded"]] == [
        (1, A, "Emas"), (2, B, "Perak")]
    decide(year, payload)
    assert verify_database(year.ledger).ok
    export_bundle(year.ledger, tmp_path / "bundle")
    report = verify_bundle(tmp_path / "bundle")
    assert report.ok, report.failures


def test_verify_names_each_company_whose_place_differs_from_the_criteria(year, tmp_path):
    # The city signs B first: the writer cannot rank (it holds no figures), the verifier can.
    decide(year, decision(year, awarded=[{"rank": 1, "company": B, "tier": "Emas"},
                                         {"rank": 2, "company": A, "tier": "Emas"}]))
    for report in (verify_database(year.ledger), _bundle_report(year, tmp_path)):
        assert not report.ok
        award = [failure.detail for failure in report.failures if failure.check == "award"]
        assert len(award) == 2, report.failures
        assert any(f"{B}: decided rank 1 (Emas), recomputed rank 2 (Perak)" in detail for detail in award)
        assert any(f"{A}: decided rank 2 (Emas), recomputed rank 1 (Emas)" in detail for detail in award)


def test_verify_names_a_contributor_left_out_of_the_decision(year, tmp_path):
    decide(year, decision(year, awarded=[{"rank": 1, "company": A, "tier": "Emas"}]))
    report = _bundle_report(year, tmp_path)
    assert [failure.check for failure in report.failures] == ["award"]
    assert f"{B}: recomputed rank 2 (Perak), left out in the decision" in report.failures[0].detail


def test_the_ranking_is_recomputed_at_the_decisions_checkpoint_not_at_the_end(year, tmp_path):
    payload = decision(year)
    year.receive(B, "rc-b-2", 500_000_000)  # after the checkpoint: B would now rank first
    decide(year, payload)
    assert _bundle_report(year, tmp_path).ok


def test_companies_the_city_excludes_are_not_awarded_with_its_reason(year):
    criteria = {**CRITERIA, "excluded": [{"company": A, "reason": "sanksi lingkungan 2025"}]}
    publish(year, criteria)
    checkpoint = year.ledger.latest_checkpoint()
    awarded, reasons = ranking_at(leaves(year.ledger, checkpoint["tree_size"]), checkpoint["tree_size"], 2025,
                                  criteria)
    assert [(item.rank, item.company) for item in awarded] == [(1, B)]
    assert reasons == {A: ["excluded by the city: sanksi lingkungan 2025"]}


def test_a_decision_needs_published_criteria(programme):
    programme.receive(A, "rc-a", 1_000_000)
    checkpoint = programme.ledger.latest_checkpoint()
    payload = {"year": 2025, "criteria_entry": 5, "decided_on": "2026-01-20", "awarded": [], "not_awarded": [A],
               "checkpoint": {"tree_size": checkpoint["tree_size"], "root": checkpoint["root"]}}
    assert_refused(programme.ledger, NotFound, "payload.year", lambda: decide(programme, payload))


def test_a_decision_applies_the_criteria_in_force(year):
    stale = decision(year)
    publish(year, {**CRITERIA, "rank_by": "worker_months"}, "2025-02-01")
    assert_refused(year.ledger, RuleViolation, "payload.criteria_entry", lambda: decide(year, stale))


def test_a_decision_names_a_signed_checkpoint_of_this_log(year):
    payload = decision(year)
    size = payload["checkpoint"]["tree_size"]
    wrong_root = signing.b64encode(bytes(32))
    assert_refused(year.ledger, RuleViolation, "payload.checkpoint.root",
                   lambda: decide(year, {**payload, "checkpoint": {"tree_size": size, "root": wrong_root}}))
    assert_refused(year.ledger, RuleViolation, "payload.checkpoint.tree_size",
                   lambda: decide(year, {**payload, "checkpoint": {"tree_size": size + 5, "root": wrong_root}}))


def test_a_decision_names_registered_companies_and_the_criteria_tiers(year):
    payload = decision(year)
    ranked = payload["awarded"]
    assert_refused(year.ledger, RuleViolation, "payload.awarded[0].tier", lambda: decide(
        year, {**payload, "awarded": [{**ranked[0], "tier": "Platinum"}, ranked[1]]}))
    assert_refused(year.ledger, NotFound, "payload.awarded[1].company", lambda: decide(
        year, {**payload, "awarded": [ranked[0], {**ranked[1], "company": "pt-tidak-ada"}]}))
    assert_refused(year.ledger, RuleViolation, "payload.not_awarded[0]", lambda: decide(
        year, {**payload, "not_awarded": ["baznas-jakarta-utara"]}))
    assert_refused(year.ledger, InvalidInput, "envelopes[0].payload.awarded[1].rank", lambda: decide(
        year, {**payload, "awarded": [ranked[0], {**ranked[1], "rank": 3}]}))
    assert_refused(year.ledger, InvalidInput, "envelopes[0].payload.awarded[2]", lambda: decide(
        year, {**payload, "not_awarded": [A]}))


def test_a_second_decision_supersedes_the_first_with_a_reason(year):
    first = decide(year, decision(year))["first_index"]
    assert_refused(year.ledger, AlreadyExists, "payload.supersedes", lambda: decide(year, decision(year)))
    assert_refused(year.ledger, InvalidInput, "envelopes[0].payload.reason", lambda: decide(
        year, decision(year, supersedes=first)))
    decide(year, decision(year, supersedes=first, reason="figures corrected after the audit"))
    assert verify_database(year.ledger).ok


def test_only_the_city_publishes_criteria_and_decisions(year):
    assert_refused(year.ledger, NotPermitted, "envelopes[0].type", lambda: year.submit(
        year.companies[A], "award.criteria_published", {"year": 2025, "published_on": "2025-01-10", **CRITERIA}))


@pytest.mark.parametrize("change, field", [
    ({"rank_by": "profit_rupiah"}, "payload.rank_by"),
    ({"tiers": []}, "payload.tiers"),
    ({"tiers": [{"name": "Emas", "min_received_rupiah": 1, "min_worker_months": 0}] * 2}, "payload.tiers[1]"),
    ({"tiers": [{"name": "Emas", "min_received_rupiah": -1, "min_worker_months": 0}]},
     "payload.tiers[0].min_received_rupiah"),
    ({"min_pledge_fulfilment_percent": 101}, "payload.min_pledge_fulfilment_percent"),
    ({"exclude_open_reconciliation": "yes"}, "payload.exclude_open_reconciliation"),
    ({"excluded": [{"company": A}]}, "payload.excluded[0].reason"),
    ({"colour": "gold"}, "payload.colour"),
])
def test_bad_criteria_are_refused_naming_the_field(year, change, field):
    assert_refused(year.ledger, InvalidInput, f"envelopes[0].{field}", lambda: publish(year, {**CRITERIA, **change}))


def test_criteria_excluding_an_unregistered_company_or_dated_in_the_future_are_refused(year):
    assert_refused(year.ledger, NotFound, "payload.excluded[0].company", lambda: publish(
        year, {**CRITERIA, "excluded": [{"company": "pt-tidak-ada", "reason": "x"}]}))
    assert_refused(year.ledger, RuleViolation, "payload.published_on", lambda: publish(year, CRITERIA, "2099-01-01"))


def _bundle_report(programme, tmp_path):
    directory = tmp_path / f"bundle-{programme.ledger.size()}"
    export_bundle(programme.ledger, directory)
    return verify_bundle(directory)

