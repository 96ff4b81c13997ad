"""Fixtures of the reliability tests (crashes and concurrency, through real processes)."""

from __future__ import annotations

import pytest

from tests.integration.conftest import opened  # noqa: F401
from tests.reliability.support import Databases


@pytest.fixture
def databases(database_url, tmp_path):
    """More fresh databases of the kind `database_url` is."""
    made = Databases.like(database_url, tmp_path)
    yield made
    made.drop()
