"""Auditors: the log's entries, balances, reconciliation, and a trace of any entry."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from flask import Response, request
from flask.views import MethodView
from api.blueprint import Blueprint

from api import downloads
from api.answers import (
    BalancesAnswer, EntriesAnswer, FundsAnswer, JournalAnswer, ReconciliationAnswer, TraceAnswer, answer,
)
from api.auth import AUDITORS, require, services
from api.schemas import (
    BalancesDownloadArgs, EntriesDownloadArgs, FundsArgs, JournalArgs, ReconciliationDownloadArgs, TraceDownloadArgs,
)
from ledger.entry import parse_entry
from ledger.errors import Busy, Forbidden, Invalid, InvalidInput, NotFound, Unauthenticated
from projections.funds import changes_in_funds
from projections.funds_pdf import funds_pdf
from projections.journal import MAX_JOURNAL_POSTINGS, journal_postings
from projections.periods import parse_period
from projections.audit_queries import reconciliation, trace_claim, trace_receipt
from projections.queries import balances, funders_of_month, to_ranges

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="Auditors (bearer token of an auditor)")


@blp.route("/entries")
class Entries(MethodView):
    @answer(blp, EntriesAnswer, "log entries, paged, and the tree size", "text/csv", downloads.XLSX)
    @require(*AUDITORS)
    @blp.arguments(EntriesDownloadArgs, location="query")
    @blp.errors(Invalid, Unauthenticated, Forbidden, Busy)
    def get(self, args):
        """Log entries as in the export bundle: {index, entry}, paged (JSON, CSV or XLSX)."""
        rows = services().ledger.entries(args["start"], args["limit"])
        return downloads.respond({"entries": [{"index": index, "entry": json.loads(leaf)} for index, leaf in rows],
                                  "tree_size": services().ledger.size()}, args.get("format"), downloads.entries_table)


@blp.route("/balances")
class Balances(MethodView):
    @answer(blp, BalancesAnswer, "every account's balance and the trial balance", "text/csv", downloads.XLSX)
    @require(*AUDITORS)
    @blp.arguments(BalancesDownloadArgs, location="query")
    @blp.errors(Invalid, Unauthenticated, Forbidden, Busy)
    def get(self, args):
        """Every account's balance now or at the end of a day; the trial balance is always zero."""
        services().catch_up()
        as_of = args.get("as_of")
        with services().runner.engine.connect() as connection:
            value = balances(connection, as_of.isoformat() if as_of else None)
        return downloads.respond(value, args.get("format"), lambda value: downloads.balances_table(
            {**value, "checkpoint": services().reports.checkpoint()}))


@blp.route("/reconciliation")
class Reconciliation(MethodView):
    @answer(blp, ReconciliationAnswer, "items to look at and the checkpoint", "text/csv", downloads.XLSX)
    @require(*AUDITORS)
    @blp.arguments(ReconciliationDownloadArgs, location="query")
    @blp.errors(Invalid, Unauthenticated, Forbidden, Busy)
    def get(self, args):
        """Items to look at, each naming the entries concerned."""
        services().catch_up()
        as_of = (args.get("as_of") or date.today()).isoformat()
        with services().runner.engine.connect() as connection:
            items = reconciliation(connection, as_of, args["undisbursed_days"])
        return downloads.respond({"as_of": as_of, "items": items, "checkpoint": services().reports.checkpoint()},
                                 args.get("format"), downloads.reconciliation_table)


@blp.route("/funds")
class Funds(MethodView):
    @answer(blp, FundsAnswer, "the statement of changes in restricted funds (PSAK 109)", "text/csv", downloads.XLSX,
            "application/pdf")
    @require(*AUDITORS)
    @blp.arguments(FundsArgs, location="query")
    @blp.errors(Invalid, Unauthenticated, Forbidden, Busy)
    def get(self, args):
        """PSAK 109 (PSAK 409): each company's restricted fund at Baznas over a year or half-year:
        opening balance, received, amil share, distributed to BPJS, refunds, closing balance."""
        services().catch_up()
        with services().runner.engine.connect() as connection:
            value = changes_in_funds(connection, parse_period(args["period"]))
        value.update(ledger=services().ledger.origin, checkpoint=services().reports.checkpoint(),
                     generated_at=datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"))
        if args.get("format") == "pdf" or (not args.get("format") and request.accept_mimetypes.best == "application/pdf"):
            response = Response(funds_pdf(value), mimetype="application/pdf")
            response.headers["Content-Disposition"] = f'attachment; filename="perubahan-dana-{value["period"]}.pdf"'
            response.vary.add("Accept")
            return response
        return downloads.respond(value, args.get("format"), downloads.funds_table)


@blp.route("/journal")
class Journal(MethodView):
    @answer(blp, JournalAnswer, "every posting of a period with its entry's type and actor, and the totals",
            "text/csv", downloads.XLSX)
    @require(*AUDITORS)
    @blp.arguments(JournalArgs, location="query")
    @blp.errors(Invalid, Unauthenticated, Forbidden, Busy)
    def get(self, args):
        """The journal of a period: each posting dated from..to, debit and credit, entry by entry."""
        services().catch_up()
        first_day, last_day = args["first_day"].isoformat(), args["last_day"].isoformat()
        with services().runner.engine.connect() as connection:
            postings = journal_postings(connection, first_day, last_day)
        if len(postings) > MAX_JOURNAL_POSTINGS:
            raise InvalidInput(f"the period holds more than {MAX_JOURNAL_POSTINGS:,} postings: ask for a shorter one",
                               field="to")
        _name_entries(postings)
        value = {"from": first_day, "to": last_day, "postings": postings,
                 "debits_rupiah": sum(line["amount_rupiah"] for line in postings if line["amount_rupiah"] > 0),
                 "credits_rupiah": -sum(line["amount_rupiah"] for line in postings if line["amount_rupiah"] < 0),
                 "checkpoint": services().reports.checkpoint()}
        return downloads.respond(value, args.get("format"), downloads.journal_table)


def _name_entries(postings: list[dict]) -> None:
    """Add each posting's event type and actor, read from the log a page of entries at a time."""
    known: dict[int, tuple[str, str]] = {}
    for first, last in to_ranges(sorted({line["entry"] for line in postings})):
        for start in range(first, last + 1, 1000):
            for index, leaf in services().ledger.entries(start, min(1000, last + 1 - start)):
                entry = parse_entry(leaf)
                known[index] = (entry.type, entry.actor)
    for line in postings:
        line["type"], line["actor"] = known[line["entry"]]


@blp.route("/trace/<int:index>")
class Trace(MethodView):
    @answer(blp, TraceAnswer, "the entry with its trace forward and back", "text/csv", downloads.XLSX)
    @require(*AUDITORS)
    @blp.arguments(TraceDownloadArgs, location="query")
    @blp.errors(Invalid, Unauthenticated, Forbidden, NotFound, Busy)
    def get(self, args, index):
        """Forward and backward from any entry: a receipt to worker-months, a claim to companies."""
        return downloads.respond(trace_entry(index), args.get("format"), downloads.trace_table)


def trace_entry(index: int) -> dict:
    rows = services().ledger.entries(index, 1) if 0 <= index < services().ledger.size() else []
    if not rows:
        raise NotFound(f"no entry {index}", field="index")
    entry = parse_entry(rows[0][1])
    services().catch_up()
    payload = entry.payload
    result = {"index": index, "type": entry.type, "actor": entry.actor, "entry": json.loads(rows[0][1])}
    with services().runner.engine.connect() as connection:
        if entry.type == "donation.received":
            result["forward"] = trace_receipt(connection, payload["receipt"])
        elif entry.type.startswith("claim."):
            result["backward"] = trace_claim(connection, payload["benefit"], payload["claim"])
        elif entry.type == "premium.paid":
            result["backward"] = {"funded_by": funders_of_month(connection, payload["worker"], payload["month"])}
        elif entry.type == "disbursement.made":
            result["backward"] = {"sources": payload["sources"]}
            result["forward"] = {"receipts": [trace_receipt(connection, source["receipt"])["receipt"]
                                              for source in payload["sources"]]}
    return result
