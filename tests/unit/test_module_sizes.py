"""Modules stay under about 300 lines (house style 2: one module per idea), so a module that grows
past it is split by responsibility when it happens, not in a later clean-up."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ledger", "api", "projections", "cli")
MAX_LINES = 300
# Being split by other sessions of issue 13 while this test was written; empty this at the merge,
# and never add to it: split the module instead.
BEING_SPLIT = {
    "ledger/verify.py",  # h-bundle
    "ledger/application.py",  # h-write
    "ledger/domain/workers.py",  # h-write
    "ledger/log_store.py",  # h-write (307 lines at the start of the round)
}


def line_counts() -> dict[str, int]:
    return {path.relative_to(ROOT).as_posix(): len(path.read_text().splitlines())
            for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def test_no_module_is_over_300_lines():
    over = {name: lines for name, lines in line_counts().items() if lines > MAX_LINES and name not in BEING_SPLIT}
    assert over == {}, "split these by responsibility"


def test_the_allowance_names_only_modules_that_exist():
    assert BEING_SPLIT <= set(line_counts()), "a module in BEING_SPLIT is gone: remove it from the list"
