"""Fixtures of the integration tests (the `world` and `database_url` fixtures come from
tests/conftest.py and run every test on SQLite and on PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.integration.support import open_programme


@pytest.fixture
def opened(world):
    """A ledger after genesis with a company and an open programme to pledge to."""
    world.city = open_programme(world)
    return world
