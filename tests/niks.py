"""NIKs for tests: well formed (ledger/nik.py) and distinct for distinct numbers. North Jakarta,
Kelapa Gading district (3172 06), born 1 January 1990 (a woman's day + 40), serial number + 1."""

from __future__ import annotations

SERIALS = 9999


def nik(number: int, *, woman: bool = False) -> str:
    """The test NIK numbered `number` (0 to 279,971)."""
    assert 0 <= number < SERIALS * 28, number
    day = 1 + number // SERIALS + (40 if woman else 0)
    return f"317206{day:02d}0190{number % SERIALS + 1:04d}"
