"""Premiums and benefits from the programme's rules, which are data signed into the log at
`programme.opened` (default: data/bpu_2025.json). Pure functions only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources

from ledger.errors import InvalidInput, RuleViolation

CATEGORIES = ("ojek_online", "dasawisma", "jumantik", "pedagang_asongan", "other")
FUND_TYPES = ("infak", "sedekah", "zakat")


def default_rules() -> dict:
    """The shipped BPU rate table and programme rules (see docs/domain.md for sources)."""
    text = resources.files("ledger.domain").joinpath("data/bpu_2025.json").read_text()
    rules = json.loads(text)
    rules.pop("about", None)
    rules.pop("amil_cap_note", None)
    return rules


@dataclass(frozen=True)
class Premium:
    jkk_rupiah: int
    jkm_rupiah: int
    jht_rupiah: int

    @property
    def amount_rupiah(self) -> int:
        return self.jkk_rupiah + self.jkm_rupiah + self.jht_rupiah


def premium_for(rules: dict, income_rupiah: int, category: str, month: str, with_jht: bool) -> Premium:
    """The premium one worker owes for one month under `rules` (whole rupiah, rounded down)."""
    base = _rate_for(rules, month)
    jkk = income_rupiah * base["jkk_basis_points"] // 10_000
    jkm = base["jkm_rupiah"]
    jht = income_rupiah * base["jht_basis_points"] // 10_000 if with_jht else 0
    for discount in rules.get("discounts", []):
        if (discount["from_month"] <= month <= discount["to_month"]
                and category in discount["categories"]
                and rules.get("funding", "csr") not in discount.get("excluded_funding", [])):
            jkk = jkk * (100 - discount["jkk_percent_off"]) // 100  # the premium rounds down
            jkm = jkm * (100 - discount["jkm_percent_off"]) // 100
    return Premium(jkk, jkm, jht)


def _rate_for(rules: dict, month: str) -> dict:
    applicable = [rate for rate in rules["rates"] if rate["from_month"] <= month]
    if not applicable:
        raise RuleViolation(f"no contribution rate is in force for {month}", field="payload.month")
    return max(applicable, key=lambda rate: rate["from_month"])


def check_bracket(rules: dict, income_rupiah: int, field: str) -> None:
    """Declared income must be one of the table's brackets."""
    if income_rupiah not in rules["income_brackets_rupiah"]:
        low, high = rules["income_brackets_rupiah"][0], rules["income_brackets_rupiah"][-1]
        raise InvalidInput(f"must be an income bracket of the rate table (Rp{low:,} .. Rp{high:,})",
                           field=field)


def jkm_benefit(rules: dict, paid_months_before_incident: int) -> int:
    """JKM death benefit: full, or the short-membership amount under the month threshold."""
    benefits = rules["benefits"]
    if paid_months_before_incident < benefits["jkm_short_membership_months"]:
        return benefits["jkm_short_membership_rupiah"]
    return benefits["jkm_full_rupiah"]


def add_working_days(start: date, days: int) -> date:
    """`days` working days (Monday to Friday) after `start`. Public holidays are not modelled
    [assumed]; the deadline is therefore the earliest it could legally be."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def months_between(first: str, last: str) -> int:
    """Whole months from `first` to `last` (YYYY-MM), 0 when equal."""
    return (int(last[:4]) - int(first[:4])) * 12 + int(last[5:]) - int(first[5:])


def previous_months(month: str, count: int) -> list[str]:
    """The `count` months before `month`, nearest first."""
    year, number = int(month[:4]), int(month[5:])
    result = []
    for _ in range(count):
        number -= 1
        if number == 0:
            year, number = year - 1, 12
        result.append(f"{year:04d}-{number:02d}")
    return result
