"""Fixtures for the projections tests: the domain tests' small programme ledger."""

from tests.domain.conftest import Programme, programme  # noqa: F401
