"""Reporting periods: a year (2025) or a Baznas half-year (2025-H1, 2025-H2)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ledger.errors import InvalidInput

PERIOD = re.compile(r"([0-9]{4})(?:-H([12]))?")


@dataclass(frozen=True)
class Period:
    name: str
    year: int
    first_day: str
    last_day: str
    first_month: str
    last_month: str

    def months(self) -> list[str]:
        first, last = int(self.first_month[5:]), int(self.last_month[5:])
        return [f"{self.year:04d}-{month:02d}" for month in range(first, last + 1)]


def parse_period(text: object, field: str = "period") -> Period:
    """'2025', '2025-H1' or '2025-H2' (years 2000..2100)."""
    match = PERIOD.fullmatch(str(text)) if isinstance(text, (str, int)) else None
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        raise InvalidInput("must be a year like 2025, or a half-year like 2025-H1", field=field)
    year, half = int(match.group(1)), match.group(2)
    if half == "1":
        return Period(f"{year}-H1", year, f"{year}-01-01", f"{year}-06-30", f"{year}-01", f"{year}-06")
    if half == "2":
        return Period(f"{year}-H2", year, f"{year}-07-01", f"{year}-12-31", f"{year}-07", f"{year}-12")
    return Period(str(year), year, f"{year}-01-01", f"{year}-12-31", f"{year}-01", f"{year}-12")
