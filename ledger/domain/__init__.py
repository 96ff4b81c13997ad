"""The programme's money events. Importing this package registers their event types."""

from ledger.domain import award_year, claims, money, reversals, workers  # noqa: F401
