"""Marshmallow schemas at the boundary: unknown fields refused, bounds on everything."""

from __future__ import annotations

import re
from datetime import date

import marshmallow as ma
from marshmallow import validate

from ledger.domain.awards import RANK_KEYS

MAX_PAGE = 1000
MAX_LOG_SIZE = 2**53 - 1  # beyond any log, and within the databases' 64-bit integers
FORMATS = ("json", "csv", "pdf")
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)  # far from date's limits: as_of - 3650 days stays a date
DIGITS = re.compile(r"[0-9]{1,16}")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class WholeNumber(ma.fields.Integer):
    """A whole number spelt in ASCII digits only: Python's int() would also read "1_0", " 10 ",
    fullwidth and Arabic-Indic digits, so one number would have many spellings."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and not DIGITS.fullmatch(value):
            raise ma.ValidationError("must be a whole number in the digits 0-9")
        return super()._deserialize(value, attr, data, **kwargs)


class Day(ma.fields.Date):
    """A real day, YYYY-MM-DD in ASCII digits, from 2000-01-01 to 2100-12-31."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not DAY.fullmatch(value):
            raise ma.ValidationError("must be a date like 2025-12-31")
        try:
            day = date.fromisoformat(value)
        except ValueError as error:
            raise ma.ValidationError("is not a real date") from error
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ma.ValidationError(f"must be between {FIRST_DAY} and {LAST_DAY}")
        return day


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class FormatArgs(Strict):
    format = ma.fields.String(validate=validate.OneOf(FORMATS), metadata={"description": "json, csv or pdf; "
                              "otherwise the Accept header decides"})


class CheckpointArgs(Strict):
    format = ma.fields.String(validate=validate.OneOf(("json", "text")))


class CheckpointsArgs(Strict):
    start_size = WholeNumber(load_default=0, validate=validate.Range(min=0, max=MAX_LOG_SIZE))
    limit = WholeNumber(load_default=100, validate=validate.Range(min=1, max=MAX_PAGE))


class InclusionArgs(Strict):
    index = WholeNumber(required=True, validate=validate.Range(min=0, max=MAX_LOG_SIZE))
    size = WholeNumber(required=True, validate=validate.Range(min=1, max=MAX_LOG_SIZE))


class ConsistencyArgs(Strict):
    first = WholeNumber(required=True, validate=validate.Range(min=1, max=MAX_LOG_SIZE))
    second = WholeNumber(required=True, validate=validate.Range(min=1, max=MAX_LOG_SIZE))


class EntriesArgs(Strict):
    start = WholeNumber(load_default=0, validate=validate.Range(min=0, max=MAX_LOG_SIZE))
    limit = WholeNumber(load_default=100, validate=validate.Range(min=1, max=MAX_PAGE))


class YearArgs(Strict):
    year = WholeNumber(validate=validate.Range(min=2000, max=2100))


class BalancesArgs(Strict):
    as_of = Day(metadata={"description": "balances at the end of this day (YYYY-MM-DD, 2000-01-01 to 2100-12-31)"})


class ReconciliationArgs(Strict):
    as_of = Day(metadata={"description": "the day to reconcile at (YYYY-MM-DD, 2000-01-01 to 2100-12-31); today "
                                         "by default"})
    undisbursed_days = WholeNumber(load_default=90, validate=validate.Range(min=0, max=3650))


class StatementArgs(FormatArgs):
    year = WholeNumber(validate=validate.Range(min=2000, max=2100))
    period = ma.fields.String(validate=validate.Regexp(r"^[0-9]{4}(-H[12])?$"),
                              metadata={"description": "2025, 2025-H1 or 2025-H2"})

    @ma.validates_schema
    def one_period(self, data, **_):
        if ("year" in data) == ("period" in data):
            raise ma.ValidationError("give year or period, not both nor neither", "period")


class CompanyTraceArgs(Strict):
    receipt = ma.fields.String(validate=validate.Length(min=1, max=128))


class CheckpointSchema(ma.Schema):
    tree_size = ma.fields.Integer()
    root = ma.fields.String()
    note = ma.fields.String()
    signed_at = ma.fields.String()


class SubmissionResultSchema(ma.Schema):
    actor = ma.fields.String()
    idempotency_key = ma.fields.String()
    first_index = ma.fields.Integer()
    last_index = ma.fields.Integer()
    count = ma.fields.Integer()
    replayed = ma.fields.Boolean()
    checkpoint = ma.fields.Nested(CheckpointSchema, allow_none=True)
    checkpoint_includes_entries = ma.fields.Boolean()


class EnvelopeSchema(Strict):
    ledger = ma.fields.String(required=True)
    type = ma.fields.String(required=True)
    actor = ma.fields.String(required=True)
    key_id = ma.fields.String(required=True)
    idempotency_key = ma.fields.String(required=True)
    sequence = ma.fields.Integer(required=True)
    occurred_at = ma.fields.String(required=True)
    payload = ma.fields.Dict(required=True)


class SubmissionSchema(Strict):
    """A signed submission (see docs/verifying.md); checked field by field by the ledger."""

    envelopes = ma.fields.List(ma.fields.Nested(EnvelopeSchema), required=True)
    signature = ma.fields.String(required=True)
    personal = ma.fields.Dict(metadata={"description": "personal fields by envelope sequence; never logged"})


class TierSchema(Strict):
    name = ma.fields.String(required=True)
    min_received_rupiah = ma.fields.Integer(required=True)
    min_worker_months = ma.fields.Integer(required=True)


class ExclusionSchema(Strict):
    company = ma.fields.String(required=True)
    reason = ma.fields.String(required=True)


class CriteriaSchema(Strict):
    """Award criteria (docs/awards.md), checked field by field by the ledger; documents the body."""

    rank_by = ma.fields.String(required=True, validate=validate.OneOf(RANK_KEYS))
    tiers = ma.fields.List(ma.fields.Nested(TierSchema), required=True)
    min_pledge_fulfilment_percent = ma.fields.Integer(required=True, validate=validate.Range(min=0, max=100))
    exclude_open_reconciliation = ma.fields.Boolean(required=True)
    excluded = ma.fields.List(ma.fields.Nested(ExclusionSchema), required=True)
    year = ma.fields.Integer(metadata={"description": "as in a criteria file; ignored by a preview"})
    published_on = ma.fields.String(metadata={"description": "as in a criteria file; ignored by a preview"})
    note = ma.fields.String()


class ProofSchema(ma.Schema):
    index = ma.fields.Integer()
    tree_size = ma.fields.Integer()
    leaf_hash = ma.fields.String()
    root = ma.fields.String()
    proof = ma.fields.List(ma.fields.String())


class ConsistencySchema(ma.Schema):
    first = ma.fields.Integer()
    second = ma.fields.Integer()
    first_root = ma.fields.String()
    second_root = ma.fields.String()
    proof = ma.fields.List(ma.fields.String())


class EntrySchema(ma.Schema):
    index = ma.fields.Integer()
    entry = ma.fields.Dict()


class ViewsErrorSchema(ma.Schema):
    position = ma.fields.Integer(metadata={"description": "the log index of the batch that failed"})
    failed_at = ma.fields.String(metadata={"description": "when it last failed (UTC)"})
    error = ma.fields.String(metadata={"description": "the error, one line"})
    attempts = ma.fields.Integer(metadata={"description": "how many runs failed at that position"})


class HealthSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "ok, or degraded when the views stopped at a failure"})
    tree_size = ma.fields.Integer()
    views_position = ma.fields.Integer()
    views_target = ma.fields.Integer(metadata={"description": "the latest signed checkpoint's size"})
    views_behind = ma.fields.Integer()
    views_error = ma.fields.Nested(ViewsErrorSchema, allow_none=True)


# ---- auditors' downloads: the same answers as CSV or XLSX (api/downloads.py) -----------------

def _download_format() -> ma.fields.String:
    return ma.fields.String(validate=validate.OneOf(("json", "csv", "xlsx")), metadata={
        "description": "json, csv or xlsx; otherwise the Accept header decides"})


class EntriesDownloadArgs(EntriesArgs):
    format = _download_format()


class BalancesDownloadArgs(BalancesArgs):
    format = _download_format()


class ReconciliationDownloadArgs(ReconciliationArgs):
    format = _download_format()


class TraceDownloadArgs(Strict):
    format = _download_format()


class JournalArgs(Strict):
    first_day = Day(required=True, data_key="from", metadata={"description": "the period's first day (YYYY-MM-DD)"})
    last_day = Day(required=True, data_key="to", metadata={"description": "the period's last day (YYYY-MM-DD)"})
    format = _download_format()

    @ma.validates_schema
    def ordered(self, data, **_):
        if "first_day" in data and "last_day" in data and data["last_day"] < data["first_day"]:
            raise ma.ValidationError("must not be before from", "to")


class FundsArgs(Strict):
    period = ma.fields.String(required=True, validate=validate.Regexp(r"^[0-9]{4}(-H[12])?$"),
                              metadata={"description": "2025, 2025-H1 or 2025-H2"})
    format = ma.fields.String(validate=validate.OneOf(("json", "csv", "xlsx", "pdf")), metadata={
        "description": "json, csv, xlsx or pdf; otherwise the Accept header decides"})
