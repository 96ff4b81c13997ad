"""The journal of a period: every posting whose date falls in it, entry by entry (what an
auditor ticks off against the bank and BPJS statements)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from projections import tables as t

MAX_JOURNAL_POSTINGS = 200_000


def journal_postings(connection: Connection, first_day: str, last_day: str,
                     limit: int = MAX_JOURNAL_POSTINGS) -> list[dict]:
    """Postings dated first_day..last_day (YYYY-MM-DD, both included), in log order; at most
    `limit` + 1 rows, so a caller can tell a period that is too long."""
    rows = connection.execute(
        select(t.postings.c.entry_index, t.postings.c.seq, t.postings.c.occurred_on, t.postings.c.account,
               t.postings.c.amount_rupiah)
        .where(t.postings.c.occurred_on >= first_day, t.postings.c.occurred_on <= last_day)
        .order_by(t.postings.c.entry_index, t.postings.c.seq).limit(limit + 1)).all()
    return [{"entry": int(row.entry_index), "occurred_on": row.occurred_on, "account": row.account,
             "amount_rupiah": int(row.amount_rupiah)} for row in rows]
