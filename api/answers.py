"""The shapes of the API's JSON answers, for docs/openapi.json (signed documents: api/signed_answers.py).

An answer is sent as its view built it: `dump` is the identity. A journal holds up to 200,000
postings, and a field declared wrongly must never drop or recast a figure on its way out; instead
tests load real answers through these schemas (unknown fields refused), and the fuzzer checks
every answer against the published document."""

from __future__ import annotations

import marshmallow as ma

from api.schemas import CheckpointSchema

BINARY = {"type": "string", "format": "binary"}  # a CSV, XLSX or PDF download


class Answer(ma.Schema):
    """A documented answer; its data is sent unchanged (see the module's docstring)."""

    optional: tuple[str, ...] = ()  # fields some answers leave out; every other field is always sent

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Required in the document (a generated client gets non-optional members) and when a
        # test loads a real answer (a field the view stopped sending fails it).
        for name, field in self.fields.items():
            field.required = name not in self.optional

    def dump(self, obj, *, many=None):
        return obj


def integer(**kwargs) -> ma.fields.Integer:
    return ma.fields.Integer(strict=True, **kwargs)


def text(**kwargs) -> ma.fields.String:
    return ma.fields.String(**kwargs)


def rupiah(**kwargs) -> ma.fields.Integer:
    """Whole rupiah (an integer, never a float)."""
    return ma.fields.Integer(strict=True, **kwargs)


def day(**kwargs) -> ma.fields.String:
    """A day as YYYY-MM-DD text, sent as stored (not re-parsed into a date)."""
    return ma.fields.String(**kwargs)


def a_list(field: ma.fields.Field, **kwargs) -> ma.fields.List:
    return ma.fields.List(field, **kwargs)


def nested(schema: type[ma.Schema], **kwargs) -> ma.fields.Nested:
    return ma.fields.Nested(schema, **kwargs)


# ---- checkpoints as answers carry them ---------------------------------------------------------

class CosignatureAnswer(Answer):
    witness = text(metadata={"description": "the witness's key name"})
    verifier_key = text()
    cosigned_at = text(metadata={"description": "when the witness cosigned (UTC, ISO 8601)"})


class CosignedCheckpointAnswer(CheckpointSchema, Answer):
    """The latest signed checkpoint with its witnesses' cosignature lines appended to the note."""

    cosignatures = a_list(nested(CosignatureAnswer))


class ViewsCheckpointAnswer(Answer):
    """The signed checkpoint the views (and so the figures) stand at, with its cosignatures."""

    tree_size = integer()
    root = text()
    note = text(metadata={"description": "the C2SP signed note, cosignature lines appended"})
    cosignatures = a_list(nested(CosignatureAnswer))


class CheckpointReferenceAnswer(Answer):
    tree_size = integer()
    root = text()


# ---- public ------------------------------------------------------------------------------------

class KeyAnswer(Answer):
    key_id = text()
    public_key = text(metadata={"description": "Ed25519, base64"})
    valid_from = integer(metadata={"description": "the entry that registered it"})
    revoked_at = integer(allow_none=True, metadata={"description": "the entry that revoked it"})
    revocation_reason = text(allow_none=True)


class OrganisationKeysAnswer(Answer):
    organisation = text()
    legal_name = text()
    kind = text()
    keys = a_list(nested(KeyAnswer))


class CheckpointKeyAnswer(Answer):
    verifier_key = text()
    declared_at = integer(metadata={"description": "the entry that declared it"})
    signs_from_tree_size = integer()
    signs_to_tree_size = integer(allow_none=True, metadata={"description": "null while it is the current key"})


class WitnessAnswer(Answer):
    verifier_key = text()
    url = text()


class KeysAnswer(Answer):
    origin = text()
    checkpoint_key = text(metadata={"description": "the current checkpoint verifier key"})
    checkpoint_keys = a_list(nested(CheckpointKeyAnswer))
    organisations = a_list(nested(OrganisationKeysAnswer))
    witnesses = a_list(nested(WitnessAnswer))


class BenefitPaidAnswer(Answer):
    optional = ("fatal_count",)

    paid_to = text()
    count = integer()
    total_rupiah = rupiah()
    fatal_count = integer(metadata={"description": "JKK only"})
    amounts_rupiah = a_list(rupiah())


class ClaimsPaidAnswer(Answer):
    by_benefit = ma.fields.Dict(keys=text(), values=nested(BenefitPaidAnswer),
                                metadata={"description": "jkm and jkk, never added together"})
    entries = a_list(integer())


class TotalsAnswer(Answer):
    year = integer(allow_none=True)
    programmes = a_list(text())
    companies_invited = integer()
    companies_contributing = integer()
    pledged_rupiah = rupiah()
    pledged_current_rupiah = rupiah()
    received_rupiah = rupiah()
    amil_rupiah = rupiah()
    disbursed_rupiah = rupiah()
    premiums_rupiah = rupiah()
    premiums_refunded_rupiah = rupiah()
    worker_months = integer()
    full_year_equivalent_workers = text(metadata={"description": "a decimal with two places"})
    distinct_workers = integer()
    claims_paid = nested(ClaimsPaidAnswer)
    checkpoint = nested(ViewsCheckpointAnswer, allow_none=True)


# ---- auditors ----------------------------------------------------------------------------------

class EntryAnswer(Answer):
    index = integer()
    entry = ma.fields.Dict(metadata={"description": "the stored entry as in the export bundle (docs/verifying.md)"})


class EntriesAnswer(Answer):
    entries = a_list(nested(EntryAnswer))
    tree_size = integer()


class BalancesAnswer(Answer):
    as_of = day(allow_none=True)
    accounts = ma.fields.Dict(keys=text(), values=rupiah(), metadata={"description": "balance by account"})
    trial_balance_rupiah = rupiah()


class ReconciliationItemAnswer(Answer):
    kind = text()
    detail = text()
    entries = a_list(integer())
    company = text(allow_none=True)


class ReconciliationAnswer(Answer):
    as_of = day()
    items = a_list(nested(ReconciliationItemAnswer))
    checkpoint = nested(ViewsCheckpointAnswer)


class FundFiguresAnswer(Answer):
    opening_rupiah = rupiah()
    received_rupiah = rupiah()
    amil_rupiah = rupiah()
    distributed_rupiah = rupiah()
    refunded_rupiah = rupiah()
    closing_rupiah = rupiah()


class CompanyFundAnswer(FundFiguresAnswer):
    company = text()
    legal_name = text()


class FundsAnswer(Answer):
    standard = text()
    fund = text()
    period = text()
    first_day = day(data_key="from")
    last_day = day(data_key="to")
    companies = a_list(nested(CompanyFundAnswer))
    total = nested(FundFiguresAnswer)
    closing_balances_rupiah = ma.fields.Dict(keys=text(), values=rupiah(), metadata={
        "description": "each company's restricted fund the day after the period"})
    ledger = text()
    checkpoint = nested(ViewsCheckpointAnswer)
    generated_at = text()


class PostingAnswer(Answer):
    entry = integer()
    occurred_on = day()
    account = text()
    amount_rupiah = rupiah(metadata={"description": "positive a debit, negative a credit"})
    type = text()
    actor = text()


class JournalAnswer(Answer):
    first_day = day(data_key="from")
    last_day = day(data_key="to")
    postings = a_list(nested(PostingAnswer))
    debits_rupiah = rupiah()
    credits_rupiah = rupiah()
    checkpoint = nested(ViewsCheckpointAnswer)


class TraceAnswer(Answer):
    optional = ("forward", "backward")

    index = integer()
    type = text()
    actor = text()
    entry = ma.fields.Dict(metadata={"description": "the stored entry"})
    forward = ma.fields.Dict(metadata={"description": "a receipt to disbursements and worker-months"})
    backward = ma.fields.Dict(metadata={"description": "a claim, premium or disbursement to who funded it"})


class DrawAnswer(Answer):
    disbursement = text()
    amount_rupiah = rupiah()


class WorkerMonthAnswer(Answer):
    entry = integer()
    worker = text()
    month = text()
    amount_rupiah = rupiah()
    refunded = ma.fields.Boolean()


class ReceiptTraceAnswer(Answer):
    receipt = text()
    company = text()
    amount_rupiah = rupiah()
    entry = integer()
    amil_rupiah = rupiah()
    disbursements = a_list(nested(DrawAnswer))
    premiums_rupiah = rupiah()
    premiums_refunded_rupiah = rupiah()
    worker_months = a_list(nested(WorkerMonthAnswer))


class CompanyTraceAnswer(Answer):
    company = text()
    receipts = a_list(nested(ReceiptTraceAnswer))


def answer(blp, schema: type[Answer], description: str, *downloads: str):
    """`blp.response` for a JSON answer, `blp.alt_response` for each download media type, all under 200."""
    def decorate(view):
        for media_type in downloads:
            view = blp.alt_response(200, schema=BINARY, content_type=media_type, description=description)(view)
        return blp.response(200, schema, description=description)(view)
    return decorate
