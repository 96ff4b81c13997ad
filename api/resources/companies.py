"""Companies: their own impact statement and the trace of their own money."""

from __future__ import annotations

from flask.views import MethodView
from api.blueprint import Blueprint
from sqlalchemy import select

from api.auth import AUDITORS, require, services
from api.negotiation import document_response
from api.answers import CompanyTraceAnswer, answer
from api.schemas import CompanyTraceArgs, StatementArgs
from api.signed_answers import StatementAnswer
from ledger.errors import Busy, Forbidden, Invalid, NotFound, Unauthenticated
from projections import tables as t
from projections.audit_queries import trace_receipt

blp = Blueprint("companies", __name__, url_prefix="/api/v1", description="A company's own statement and money")


@blp.route("/companies/<string:company>/statement")
class Statement(MethodView):
    @answer(blp, StatementAnswer, "the signed impact statement", "text/csv", "application/pdf")
    @require(*AUDITORS, own_company=True)
    @blp.arguments(StatementArgs, location="query")
    @blp.errors(Invalid, Unauthenticated, Forbidden, NotFound, Busy)
    def get(self, args, company):
        """The signed impact statement for a year or half-year, as JSON, CSV or PDF."""
        period = args.get("period") or str(args["year"])
        document = services().reports.statement(company, period)
        return document_response(document, "statement", args.get("format"), f"statement-{company}-{period}")


@blp.route("/companies/<string:company>/trace")
class CompanyTrace(MethodView):
    @answer(blp, CompanyTraceAnswer, "the company's receipts traced to worker-months")
    @require(*AUDITORS, own_company=True)
    @blp.arguments(CompanyTraceArgs, location="query")
    @blp.errors(Invalid, Unauthenticated, Forbidden, NotFound, Busy)
    def get(self, args, company):
        """Each of the company's receipts traced forward to the worker-months it paid for."""
        services().catch_up()
        with services().runner.engine.connect() as connection:
            receipts = [row.receipt for row in connection.execute(
                select(t.receipts.c.receipt).where(t.receipts.c.company == company).order_by(t.receipts.c.entry_index))]
            if "receipt" in args:
                if args["receipt"] not in receipts:
                    raise NotFound(f"{company} has no receipt {args['receipt']!r}", field="receipt")
                receipts = [args["receipt"]]
            return {"company": company, "receipts": [trace_receipt(connection, receipt) for receipt in receipts]}
