"""Structural checks of a programme's rules (rate table, discounts, benefits, caps)."""

from __future__ import annotations

from ledger import fields
from ledger.domain.common import MAX_RUPIAH, month
from ledger.domain.rates import CATEGORIES, FUND_TYPES
from ledger.errors import InvalidInput

AMIL_CAP_LIMITS = {"infak": 2000, "sedekah": 2000, "zakat": 1250}  # Peraturan BAZNAS 1/2016 Pasal 8
percent = fields.integer(0, 100, "%")
basis_points = fields.integer(0, 10_000, " basis points")
amount = fields.integer(0, MAX_RUPIAH, " rupiah")


def _object(value: object, field: str, required: dict, optional: dict | None = None) -> dict:
    if not isinstance(value, dict):
        raise InvalidInput("must be an object", field=field)
    fields.check_payload(value, field, required, optional)
    return value


def _list(value: object, field: str, limit: int) -> list:
    if not isinstance(value, list) or not 1 <= len(value) <= limit:
        raise InvalidInput(f"must be a list of 1..{limit} items", field=field)
    return value


def _categories(value: object, field: str) -> object:
    for position, item in enumerate(_list(value, field, len(CATEGORIES))):
        fields.one_of(*CATEGORIES)(item, f"{field}[{position}]")
    return value


def _funding_list(value: object, field: str) -> object:
    if not isinstance(value, list) or any(not isinstance(item, str) for item in value):
        raise InvalidInput("must be a list of funding sources", field=field)
    return value


def check_rules(rules: object, field: str) -> None:
    """Raise InvalidInput naming the first bad part of a rules object."""
    rules = _object(rules, field, {
        "rates": lambda v, f: v, "income_brackets_rupiah": lambda v, f: v, "discounts": lambda v, f: v,
        "funding": fields.text(20), "benefits": lambda v, f: v, "membership": lambda v, f: v,
        "amil_cap_basis_points": lambda v, f: v, "statutory_table": fields.identifier})
    for position, rate in enumerate(_list(rules["rates"], f"{field}.rates", 50)):
        _object(rate, f"{field}.rates[{position}]", {"from_month": month, "jkk_basis_points": basis_points,
                                                     "jkm_rupiah": amount, "jht_basis_points": basis_points})
    brackets = _list(rules["income_brackets_rupiah"], f"{field}.income_brackets_rupiah", 1000)
    for position, bracket in enumerate(brackets):
        fields.integer(1, MAX_RUPIAH, " rupiah")(bracket, f"{field}.income_brackets_rupiah[{position}]")
    if brackets != sorted(set(brackets)):
        raise InvalidInput("must be strictly increasing", field=f"{field}.income_brackets_rupiah")
    discounts = rules["discounts"]
    if not isinstance(discounts, list) or len(discounts) > 50:
        raise InvalidInput("must be a list of at most 50 discounts", field=f"{field}.discounts")
    for position, discount in enumerate(discounts):
        _object(discount, f"{field}.discounts[{position}]", {
            "name": fields.text(100), "from_month": month, "to_month": month, "categories": _categories,
            "jkk_percent_off": percent, "jkm_percent_off": percent}, {"excluded_funding": _funding_list})
    _object(rules["benefits"], f"{field}.benefits", {
        "jkm_full_rupiah": amount, "jkm_short_membership_rupiah": amount,
        "jkm_short_membership_months": fields.integer(0, 120), "jkk_max_rupiah": amount,
        "jkk_death_income_multiple": fields.integer(0, 1000), "claim_grace_days": fields.integer(0, 366),
        "payment_deadline_working_days": lambda v, f: _object(v, f, {
            "jkm": fields.integer(1, 60), "jkk": fields.integer(1, 60)})})
    _object(rules["membership"], f"{field}.membership",
            {"max_arrears_months": fields.integer(0, 24),
             "premium_due_day": fields.integer(1, 28)})
    caps = _object(rules["amil_cap_basis_points"], f"{field}.amil_cap_basis_points",
                   {name: basis_points for name in FUND_TYPES})
    for name, limit in AMIL_CAP_LIMITS.items():
        if caps[name] > limit:
            raise InvalidInput(f"the amil cap for {name} may not exceed {limit / 100:g}%",
                               field=f"{field}.amil_cap_basis_points.{name}")
