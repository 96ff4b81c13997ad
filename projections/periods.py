"""Reporting periods (defined in the domain, so the offline verifier reads them the same way)."""

from ledger.domain.periods import PERIOD, Period, parse_period

__all__ = ["PERIOD", "Period", "parse_period"]
