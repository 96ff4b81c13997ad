"""`amanah projections run` killed (SIGKILL) at random moments while it catches the views up
with thousands of entries: each restart catches up to the log's size, and the views then equal a
fresh rebuild of the same log in another database, row for row."""

from __future__ import annotations

import random
import subprocess
import time
from collections import Counter, deque
from pathlib import Path

from sqlalchemy import update

from scripts.benchmarks.synthetic import Synthetic
from projections import tables as t
from projections.runner import NAME, ProjectionRunner
from tests.reliability.support import dismiss, environment, go, kill_group, kills_per_database, prepare, settle


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
    runners = _Runners(environment(tmp_path, database_url, views_url), tmp_path)
    startup_s, whole_s = _measure(runners)
    kills, rng, tally = kills_per_database(), random.Random(20251125), Counter()
    started = time.monotonic()
    while tally["killed"] < kills:
        _reset(views)
        process = runners.take()
        # inside the catch-up, chosen by how far the views are rather than by a time measured
        # once: on a loaded machine a run's speed varies too much for a fixed window
        if not _kill_at(views, process, _target(rng, size), rng, startup_s):
            tally["finished before the kill"] += 1
            assert tally["finished before the kill"] <= kills, "the kills come too late to matter"
            continue
        tally["killed"] += 1
        settle(views_url, t.tracking.name)
        tally[_where(views.position(), size)] += 1
        _run_to_the_end(runners)
        assert views.position() == size
        assert views.dump() == expected
    assert tally["killed between batches"] >= kills // 2, f"few kills landed inside the catch-up: {dict(tally)}"
    print(f"\nprojection runner killed during catch-up of {size} entries, {database_url.split(':')[0]}: "
          f"startup {startup_s:.2f} s, whole run {whole_s:.2f} s; {dict(tally)}; {time.monotonic() - started:.0f} s")
    runners.close()
    views.close()
    reference.close()
    world.ledger.close()


class _Runners:
    """`amanah projections run` processes started ahead of time (tests/reliability/prepared.py):
    two wait, imported, and each one taken is replaced at once, so the next runs' start-up
    overlaps this one's catch-up and the checks after it."""

    def __init__(self, env: dict, home: Path):
        self.env, self.home, self.started, self.errors = env, home, 0, home / "runner-0.err"
        self.waiting = deque(self._start() for _ in range(2))

    def _start(self) -> tuple[subprocess.Popen, Path]:
        self.started += 1
        errors = self.home / f"runner-{self.started}.err"
        with errors.open("w") as output:
            return prepare(["projections", "run"], self.env, stdout=subprocess.DEVNULL, stderr=output), errors

    def take(self) -> subprocess.Popen:
        """A runner, running from now on (its errors go to `self.errors`)."""
        process, self.errors = self.waiting.popleft()
        self.waiting.append(self._start())
        return go(process)

    def close(self) -> None:
        for process, _ in self.waiting:
            dismiss(process)


def _measure(runners: _Runners) -> tuple[float, float]:
    """Seconds of a run that has nothing to do (starting up, once imported, as every killed run
    is) and of a whole catch-up."""
    durations = []
    for _ in range(2):  # the first run catches up, the second finds nothing to do
        begun = time.perf_counter()
        _run_to_the_end(runners)
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


def _run_to_the_end(runners: _Runners) -> None:
    process = runners.take()
    process.wait(timeout=300)
    assert process.returncode == 0, runners.errors.read_text()[-3000:]
