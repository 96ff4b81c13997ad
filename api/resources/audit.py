"""Auditors: the log's entries, balances, reconciliation, and a trace of any entry."""

from __future__ import annotations

import json
from datetime import date

from flask.views import MethodView
from api.blueprint import Blueprint

from api.auth import AUDITORS, require, services
from api.schemas import BalancesArgs, EntriesArgs, ReconciliationArgs, json_object
from ledger.entry import parse_entry
from ledger.errors import NotFound
from projections.queries import balances, funders_of_month, reconciliation, trace_claim, trace_receipt

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="Auditors (bearer token of an auditor)")


@blp.route("/entries")
class Entries(MethodView):
    @blp.doc(**json_object("log entries, paged, and the tree size"))
    @require(*AUDITORS)
    @blp.arguments(EntriesArgs, location="query")
    def get(self, args):
        """Log entries as in the export bundle: {index, entry}, paged."""
        rows = services().ledger.entries(args["start"], args["limit"])
        return {"entries": [{"index": index, "entry": json.loads(leaf)} for index, leaf in rows],
                "tree_size": services().ledger.size()}


@blp.route("/balances")
class Balances(MethodView):
    @blp.doc(**json_object("every account's balance and the trial balance"))
    @require(*AUDITORS)
    @blp.arguments(BalancesArgs, location="query")
    def get(self, args):
        """Every account's balance now or at the end of a day; the trial balance is always zero."""
        services().catch_up()
        as_of = args.get("as_of")
        with services().runner.engine.connect() as connection:
            return balances(connection, as_of.isoformat() if as_of else None)


@blp.route("/reconciliation")
class Reconciliation(MethodView):
    @blp.doc(**json_object("items to look at and the checkpoint"))
    @require(*AUDITORS)
    @blp.arguments(ReconciliationArgs, location="query")
    def get(self, args):
        """Items to look at, each naming the entries concerned."""
        services().catch_up()
        as_of = (args.get("as_of") or date.today()).isoformat()
        with services().runner.engine.connect() as connection:
            items = reconciliation(connection, as_of, args["undisbursed_days"])
        return {"as_of": as_of, "items": items, "checkpoint": services().reports.checkpoint()}


@blp.route("/trace/<int:index>")
class Trace(MethodView):
    @blp.doc(**json_object("the entry with its trace forward and back"))
    @require(*AUDITORS)
    def get(self, index):
        """Forward and backward from any entry: a receipt to worker-months, a claim to companies."""
        return trace_entry(index)


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
