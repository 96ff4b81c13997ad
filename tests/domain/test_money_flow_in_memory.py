"""The rule tests of test_money_flow.py against the kernel in memory (tests/kernel.py: the
writer's rule code, no database), beside their end-to-end runs on SQLite and PostgreSQL there.
The two that verify the database, and erasure, need storage and run only there."""

from __future__ import annotations

import pytest

from tests.domain.test_money_flow import (  # noqa: F401
    funded,
    test_a_claim_outside_a_covered_month_is_refused,
    test_a_disbursement_cannot_overdraw_a_receipt,
    test_a_late_claim_payment_is_accepted_and_shows_as_late,
    test_a_nik_is_enrolled_once_and_must_match_its_reference,
    test_a_receipt_above_the_pledge_outstanding_is_refused,
    test_amil_share_is_capped_at_twenty_percent_of_infak,
    test_membership_ends_after_more_than_three_unpaid_months_and_needs_a_new_enrolment,
    test_one_premium_per_worker_per_month,
    test_only_the_receiving_bpjs_acknowledges_a_disbursement_once_for_its_amount,
    test_premiums_follow_the_rate_table_and_never_exceed_the_disbursement,
    test_the_jkm_benefit_is_42_million_after_three_months_of_membership_and_10_million_before,
)
from tests.kernel import kernel_world  # noqa: F401


@pytest.fixture
def world(kernel_world):  # noqa: F811
    """These rules run in memory, through the writer's rule code (tests/kernel.py)."""
    return kernel_world
