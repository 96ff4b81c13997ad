"""The shapes of the signed documents (impact statements, award lists) and the award preview, for
docs/openapi.json; their figures are defined in docs/statements.md and docs/awards.md."""

from __future__ import annotations

import marshmallow as ma

from api.answers import (
    Answer, CheckpointReferenceAnswer, ClaimsPaidAnswer, ViewsCheckpointAnswer, a_list, day, integer, nested,
    rupiah, text,
)


class SignatureAnswer(Answer):
    algorithm = text()
    canonicalisation = text()
    context = text()
    verifier_key = text()
    value = text(metadata={"description": "over the RFC 8785 encoding of the document without `signature`"})


class SignedAnswer(Answer):
    """What every signed document carries."""

    kind = text()
    version = integer()
    ledger = text()
    checkpoint = nested(ViewsCheckpointAnswer)
    generated_at = text()
    signature = nested(SignatureAnswer)


class CompanyNameAnswer(Answer):
    organisation = text()
    legal_name = text()


class PledgeChangeAnswer(Answer):
    pledge = text()
    kind = text()
    on = day()
    previous_rupiah = rupiah()
    amount_rupiah = rupiah()
    reason = text(allow_none=True)
    entry = integer()


class BreakdownAnswer(Answer):
    worker_months = integer()
    premiums_funded_rupiah = rupiah()


class MonthAnswer(BreakdownAnswer):
    month = text()
    received_rupiah = rupiah()


class StatementAnswer(SignedAnswer):
    company = nested(CompanyNameAnswer)
    period = text()
    first_day = day(data_key="from")
    last_day = day(data_key="to")
    pledged_rupiah = rupiah()
    pledged_current_rupiah = rupiah()
    pledge_fulfilment_percent = integer(allow_none=True, metadata={"description": "null without a pledge"})
    pledge_changes = a_list(nested(PledgeChangeAnswer))
    pledge_outstanding_rupiah = rupiah()
    received_rupiah = rupiah()
    amil_rupiah = rupiah()
    disbursed_rupiah = rupiah()
    unspent_held_rupiah = rupiah()
    premiums_funded_rupiah = rupiah()
    premiums_refunded_rupiah = rupiah()
    worker_months = integer()
    full_year_equivalent_workers = text()
    programme_full_year_equivalent_workers = text()
    distinct_workers_reached_overlapping = integer()
    by_category = ma.fields.Dict(keys=text(), values=nested(BreakdownAnswer))
    by_kelurahan = ma.fields.Dict(keys=text(), values=nested(BreakdownAnswer))
    by_month = a_list(nested(MonthAnswer))
    claims_paid = nested(ClaimsPaidAnswer)
    entries = a_list(a_list(integer()), metadata={"description": "the entries behind the figures, as [first, last] "
                                                                "ranges of indexes"})


# ---- awards ------------------------------------------------------------------------------------

class TierAnswer(Answer):
    name = text()
    min_received_rupiah = rupiah()
    min_worker_months = integer()


class ExclusionAnswer(Answer):
    company = text()
    reason = text()


class CriteriaAnswer(Answer):
    rank_by = text()
    tiers = a_list(nested(TierAnswer))
    min_pledge_fulfilment_percent = integer()
    exclude_open_reconciliation = ma.fields.Boolean()
    excluded = a_list(nested(ExclusionAnswer))


class AwardRowAnswer(Answer):
    """A contributing company's figures for the year."""

    company = text()
    legal_name = text()
    invited_on = day(allow_none=True)
    received_rupiah = rupiah()
    pledged_rupiah = rupiah()
    pledged_current_rupiah = rupiah()
    award_pledge_basis_rupiah = rupiah()
    pledge_fulfilment_percent = integer()
    pledge_changes = a_list(nested(PledgeChangeAnswer))
    worker_months = integer()
    full_year_equivalent_workers = text()
    premiums_funded_rupiah = rupiah()


class AwardedAnswer(AwardRowAnswer):
    rank = integer()
    tier = text()


class NotAwardedAnswer(AwardRowAnswer):
    reasons = a_list(text())


class InvitedAnswer(Answer):
    company = text()
    legal_name = text()
    invited_on = day()


class AwardListing(Answer):
    """The three lists, ranked by the one ranking rule (docs/awards.md)."""

    year = integer()
    criteria = nested(CriteriaAnswer)
    awarded = a_list(nested(AwardedAnswer))
    not_awarded = a_list(nested(NotAwardedAnswer))
    invited_not_contributing = a_list(nested(InvitedAnswer))
    companies_invited = integer()
    companies_contributing = integer()


class ProvenanceAnswer(Answer):
    """Who signed an award event, when, and its signature as it stands in the log."""

    entry = integer()
    signed_by = text()
    legal_name = text()
    on = day()
    recorded_at = text()
    key_id = text()
    signature = text()
    batch_root = text(allow_none=True)


class DecidedRankAnswer(Answer):
    rank = integer()
    company = text()
    tier = text()
    legal_name = text()


class DecisionAnswer(ProvenanceAnswer):
    year = integer()
    criteria_entry = integer()
    checkpoint = nested(CheckpointReferenceAnswer)
    awarded = a_list(nested(DecidedRankAnswer))
    not_awarded = a_list(text())
    supersedes = integer(allow_none=True)
    reason = text(allow_none=True)
    differences_from_current_figures = a_list(text())


class AwardsAnswer(SignedAnswer, AwardListing):
    criteria_source = nested(ProvenanceAnswer, allow_none=True, metadata={
        "description": "the criteria's publication; null for the defaults"})
    decision = nested(DecisionAnswer, allow_none=True)


class AwardPreviewAnswer(AwardListing):
    kind = text()
    preview = ma.fields.Boolean()
    checkpoint = nested(CheckpointReferenceAnswer)
    criteria_entry = integer(allow_none=True, metadata={"description": "the published criteria a decision would "
                                                                         "name; null for other criteria"})
