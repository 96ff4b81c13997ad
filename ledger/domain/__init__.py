"""The programme's money events. Importing this package registers their event types."""

from ledger.domain import awards, claims, money, reversals, workers  # noqa: F401
