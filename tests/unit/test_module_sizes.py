"""Modules stay under about 300 lines (house style 2: one module per idea), so a module that grows
past it is split by responsibility when it happens, not in a later clean-up."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ledger", "api", "projections", "cli")
MAX_LINES = 300


def line_counts() -> dict[str, int]:
    return {path.relative_to(ROOT).as_posix(): len(path.read_text().splitlines())
            for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def test_no_module_is_over_300_lines():
    over = {name: lines for name, lines in line_counts().items() if lines > MAX_LINES}
    assert over == {}, "split these by responsibility"
