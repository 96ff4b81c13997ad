"""The programme's money events. Importing this package registers their event types, their
reversal rules and the workers' snapshot codec."""

from ledger.domain import (  # noqa: F401
    award_year, claims, disbursements, money, pledges, premiums, receipts, reversals, worker_reversals,
    worker_snapshot, workers,
)

assert set(reversals.REVERSAL_RULES) == set(reversals.REVERSIBLE_TYPES), "each reversible type has its rule"
