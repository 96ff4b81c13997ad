"""Views are applied exactly once: incrementally, by two runners at once, and across kill -9."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

from projections.queries import balances, programme_totals
from projections.runner import ProjectionRunner
from tests.niks import nik

# Imports once, then forks one runner process per line read (each the test's to kill), so a kill
# costs no interpreter start-up. A runner is reaped only when the next line (or the end) comes,
# after the test has killed it, so its pid is never reused before the kill.
RUNNERS = """
import os, sys
from ledger.application import Ledger
from ledger.config import Settings
from projections.runner import ProjectionRunner
child = None
for _ in sys.stdin:
    if child:
        os.waitpid(child, 0)
    child = os.fork()
    if child == 0:
        runner = ProjectionRunner(Ledger(Settings.from_environment()), batch_size=int(sys.argv[1]))
        print(f"ready {os.getpid()}", flush=True)
        runner.run()
        print("done", flush=True)
        break
else:  # the parent exits as its last runner did
    sys.exit(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) if child else 0)
"""


def history(programme, months: int = 3, workers: int = 40) -> None:
    programme.pledge("pt-maju-bersama", "pl-1", 100_000_000)
    programme.receive("pt-maju-bersama", "rc-1", 60_000_000, "pl-1")
    programme.receive("pt-sinar-laut", "rc-2", 40_000_000)
    references = [programme.enrol(nik(n), category="dasawisma" if n % 3 else "ojek_online") for n in range(workers)]
    for month in range(1, months + 1):
        name = f"2025-{month:02d}"
        programme.disburse(f"ds-{name}", [("rc-1", "pt-maju-bersama", 400_000), ("rc-2", "pt-sinar-laut", 272_000)], name)
        programme.pay(f"b-{name}", f"ds-{name}", name, references)


def test_incremental_views_equal_a_rebuild_and_sums_hold(programme):
    runner = ProjectionRunner(programme.ledger, batch_size=7)
    programme.pledge("pt-maju-bersama", "pl-0", 1_000_000)
    runner.run()
    history(programme)
    runner.run()
    incremental = runner.dump()
    assert runner.position() == programme.ledger.latest_checkpoint()["tree_size"]
    runner.rebuild()
    assert runner.dump() == incremental
    with runner.engine.connect() as connection:
        totals = programme_totals(connection)
        assert balances(connection)["trial_balance_rupiah"] == 0
    shares = incremental["view_premium_shares"]
    assert sum(row[3] for row in shares) == totals["premiums_rupiah"] == 3 * 40 * 16_800
    runner.close()


def test_two_runners_never_apply_twice(programme):
    history(programme, months=2, workers=20)
    first, second = ProjectionRunner(programme.ledger, batch_size=5), ProjectionRunner(programme.ledger, batch_size=3)
    while first.position() < first.target():
        first.run(limit_batches=1)
        second.run(limit_batches=1)
    together = first.dump()
    first.rebuild()
    assert first.dump() == together
    first.close()
    second.close()


def test_kill_9_at_random_moments_loses_and_repeats_nothing(programme):
    history(programme, months=3, workers=30)
    environment = {**os.environ, "AMANAH_HOME": str(programme.world.settings.home),
                   "AMANAH_DATABASE_URL": programme.world.settings.database_url}
    rng = random.Random(9)
    target = programme.ledger.latest_checkpoint()["tree_size"]
    observer = ProjectionRunner(programme.ledger)
    kills = 0
    runners = subprocess.Popen([sys.executable, "-c", RUNNERS, "3"], env=environment, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    while kills < 20 and observer.position() < target:
        runners.stdin.write("run\n")
        runners.stdin.flush()
        pid = _ready(runners.stdout)
        time.sleep(rng.uniform(0.0, 0.15))
        os.kill(pid, signal.SIGKILL)  # unreaped until the next line, even if it finished first
        kills += 1
    runners.stdin.close()
    runners.wait(timeout=60)  # its last runner was killed
    runners.stdout.close()
    subprocess.run([sys.executable, "-c", RUNNERS, "3"], env=environment, input="run\n", text=True, check=True,
                   capture_output=True, timeout=300)
    assert kills >= 1 and observer.position() == target
    survived = observer.dump()
    observer.rebuild()
    assert observer.dump() == survived
    observer.close()


def _ready(output) -> int:
    """The pid of the runner just forked (skipping the "done" of one that finished before its kill)."""
    for line in output:
        if line.startswith("ready "):
            return int(line.split()[1])
    raise AssertionError("the runners' parent exited")


def test_a_bulk_catch_up_refreshes_the_planner_statistics_of_the_views_on_postgresql(programme, monkeypatch):
    """After applying many entries at once, PostgreSQL plans the views' queries from fresh
    statistics (ANALYZE), not from the empty tables' (at 1M entries, 15.2 s against 6.2 s for a
    cold statement); a small catch-up leaves them alone, and SQLite is never asked."""
    import projections.runner as runner_module

    history(programme, months=1, workers=10)
    runner = ProjectionRunner(programme.ledger)
    postgres = runner.engine.dialect.name == "postgresql"
    analysed = _analysed_views(runner) if postgres else set()
    assert "view_premiums" not in analysed
    monkeypatch.setattr(runner_module, "ANALYZE_AFTER", 10)
    applied = runner.run()
    assert applied >= 10
    if postgres:
        assert {"view_premiums", "view_premium_shares", "view_workers"} <= _analysed_views(runner)
    programme.pledge("pt-maju-bersama", "pl-small", 1_000_000)
    monkeypatch.setattr(runner_module, "ANALYZE_AFTER", 50_000)
    assert runner.run() == 1  # under the threshold: applied, nothing analysed (and nothing fails)
    runner.close()


def _analysed_views(runner: ProjectionRunner) -> set[str]:
    """The view tables of this runner's schema that PostgreSQL has statistics for."""
    schema = (runner.engine.get_execution_options().get("schema_translate_map") or {}).get(None) or "public"
    with runner.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT relname FROM pg_stat_user_tables WHERE schemaname = %(schema)s AND last_analyze IS NOT NULL",
            {"schema": schema}).all()
    return {row[0] for row in rows}
