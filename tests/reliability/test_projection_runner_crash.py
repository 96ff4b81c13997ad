"""`amanah projections run` killed (SIGKILL) at random moments while it catches the views up
with thousands of entries: each restart catches up to the log's size, and the views then equal a
fresh rebuild of the same log in another database, row for row."""

from __future__ import annotations

import random
import subprocess
import time
from collections import Counter

from sqlalchemy import update

from scripts.benchmarks.synthetic import Synthetic
from projections import tables as t
from projections.runner import NAME, ProjectionRunner
from tests.reliability.support import amanah, environment, kill_group, kills_per_database, settle


def test_a_projection_runner_killed_during_catch_up_resumes_to_views_equal_to_a_rebuild(
        database_url, databases, tmp_path):
    world = Synthetic(database_url, tmp_path)
    world.enrol(1000)  # enough entries that a catch-up lasts long after the runner starts
    for month in range(1, 6):
        world.ledger.submit(world.premium_submission(f"2025-{month:02d}", world.workers))
    size = world.ledger.size()
    assert world.ledger.latest_checkpoint()["tree_size"] == size
    reference = ProjectionRunner(world.ledger, databases.new("reference"))
    reference.rebuild()
    expected = reference.dump()
    views_url = databases.new("views")
    views = ProjectionRunner(world.ledger, views_url)
    env = environment(tmp_path, database_url, views_url)
    startup_s, whole_s = _measure(env)
    kills, rng, tally = kills_per_database(), random.Random(20251125), Counter()
    started = time.monotonic()
    while tally["killed"] < kills:
        _reset(views)
        process = amanah(["projections", "run"], env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # inside the catch-up, chosen by how far the views are rather than by a time measured
        # once: on a loaded machine a run's speed varies too much for a fixed window
        if not _kill_at(views, process, _target(rng, size), rng, startup_s):
            tally["finished before the kill"] += 1
            assert tally["finished before the kill"] <= kills, "the kills come too late to matter"
            continue
        tally["killed"] += 1
        settle(views_url, t.tracking.name)
        tally[_where(views.position(), size)] += 1
        _run_to_the_end(env)
        assert views.position() == size
        assert views.dump() == expected
    assert tally["killed between batches"] >= kills // 2, f"few kills landed inside the catch-up: {dict(tally)}"
    print(f"\nprojection runner killed during catch-up of {size} entries, {database_url.split(':')[0]}: "
          f"startup {startup_s:.2f} s, whole run {whole_s:.2f} s; {dict(tally)}; {time.monotonic() - started:.0f} s")
    views.close()
    reference.close()
    world.ledger.close()


def _measure(env: dict) -> tuple[float, float]:
    """Seconds of a run that has nothing to do (starting up) and of a whole catch-up."""
    durations = []
    for _ in range(2):  # the first run catches up, the second finds nothing to do
        begun = time.perf_counter()
        _run_to_the_end(env)
        durations.append(time.perf_counter() - begun)
    return durations[1], durations[0]


def _target(rng: random.Random, size: int) -> int:
    """How many entries the views hold when the kill comes (0 in one run of ten: during start-up)."""
    return 0 if rng.random() < 0.1 else rng.randint(1, int(0.8 * size))


def _kill_at(views: ProjectionRunner, process: subprocess.Popen, target: int, rng: random.Random,
             startup_s: float) -> bool:
    """SIGKILL the runner once its views hold `target` entries, a random moment later (inside the
    next batch's transaction); False if it had finished first."""
    if target == 0:
        time.sleep(rng.uniform(0, startup_s))
        return kill_group(process)
    deadline = time.monotonic() + 300
    while process.poll() is None and views.position() < target and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(rng.uniform(0, 0.05))
    return kill_group(process)


def _reset(views: ProjectionRunner) -> None:
    """Empty the views, as `projections rebuild` does before it applies the log again."""
    with views.engine.begin() as connection:
        connection.execute(update(t.tracking).where(t.tracking.c.name == NAME).values(position=0))
        for table in reversed(t.VIEW_TABLES):
            connection.execute(table.delete())


def _where(position: int, size: int) -> str:
    if position == 0:
        return "killed before the first batch was applied"
    return "killed after the last batch" if position == size else "killed between batches"


def _run_to_the_end(env: dict) -> None:
    process = amanah(["projections", "run"], env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, errors = process.communicate(timeout=300)
    assert process.returncode == 0, errors.decode()[-3000:]
