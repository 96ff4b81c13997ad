"""The rate table as pure functions: premiums, PP 50/2025 discounts, JKM benefit, working days,
and the structural checks of a programme's rules. No database."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from ledger.domain.rates import Premium, add_working_days, check_bracket, default_rules, jkm_benefit, premium_for
from ledger.domain.rules_schema import check_rules
from ledger.errors import InvalidInput

RULES = default_rules()
LOWEST, HIGHEST = 1_000_000, 20_700_000


def premium(category: str, month: str, income: int = LOWEST, jht: bool = False, rules: dict = RULES) -> Premium:
    return premium_for(rules, income, category, month, jht)


# ---- premiums at the brackets ---------------------------------------------------------------

def test_lowest_bracket_pays_16_800_a_month():
    assert premium("ojek_online", "2025-03") == Premium(10_000, 6_800, 0)
    assert premium("ojek_online", "2025-03").amount_rupiah == 16_800


def test_highest_bracket_pays_one_percent_jkk_and_flat_jkm():
    assert premium("dasawisma", "2025-03", HIGHEST) == Premium(207_000, 6_800, 0)
    assert premium("dasawisma", "2025-03", HIGHEST).amount_rupiah == 213_800


def test_jht_adds_two_percent_of_declared_income():
    assert premium("ojek_online", "2025-03", jht=True) == Premium(10_000, 6_800, 20_000)
    assert premium("ojek_online", "2025-03", jht=True).amount_rupiah == 36_800
    assert premium("jumantik", "2025-03", HIGHEST, jht=True).amount_rupiah == 207_000 + 6_800 + 414_000


def test_the_shipped_table_runs_from_1_to_20_7_million():
    brackets = RULES["income_brackets_rupiah"]
    assert brackets[0] == LOWEST and brackets[-1] == HIGHEST and brackets == sorted(set(brackets))
    check_bracket(RULES, LOWEST, "payload.income_rupiah")
    check_bracket(RULES, HIGHEST, "payload.income_rupiah")
    for income in (999_999, 1_050_000, 20_800_000):
        with pytest.raises(InvalidInput) as caught:
            check_bracket(RULES, income, "payload.income_rupiah")
        assert caught.value.field == "payload.income_rupiah"


# ---- PP 50/2025: 50% off JKK and JKM, by category and month ------------------------------

FULL, HALF = 16_800, 8_400


@pytest.mark.parametrize("month, ojek, dasawisma", [
    ("2025-12", FULL, FULL),   # before the regulation
    ("2026-01", HALF, FULL),   # transport from January 2026
    ("2026-03", HALF, FULL),
    ("2026-04", HALF, HALF),   # other sectors from April 2026
    ("2026-12", HALF, HALF),
    ("2027-01", HALF, FULL),   # other sectors end December 2026
    ("2027-03", HALF, FULL),   # transport still discounted in March 2027
    ("2027-04", FULL, FULL),   # and no longer in April
])
def test_discounts_by_category_and_month(month, ojek, dasawisma):
    assert premium("ojek_online", month).amount_rupiah == ojek
    assert premium("dasawisma", month).amount_rupiah == dasawisma
    for other in ("jumantik", "pedagang_asongan", "other"):
        assert premium(other, month).amount_rupiah == dasawisma


def test_discounted_ojek_premium_is_5_000_jkk_and_3_400_jkm():
    assert premium("ojek_online", "2026-01") == Premium(5_000, 3_400, 0)


def test_jht_is_not_discounted():
    assert premium("ojek_online", "2026-01", jht=True) == Premium(5_000, 3_400, 20_000)
    assert premium("ojek_online", "2026-01", jht=True).amount_rupiah == 28_400


def test_premiums_paid_from_regional_budgets_get_no_discount():
    apbd = {**RULES, "funding": "apbd"}
    assert premium("ojek_online", "2026-06", rules=apbd).amount_rupiah == FULL
    assert premium("dasawisma", "2026-06", rules=apbd).amount_rupiah == FULL


def test_effective_dated_rates_take_the_latest_in_force():
    rules = copy.deepcopy(RULES)
    rules["rates"].append({"from_month": "2026-07", "jkk_basis_points": 100, "jkm_rupiah": 7_000,
                           "jht_basis_points": 200})
    assert premium("ojek_online", "2026-06", rules={**rules, "discounts": []}).jkm_rupiah == 6_800
    assert premium("ojek_online", "2026-07", rules={**rules, "discounts": []}).jkm_rupiah == 7_000


# ---- rounding: whole rupiah, rounded down ----------------------------------------------------

def test_one_percent_of_an_odd_income_is_rounded_down():
    # 1% of Rp1,050,050 is Rp10,500.50; 2% is Rp21,001
    assert premium("ojek_online", "2025-03", income=1_050_050, jht=True) == Premium(10_500, 6_800, 21_001)
    assert premium("ojek_online", "2025-03", income=1_000_099) == Premium(10_000, 6_800, 0)


def test_a_discounted_premium_is_rounded_down():
    """premium_for promises whole rupiah, rounded down: 50% of Rp10,101 is Rp5,050.50 -> Rp5,050,
    and 50% of a Rp6,801 JKM is Rp3,400.50 -> Rp3,400. (The discount, not the premium, is what
    the ledger rounds down today, which gives Rp5,051 and Rp3,401.)"""
    rules = copy.deepcopy(RULES)
    rules["rates"][0]["jkm_rupiah"] = 6_801
    result = premium("ojek_online", "2026-01", income=1_010_100, rules=rules)
    assert result == Premium(5_050, 3_400, 0)


# ---- JKM benefit ---------------------------------------------------------------------------

@pytest.mark.parametrize("member_since, died_on, benefit", [
    ("2025-03-20", "2025-03-20", 10_000_000), ("2025-03-20", "2025-05-25", 10_000_000),
    ("2025-03-20", "2025-06-19", 10_000_000), ("2025-03-20", "2025-06-20", 42_000_000),
    ("2024-11-30", "2025-02-28", 42_000_000), ("2024-11-30", "2025-02-27", 10_000_000),
    ("2025-01-10", "2025-12-31", 42_000_000)])
def test_jkm_benefit_is_10_million_under_three_months_of_membership_and_42_million_from_three(
        member_since, died_on, benefit):
    assert jkm_benefit(RULES, member_since, died_on) == benefit


# ---- payment deadlines in working days -----------------------------------------------------

@pytest.mark.parametrize("start, days, deadline", [
    (date(2025, 5, 16), 3, date(2025, 5, 21)),    # Friday + 3 -> Wednesday
    (date(2025, 5, 14), 3, date(2025, 5, 19)),    # Wednesday + 3 -> Monday
    (date(2025, 5, 12), 3, date(2025, 5, 15)),    # Monday + 3 -> Thursday
    (date(2025, 5, 17), 3, date(2025, 5, 21)),    # Saturday + 3 -> Wednesday
    (date(2025, 5, 18), 3, date(2025, 5, 21)),    # Sunday + 3 -> Wednesday
    (date(2025, 5, 16), 7, date(2025, 5, 27)),    # Friday + 7 -> Tuesday after next
    (date(2025, 12, 31), 3, date(2026, 1, 5)),    # Wednesday over New Year's weekend -> Monday
    (date(2025, 5, 16), 1, date(2025, 5, 19)),    # Friday + 1 -> Monday
])
def test_add_working_days_skips_weekends(start, days, deadline):
    assert add_working_days(start, days) == deadline
    assert add_working_days(start, days).weekday() < 5


# ---- rules: structure and legal caps -------------------------------------------------------

def refused(rules: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_rules(rules, "rules")
    assert type(caught.value) is InvalidInput
    assert caught.value.field == field, caught.value


def test_the_shipped_rules_pass():
    check_rules(copy.deepcopy(RULES), "rules")


@pytest.mark.parametrize("fund, limit", [("infak", 2_000), ("sedekah", 2_000), ("zakat", 1_250)])
def test_amil_cap_may_reach_the_legal_limit_but_not_exceed_it(fund, limit):
    rules = copy.deepcopy(RULES)
    rules["amil_cap_basis_points"][fund] = limit
    check_rules(rules, "rules")
    rules["amil_cap_basis_points"][fund] = limit + 1
    refused(rules, f"rules.amil_cap_basis_points.{fund}")


def test_a_programme_may_take_no_amil_at_all():
    rules = copy.deepcopy(RULES)
    rules["amil_cap_basis_points"] = {"infak": 0, "sedekah": 0, "zakat": 0}
    check_rules(rules, "rules")


@pytest.mark.parametrize("brackets", [
    [1_100_000, 1_000_000, 1_200_000],   # unsorted
    [1_000_000, 1_000_000, 1_100_000],   # repeated
])
def test_income_brackets_must_strictly_increase(brackets):
    rules = copy.deepcopy(RULES)
    rules["income_brackets_rupiah"] = brackets
    refused(rules, "rules.income_brackets_rupiah")


@pytest.mark.parametrize("path, field", [
    (("benefits",), "rules.benefits"),
    (("membership",), "rules.membership"),
    (("amil_cap_basis_points",), "rules.amil_cap_basis_points"),
    (("amil_cap_basis_points", "zakat"), "rules.amil_cap_basis_points.zakat"),
    (("benefits", "jkm_full_rupiah"), "rules.benefits.jkm_full_rupiah"),
    (("benefits", "payment_deadline_working_days", "jkm"), "rules.benefits.payment_deadline_working_days.jkm"),
    (("rates", 0, "jkm_rupiah"), "rules.rates[0].jkm_rupiah"),
    (("discounts", 1, "to_month"), "rules.discounts[1].to_month"),
    (("membership", "max_arrears_months"), "rules.membership.max_arrears_months"),
])
def test_a_missing_field_is_named(path, field):
    rules = copy.deepcopy(RULES)
    parent = rules
    for step in path[:-1]:
        parent = parent[step]
    del parent[path[-1]]
    refused(rules, field)


def test_bad_values_are_named():
    rules = copy.deepcopy(RULES)
    rules["discounts"][0]["categories"] = ["ojek_online", "becak"]
    refused(rules, "rules.discounts[0].categories[1]")
    rules = copy.deepcopy(RULES)
    rules["discounts"][0]["jkk_percent_off"] = 101
    refused(rules, "rules.discounts[0].jkk_percent_off")
    rules = copy.deepcopy(RULES)
    rules["rates"][0]["from_month"] = "2015-13"
    refused(rules, "rules.rates[0].from_month")
    rules = copy.deepcopy(RULES)
    rules["unexpected"] = 1
    refused(rules, "rules.unexpected")
    refused([], "rules")
