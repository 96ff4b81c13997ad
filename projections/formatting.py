"""Rupiah as people write it: Indonesian `Rp42.000.000`, English `Rp42,000,000`."""

from __future__ import annotations


def rupiah(amount: int, language: str = "id") -> str:
    """Whole rupiah with the language's thousands separator; no decimals, no space."""
    grouped = f"{abs(int(amount)):,}"
    if language == "id":
        grouped = grouped.replace(",", ".")
    return f"-Rp{grouped}" if amount < 0 else f"Rp{grouped}"


def number(value: int, language: str = "id") -> str:
    """A whole number with the language's thousands separator."""
    grouped = f"{int(value):,}"
    return grouped.replace(",", ".") if language == "id" else grouped
