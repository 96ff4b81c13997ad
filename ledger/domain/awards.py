"""The city's award for a year: the criteria it publishes, and the decision it signs.

The city (kind `city`) publishes its criteria for a year as `award.criteria_published`: what
companies are ranked by, the tiers and their thresholds, the pledge fulfilment required,
whether open reconciliation items exclude, and companies it excludes with a reason. It may
publish again (the newest criteria are the ones in force). It then publishes the ranking as
`award.decided`, naming the criteria entry it applied and the signed checkpoint (tree size and
root) whose first entries the ranking was computed from. A later decision for the same year
must name the one it supersedes, with a reason. This module holds the criteria, their payload
checks and the ranking rule, all pure; award_year.py holds the aggregate and the rules a
publication or decision must meet against the log.

`rank` is the one ranking rule: the views apply it to their figures (projections/awards.py),
and `amanah verify` applies it to figures recomputed from the log (ledger/award_check.py) and
names any difference from what the city signed."""

from __future__ import annotations

from dataclasses import dataclass

from ledger import fields
from ledger.domain.common import MAX_RUPIAH, boolean, reason
from ledger.errors import InvalidInput
from ledger.payload_types import decode, items, optional, payload_type, required, specs_of

RANK_KEYS = ("received_rupiah", "worker_months", "premiums_funded_rupiah")
MAX_TIERS = 10
MAX_COMPANIES = 2_000
# The criteria used where the city has published none for a year; every figure derived from
# them says so. [assumed] tier names and thresholds: the city sets its own.
DEFAULT_CRITERIA = {
    "rank_by": "received_rupiah",
    "tiers": [
        {"name": "Utama", "min_received_rupiah": 500_000_000, "min_worker_months": 0},
        {"name": "Madya", "min_received_rupiah": 100_000_000, "min_worker_months": 0},
        {"name": "Pratama", "min_received_rupiah": 1, "min_worker_months": 0},
    ],
    "min_pledge_fulfilment_percent": 100,
    "exclude_open_reconciliation": True,
    "excluded": [],
}
CRITERIA_FIELDS = tuple(DEFAULT_CRITERIA)


# ---- the ranking rule --------------------------------------------------------------------

@dataclass(frozen=True)
class AwardFigures:
    """What the ranking reads about one company that contributed in the year."""

    company: str
    received_rupiah: int
    worker_months: int
    premiums_funded_rupiah: int
    pledge_basis_rupiah: int  # the year's pledges as they stood before the programme's last month
    pledge_received_rupiah: int  # received against those pledges
    open_items: tuple[str, ...] = ()  # reconciliation items naming the company

    @property
    def pledge_fulfilment_percent(self) -> int:
        if not self.pledge_basis_rupiah:
            return 100
        return min(100, self.pledge_received_rupiah * 100 // self.pledge_basis_rupiah)


@dataclass(frozen=True)
class Ranked:
    rank: int
    company: str
    tier: str


def rank(figures: list[AwardFigures], criteria: dict) -> tuple[list[Ranked], dict[str, list[str]]]:
    """(the awarded companies in rank order, {company: reasons} for the others). Ties in the
    ranked figure are broken by company id, so the same figures always give the same list."""
    excluded = {item["company"]: item["reason"] for item in criteria["excluded"]}
    reasons: dict[str, list[str]] = {}
    eligible: list[tuple[AwardFigures, str]] = []
    for company in figures:
        why = _reasons(company, criteria, excluded)
        tier = _tier(company, criteria["tiers"])
        if tier is None and not why:
            why.append("below the thresholds of every tier")
        if why:
            reasons[company.company] = why
        else:
            eligible.append((company, tier))
    key = criteria["rank_by"]
    eligible.sort(key=lambda item: (-getattr(item[0], key), item[0].company))
    return [Ranked(number, company.company, tier) for number, (company, tier) in enumerate(eligible, 1)], reasons


def _reasons(company: AwardFigures, criteria: dict, excluded: dict[str, str]) -> list[str]:
    reasons = []
    if company.company in excluded:
        reasons.append(f"excluded by the city: {excluded[company.company]}")
    if company.pledge_fulfilment_percent < criteria["min_pledge_fulfilment_percent"]:
        reasons.append(f"pledge not fulfilled: Rp{company.pledge_received_rupiah:,} received of "
                       f"Rp{company.pledge_basis_rupiah:,} pledged before the programme's last month "
                       f"({company.pledge_fulfilment_percent}%)")
    if criteria["exclude_open_reconciliation"]:
        reasons.extend(company.open_items)
    return reasons


def _tier(company: AwardFigures, tiers: list[dict]) -> str | None:
    """The first tier, in the order the criteria list them, whose thresholds the company meets."""
    for tier in tiers:
        if company.received_rupiah >= tier["min_received_rupiah"] \
                and company.worker_months >= tier["min_worker_months"]:
            return tier["name"]
    return None


def decision_differences(payload: dict, awarded: list[Ranked], reasons: dict[str, list[str]]) -> list[str]:
    """Each way a decision's ranking differs from the ranking recomputed under its criteria."""
    differences = []
    stated = {item["company"]: item for item in payload["awarded"]}
    recomputed = {item.company: item for item in awarded}
    for item in awarded:
        mine = stated.get(item.company)
        if mine is None:
            why = "left out" if item.company not in payload["not_awarded"] else "listed as not awarded"
            differences.append(f"{item.company}: recomputed rank {item.rank} ({item.tier}), {why} in the decision")
        elif (mine["rank"], mine["tier"]) != (item.rank, item.tier):
            differences.append(f"{item.company}: decided rank {mine['rank']} ({mine['tier']}), recomputed rank "
                               f"{item.rank} ({item.tier})")
    for company, mine in stated.items():
        if company not in recomputed:
            why = "; ".join(reasons.get(company, ["it did not contribute in the year"]))
            differences.append(f"{company}: decided rank {mine['rank']}, but not awarded when recomputed ({why})")
    named = set(payload["not_awarded"])
    for company in sorted(named - set(reasons)):
        if company not in recomputed:
            differences.append(f"{company}: listed as not awarded, but it did not contribute in the year")
    for company in sorted(set(reasons) - named - set(stated)):
        differences.append(f"{company}: contributed but is in neither list of the decision")
    return differences


# ---- payloads ----------------------------------------------------------------------------

YEAR = fields.integer(2000, 2100)
TIER_NAME = fields.text(60)


def _list_of(check_item, maximum: int, minimum: int = 0):
    def check(value: object, field: str) -> object:
        if not isinstance(value, list) or not minimum <= len(value) <= maximum:
            raise InvalidInput(f"must be a list of {minimum}..{maximum} items", field=field)
        for position, item in enumerate(value):
            check_item(item, f"{field}[{position}]")
        return value
    return check


def _object(declared: type):
    required_checks, optional_checks = specs_of(declared)

    def check(value: object, field: str) -> object:
        if not isinstance(value, dict):
            raise InvalidInput("must be an object", field=field)
        fields.check_payload(value, field, required_checks, optional_checks)
        return value
    return check


def _unique(values: list, what: str, field: str) -> None:
    seen: set = set()
    for position, value in enumerate(values):
        if value in seen:
            raise InvalidInput(f"{what} {value!r} is listed twice", field=f"{field}[{position}]")
        seen.add(value)


@payload_type
class Tier:
    name: str = required(TIER_NAME)
    min_received_rupiah: int = required(fields.integer(0, MAX_RUPIAH, " rupiah"))
    min_worker_months: int = required(fields.integer(0, 10**9))


@payload_type
class Exclusion:
    company: str = required(fields.organisation_id)
    reason: str = required(reason)


@payload_type
class CriteriaPublished:
    """`award.criteria_published`: the criteria (CRITERIA_FIELDS), then the year and date."""

    rank_by: str = required(fields.one_of(*RANK_KEYS))
    tiers: tuple[Tier, ...] = required(_list_of(_object(Tier), MAX_TIERS, 1), items(Tier))
    min_pledge_fulfilment_percent: int = required(fields.integer(0, 100))
    exclude_open_reconciliation: bool = required(boolean)
    excluded: tuple[Exclusion, ...] = required(_list_of(_object(Exclusion), MAX_COMPANIES), items(Exclusion))
    year: int = required(YEAR)
    published_on: str = required(fields.calendar_date)
    note: str | None = optional(reason)


_PUBLISHED, _NOTE = specs_of(CriteriaPublished)
CRITERIA_SPEC = {name: _PUBLISHED[name] for name in CRITERIA_FIELDS}
PUBLICATION = {name: _PUBLISHED[name] for name in ("year", "published_on")}


def check_criteria(payload: dict, where: str, published: bool = False) -> None:
    """The criteria's fields: in an `award.criteria_published` payload (`published`), or in a
    criteria file before a preview or a publication (its year and date may be left out)."""
    if published:
        fields.check_payload(payload, where, _PUBLISHED, _NOTE)
    else:
        fields.check_payload(payload, where, CRITERIA_SPEC, {**PUBLICATION, **_NOTE})
    _unique([tier["name"] for tier in payload["tiers"]], "tier", f"{where}.tiers")
    _unique([item["company"] for item in payload["excluded"]], "company", f"{where}.excluded")


def check_published_criteria(payload: dict, where: str) -> None:
    """The payload of `award.criteria_published`."""
    check_criteria(payload, where, published=True)


def criteria_of(payload: dict) -> dict:
    """Just the criteria from a criteria payload or file."""
    return {name: payload[name] for name in CRITERIA_FIELDS}


@payload_type
class AwardedCompany:
    rank: int = required(fields.integer(1, MAX_COMPANIES))
    company: str = required(fields.organisation_id)
    tier: str = required(TIER_NAME)


@payload_type
class Checkpoint:
    tree_size: int = required(fields.integer(1, 2**48))
    root: str = required(fields.text(44))


@payload_type
class AwardDecided:
    year: int = required(YEAR)
    criteria_entry: int = required(fields.integer(1, 2**48))
    checkpoint: Checkpoint = required(_object(Checkpoint), lambda value: decode(Checkpoint, value))
    decided_on: str = required(fields.calendar_date)
    awarded: tuple[AwardedCompany, ...] = required(_list_of(_object(AwardedCompany), MAX_COMPANIES),
                                                   items(AwardedCompany))
    not_awarded: tuple[str, ...] = required(_list_of(fields.organisation_id, MAX_COMPANIES), tuple)
    supersedes: int | None = optional(fields.integer(1, 2**48))
    reason: str | None = optional(reason)


_DECIDED, _DECIDED_OPTIONAL = specs_of(AwardDecided)


def check_decision(payload: dict, where: str) -> None:
    """The payload of `award.decided`: ranks in order, each company once, supersedes with a reason."""
    fields.check_payload(payload, where, _DECIDED, _DECIDED_OPTIONAL)
    for position, item in enumerate(payload["awarded"]):
        if item["rank"] != position + 1:
            raise InvalidInput(f"ranks must be 1, 2, 3... in order; found {item['rank']} in place {position + 1}",
                               field=f"{where}.awarded[{position}].rank")
    _unique([item["company"] for item in payload["awarded"]] + payload["not_awarded"], "company", f"{where}.awarded")
    if ("supersedes" in payload) != ("reason" in payload):
        raise InvalidInput("a decision that supersedes another gives `supersedes` and `reason` together",
                           field=f"{where}.{'reason' if 'supersedes' in payload else 'supersedes'}")
