"""The read models' tables (SQLAlchemy Core). Rebuildable from the log at any time."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger, Boolean, Column, Integer, MetaData, String, Table, Text,
)

metadata = MetaData()
PREFIX = "view_"


def _table(name: str, *columns: Column) -> Table:
    return Table(PREFIX + name, metadata, *columns)


def _money(name: str) -> Column:
    return Column(name, BigInteger, nullable=False, default=0)


tracking = _table("tracking", Column("name", String(64), primary_key=True),
                  Column("position", BigInteger, nullable=False))
postings = _table("postings", Column("entry_index", BigInteger, primary_key=True),
                  Column("seq", Integer, primary_key=True), Column("account", String(120), nullable=False, index=True),
                  _money("amount_rupiah"), Column("occurred_on", String(10), nullable=False, index=True))
balances = _table("balances", Column("account", String(120), primary_key=True), _money("amount_rupiah"))
organisations = _table("organisations", Column("organisation", String(64), primary_key=True),
                       Column("legal_name", Text, nullable=False), Column("kind", String(16), nullable=False))
programmes = _table("programmes", Column("programme", String(128), primary_key=True),
                    Column("name", Text, nullable=False), Column("year", Integer, nullable=False),
                    Column("starts_on", String(10), nullable=False), Column("ends_on", String(10), nullable=False),
                    Column("entry_index", BigInteger, nullable=False), Column("jkk_max_rupiah", BigInteger),
                    Column("jkk_death_income_multiple", Integer))
pledges = _table("pledges", Column("pledge", String(128), primary_key=True),
                 Column("programme", String(128), nullable=False, index=True),
                 Column("company", String(64), nullable=False, index=True), _money("amount_rupiah"),
                 _money("received_rupiah"), Column("cancelled", Boolean, nullable=False, default=False),
                 Column("reversed", Boolean, nullable=False, default=False),
                 Column("pledged_on", String(10), nullable=False), Column("entry_index", BigInteger, nullable=False),
                 _money("original_rupiah"), Column("cancelled_on", String(10)))
pledge_amendments = _table("pledge_amendments", Column("entry_index", BigInteger, primary_key=True),
                           Column("pledge", String(128), nullable=False, index=True),
                           Column("company", String(64), nullable=False), Column("kind", String(16), nullable=False),
                           _money("previous_rupiah"),
                           _money("amount_rupiah"), Column("amended_on", String(10), nullable=False),
                           Column("reason", Text, nullable=False))
invitations = _table("invitations", Column("programme", String(128), primary_key=True),
                     Column("company", String(64), primary_key=True), Column("invited_on", String(10), nullable=False),
                     Column("entry_index", BigInteger, nullable=False))
receipts = _table("receipts", Column("receipt", String(128), primary_key=True),
                  Column("programme", String(128), nullable=False, index=True),
                  Column("company", String(64), nullable=False, index=True), _money("amount_rupiah"),
                  Column("fund_type", String(16), nullable=False), Column("pledge", String(128)),
                  Column("received_on", String(10), nullable=False), _money("amil_rupiah"), _money("drawn_rupiah"),
                  Column("reversed", Boolean, nullable=False, default=False),
                  Column("entry_index", BigInteger, nullable=False))
amil = _table("amil", Column("entry_index", BigInteger, primary_key=True),
              Column("receipt", String(128), nullable=False, index=True), Column("company", String(64), nullable=False),
              _money("amount_rupiah"), Column("occurred_on", String(10), nullable=False),
              Column("reversed", Boolean, nullable=False, default=False))
disbursements = _table("disbursements", Column("disbursement", String(128), primary_key=True),
                       Column("programme", String(128), nullable=False, index=True),
                       Column("to_organisation", String(64), nullable=False), _money("amount_rupiah"),
                       Column("period", String(7), nullable=False), Column("made_on", String(10), nullable=False),
                       _money("charged_rupiah"), Column("acknowledged_index", BigInteger),
                       Column("acknowledged_on", String(10)), Column("reversed", Boolean, nullable=False, default=False),
                       Column("entry_index", BigInteger, nullable=False))
disbursement_sources = _table("disbursement_sources",
                              Column("disbursement", String(128), primary_key=True),
                              Column("receipt", String(128), primary_key=True),
                              Column("company", String(64), nullable=False, index=True), _money("amount_rupiah"),
                              _money("charged_rupiah"))
premium_batches = _table("premium_batches", Column("batch", String(128), primary_key=True),
                         Column("disbursement", String(128), nullable=False, index=True),
                         Column("month", String(7)), Column("lines", Integer, nullable=False),
                         _money("total_rupiah"), Column("refund", Boolean, nullable=False),
                         Column("entry_index", BigInteger, nullable=False))
workers = _table("workers", Column("programme", String(128), primary_key=True),
                 Column("worker", String(64), primary_key=True),
                 Column("category", String(32), nullable=False), Column("kelurahan", Text, nullable=False),
                 _money("income_rupiah"), Column("jht", Boolean, nullable=False),
                 Column("enrolled_on", String(10), nullable=False), Column("withdrawn_on", String(10)),
                 Column("reversed", Boolean, nullable=False, default=False),
                 Column("entry_index", BigInteger, nullable=False))
premiums = _table("premiums", Column("entry_index", BigInteger, primary_key=True),
                  Column("programme", String(128), nullable=False),
                  Column("worker", String(64), nullable=False, index=True), Column("month", String(7), nullable=False),
                  Column("disbursement", String(128), nullable=False, index=True),
                  Column("batch", String(128), nullable=False), _money("amount_rupiah"), _money("jkk_rupiah"),
                  _money("jkm_rupiah"), _money("jht_rupiah"), Column("category", String(32), nullable=False),
                  Column("kelurahan", Text, nullable=False), Column("primary_company", String(64), nullable=False,
                                                                    index=True),
                  Column("reversed", Boolean, nullable=False, default=False),
                  Column("refunded", Boolean, nullable=False, default=False))
premium_refunds = _table("premium_refunds", Column("entry_index", BigInteger, primary_key=True),
                         Column("premium_entry", BigInteger, nullable=False, index=True),
                         Column("programme", String(128), nullable=False), Column("worker", String(64), nullable=False),
                         Column("month", String(7), nullable=False), _money("amount_rupiah"),
                         Column("refunded_on", String(10), nullable=False), Column("reason_code", String(32), nullable=False))
# Runs of consecutive entry indexes of the premium lines a company helped fund, by coverage
# month: what a statement rests on, kept as lines are applied, so a statement at 1M entries
# reads a few hundred rows instead of joining 923,076 (docs/benchmarks.md). A run may stop at a
# batch's end and the next one start right after; statement_entries joins them.
funded_ranges = _table("funded_ranges", Column("company", String(64), primary_key=True),
                       Column("month", String(7), primary_key=True),
                       Column("first_index", BigInteger, primary_key=True),
                       Column("last_index", BigInteger, nullable=False))
# A company's coverage by month, category and kelurahan, summed from its premium lines by their
# current state (projections/coverage_views.py): live lines it has a share in, worker-months as
# primary funder, live shares funded, shares of refunded lines.
company_months = _table("company_months", Column("company", String(64), primary_key=True),
                        Column("month", String(7), primary_key=True),
                        Column("category", String(32), primary_key=True), Column("kelurahan", Text, primary_key=True),
                        Column("live_lines", BigInteger, nullable=False),
                        Column("worker_months", BigInteger, nullable=False),
                        _money("funded_rupiah"), _money("refunded_rupiah"))
# The workers each company reached as primary funder: live lines per programme member and year,
# by half-year, so `distinct_workers_reached_overlapping` counts rows, not 923,076 lines.
company_reach = _table("company_reach", Column("company", String(64), primary_key=True),
                       Column("year", Integer, primary_key=True), Column("programme", String(128), primary_key=True),
                       Column("worker", String(64), primary_key=True),
                       Column("h1", BigInteger, nullable=False), Column("h2", BigInteger, nullable=False))
premium_shares = _table("premium_shares", Column("entry_index", BigInteger, primary_key=True),
                        Column("receipt", String(128), primary_key=True),
                        Column("company", String(64), nullable=False, index=True), _money("amount_rupiah"))
batch_quotas = _table("batch_quotas", Column("batch", String(128), primary_key=True),
                      Column("receipt", String(128), primary_key=True), Column("position", Integer, nullable=False),
                      Column("company", String(64), nullable=False), _money("quota_rupiah"), _money("left_rupiah"))
claims = _table("claims", Column("benefit", String(8), primary_key=True), Column("claim", String(128), primary_key=True),
                Column("programme", String(128), nullable=False), Column("worker", String(64), nullable=False, index=True),
                Column("status", String(16), nullable=False), Column("incident_on", String(10), nullable=False),
                Column("filed_on", String(10), nullable=False), Column("filed_index", BigInteger, nullable=False),
                Column("amount_rupiah", BigInteger), Column("complete_on", String(10)),
                Column("deadline_on", String(10)), Column("paid_on", String(10)), Column("paid_index", BigInteger),
                Column("rejection_reason", Text), Column("fatal", Boolean, nullable=False, default=False),
                Column("approved_index", BigInteger))
# The last failure of the views: kept outside the failed transaction, cleared by the next batch
# that applies, so /api/v1/health and the page can say the views are behind and why.
failures = _table("failures", Column("name", String(64), primary_key=True),
                  Column("position", BigInteger, nullable=False), Column("failed_at", String(32), nullable=False),
                  Column("error", Text, nullable=False), Column("attempts", Integer, nullable=False))

VIEW_TABLES = [table for table in metadata.sorted_tables if table not in (tracking, failures)]
SECONDARY_INDEXES = [index for table in VIEW_TABLES for index in sorted(table.indexes, key=lambda index: index.name)]
SCHEMA_VERSION = 6  # bump when a table changes: the runner then drops the views and rebuilds them
