"""The programme's money events. Importing this package registers their event types and the
workers' snapshot codec."""

from ledger.domain import award_year, claims, money, premiums, reversals, worker_snapshot, workers  # noqa: F401
