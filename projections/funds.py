"""The programme's part of Baznas's PSAK 109 report (PSAK 409 in the 2024 numbering): a
statement of changes in funds for infak/sedekah terikat (restricted), per company, from the
ledger's postings. Each company's fund is the account `baznas:restricted:{company}`; what
moved it is read from the other side of each entry: the company's gift (`donations:`), the
amil share (`baznas:amil`), money distributed to BPJS (`bpjs:premium_fund`) and premiums
refunded after a death (`coverage:premiums`). A reversal moves the same line back."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from projections import tables as t
from projections.periods import Period
from projections.queries import organisation_names

RESTRICTED = "baznas:restricted:"
MOVEMENTS = (  # (column, the counter-account prefix that names it, sign as reported)
    ("received_rupiah", "donations:", 1),
    ("amil_rupiah", "baznas:amil", -1),
    ("distributed_rupiah", "bpjs:premium_fund", -1),
    ("refunded_rupiah", "coverage:premiums", 1),
)
COLUMNS = ("opening_rupiah", *(column for column, _, _ in MOVEMENTS), "closing_rupiah")


def changes_in_funds(connection: Connection, period: Period) -> dict:
    """Opening balance, movements and closing balance of each company's restricted fund."""
    opening = _balances_before(connection, period.first_day)
    movements: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    for company, column, amount in _movements(connection, period):
        movements[company][column] += amount
    names = organisation_names(connection)
    rows = []
    for company in sorted(set(opening) | set(movements)):
        row = movements[company]
        row["opening_rupiah"] = opening.get(company, 0)
        row["closing_rupiah"] = row["opening_rupiah"] + sum(
            sign * row[column] for column, _, sign in MOVEMENTS)
        rows.append({"company": company, "legal_name": names.get(company, company), **row})
    total = {column: sum(row[column] for row in rows) for column in COLUMNS}
    return {"standard": "PSAK 109 (PSAK 409)", "fund": "infak/sedekah terikat", "period": period.name,
            "from": period.first_day, "to": period.last_day, "companies": rows, "total": total,
            "closing_balances_rupiah": _balances_before(connection, _day_after(period.last_day))}


def _balances_before(connection: Connection, day: str) -> dict[str, int]:
    rows = connection.execute(select(t.postings.c.account, func.sum(t.postings.c.amount_rupiah))
                              .where(t.postings.c.account.startswith(RESTRICTED), t.postings.c.occurred_on < day)
                              .group_by(t.postings.c.account)).all()
    return {account.removeprefix(RESTRICTED): int(amount) for account, amount in rows}


def _movements(connection: Connection, period: Period) -> list[tuple[str, str, int]]:
    """(company, column, amount as reported) of every restricted-fund posting in the period."""
    in_period = t.postings.c.occurred_on.between(period.first_day, period.last_day)
    fund_rows = connection.execute(select(t.postings.c.entry_index, t.postings.c.account, t.postings.c.amount_rupiah)
                                   .where(t.postings.c.account.startswith(RESTRICTED), in_period)).all()
    entries = sorted({row.entry_index for row in fund_rows})
    kinds: dict[int, str] = {}
    for start in range(0, len(entries), 500):
        chunk = entries[start:start + 500]
        for index, account in connection.execute(select(t.postings.c.entry_index, t.postings.c.account).where(
                t.postings.c.entry_index.in_(chunk), ~t.postings.c.account.startswith(RESTRICTED))):
            kinds.setdefault(index, next((column for column, prefix, _ in MOVEMENTS if account.startswith(prefix)), ""))
    signs = {column: sign for column, _, sign in MOVEMENTS}
    result = []
    for row in fund_rows:
        column = kinds.get(row.entry_index, "")
        assert column, f"entry {row.entry_index} moves a restricted fund against an unknown account"
        result.append((row.account.removeprefix(RESTRICTED), column, signs[column] * int(row.amount_rupiah)))
    return result


def _day_after(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()
