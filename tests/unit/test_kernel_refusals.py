"""The refusal matrix of tests/integration/test_submissions.py (forged and misplaced signatures,
unknown actors, keys and types, permissions, bad batch lines, genesis again) against the kernel
in memory, beside its end-to-end runs on SQLite and PostgreSQL there: each refused submission
names the same error and leaves the log as it was."""

from __future__ import annotations

import pytest

from tests.integration.support import open_programme
from tests.integration.test_submissions import REFUSALS, test_a_refused_submission_stores_nothing  # noqa: F401
from tests.kernel import kernel_world  # noqa: F401


@pytest.fixture
def world(kernel_world):  # noqa: F811
    """The refusals run in memory, through the writer's parsing, signing and rule code."""
    return kernel_world


@pytest.fixture
def opened(world):
    world.city = open_programme(world)
    return world
