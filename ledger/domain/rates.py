"""Premiums and benefits from the programme's rules, which are data signed into the log at
`programme.opened` (default: data/bpu_2025.json). Pure functions only."""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources

from ledger.errors import InvalidInput, RuleViolation

CATEGORIES = ("ojek_online", "dasawisma", "jumantik", "pedagang_asongan", "other")
FUND_TYPES = ("infak", "sedekah", "zakat")


STATUTORY_FILES = ("data/bpu_2025.json",)
# The parts of a programme's rules that are law, not the programme's choice: they must equal
# the shipped statutory table the rules name. jkk_max_rupiah, funding and the amil caps (never
# above the law's) are the programme's.
STATUTORY_PARTS = ("rates", "income_brackets_rupiah", "discounts", "membership")
STATUTORY_BENEFITS = ("jkm_full_rupiah", "jkm_short_membership_rupiah", "jkm_short_membership_months",
                      "jkk_death_income_multiple", "claim_grace_days", "payment_deadline_working_days")


def _shipped(name: str) -> dict:
    rules = json.loads(resources.files("ledger.domain").joinpath(name).read_text())
    for note in ("about", "amil_cap_note", "sources"):
        rules.pop(note, None)
    return rules


def default_rules() -> dict:
    """The shipped BPU rate table and programme rules (see docs/domain.md for sources)."""
    return _shipped(STATUTORY_FILES[0])


def statutory_tables() -> dict[str, dict]:
    """Every shipped statutory table by its id."""
    tables = (_shipped(name) for name in STATUTORY_FILES)
    return {table["statutory_table"]: table for table in tables}


def check_statutory(rules: dict, field: str) -> None:
    """The statutory numbers of `rules` must be those of the shipped table it names: a
    programme chooses which table applies, it cannot set a JKM benefit of Rp1."""
    table = statutory_tables().get(rules["statutory_table"])
    if table is None:
        raise RuleViolation(f"no shipped statutory table is called {rules['statutory_table']!r} "
                            f"(known: {', '.join(sorted(statutory_tables()))})", field=f"{field}.statutory_table")
    for part in STATUTORY_PARTS:
        if rules[part] != table[part]:
            raise RuleViolation(f"must equal statutory table {rules['statutory_table']}'s {part}",
                                field=f"{field}.{part}")
    for name in STATUTORY_BENEFITS:
        if rules["benefits"][name] != table["benefits"][name]:
            raise RuleViolation(f"must be {table['benefits'][name]} as in statutory table "
                                f"{rules['statutory_table']}", field=f"{field}.benefits.{name}")


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


def jkm_benefit(rules: dict, member_since: str, incident_on: str) -> int:
    """JKM death benefit: full, or the short-membership amount when the membership (from its
    start, which may predate the programme) is shorter than the threshold at the death."""
    benefits = rules["benefits"]
    threshold = add_months(date.fromisoformat(member_since), benefits["jkm_short_membership_months"])
    if date.fromisoformat(incident_on) < threshold:
        return benefits["jkm_short_membership_rupiah"]
    return benefits["jkm_full_rupiah"]


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later (the month's last day when it is shorter)."""
    number = day.year * 12 + day.month - 1 + months
    year, month = divmod(number, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def premium_due_on(rules: dict, month: str) -> date:
    """A BPU premium is due by the given day of the month it covers, the next working day when
    that falls on a weekend (public holidays are not modelled [assumed])."""
    due = date(int(month[:4]), int(month[5:]), rules["membership"]["premium_due_day"])
    while due.weekday() >= 5:
        due += timedelta(days=1)
    return due


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


@lru_cache(maxsize=1024)
def previous_months(month: str, count: int) -> tuple[str, ...]:
    """The `count` months before `month`, nearest first (asked for every premium line)."""
    year, number = int(month[:4]), int(month[5:])
    result = []
    for _ in range(count):
        number -= 1
        if number == 0:
            year, number = year - 1, 12
        result.append(f"{year:04d}-{number:02d}")
    return tuple(result)
