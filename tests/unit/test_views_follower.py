"""The views follower (api/views_follower.py): submissions stored close together are caught up
once, a failure is logged with their entries, and closing does not wait out the gathering."""

from __future__ import annotations

import logging
import threading
import time

from api.views_follower import ViewsFollower


def test_submissions_stored_while_it_gathers_are_caught_up_once():
    runs = []
    follower = ViewsFollower(lambda: runs.append(time.monotonic()), gather_s=0.5)
    try:
        for first in range(0, 30, 10):
            follower.stored(first, first + 9)
        assert follower.wait_idle(10)
        assert len(runs) == 1
        follower.stored(30, 30)
        assert follower.wait_idle(10) and len(runs) == 2
    finally:
        follower.stop()


def test_a_failed_catch_up_is_logged_with_the_entries_it_was_for_and_the_next_one_runs(caplog):
    outcomes = iter([RuntimeError("the views database went away"), None])

    def catch_up():
        outcome = next(outcomes)
        if outcome is not None:
            raise outcome

    follower = ViewsFollower(catch_up, gather_s=0.2)
    try:
        with caplog.at_level(logging.ERROR, logger="amanah.api"):
            follower.stored(5, 9)
            follower.stored(10, 12)
            assert follower.wait_idle(10)
        assert "the views could not catch up after entries 5..12 were stored" in caplog.text
        follower.stored(13, 13)
        assert follower.wait_idle(10)
        assert next(outcomes, "all used") == "all used"
    finally:
        follower.stop()


def test_stopping_leaves_what_is_gathering_to_the_next_read_and_waits_for_a_catch_up_under_way():
    started, release, runs = threading.Event(), threading.Event(), []

    def slow_catch_up():
        started.set()
        release.wait(10)
        runs.append("done")

    follower = ViewsFollower(slow_catch_up, gather_s=0.05)
    follower.stored(0, 0)
    assert started.wait(10)
    assert not follower.wait_idle(0.1)  # under way
    threading.Timer(0.2, release.set).start()
    follower.stop()  # waits for the catch-up under way
    assert runs == ["done"]

    gathering = ViewsFollower(lambda: runs.append("late"), gather_s=30)
    gathering.stored(1, 1)
    began = time.monotonic()
    gathering.stop()
    assert time.monotonic() - began < 5 and runs == ["done"]
    gathering.stored(2, 2)  # after stopping: ignored
    assert runs == ["done"]


def test_an_idle_thread_ends_and_the_next_submission_starts_another():
    runs = []
    follower = ViewsFollower(lambda: runs.append("run"), gather_s=0.01, idle_exit_s=0.2)
    try:
        follower.stored(0, 0)
        assert follower.wait_idle(10) and runs == ["run"]
        deadline = time.monotonic() + 10
        while follower.running and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not follower.running  # an app never closed keeps no thread, nor what it holds
        follower.stored(1, 1)
        assert follower.wait_idle(10) and runs == ["run", "run"]
    finally:
        follower.stop()
