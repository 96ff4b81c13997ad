"""The submission probe (scripts/benchmarks/submission_probe.py) builds a ledger once, times single
submissions through the real server on it, and drops it."""

from __future__ import annotations

import json

from scripts.benchmarks import submission_probe


def test_the_probe_builds_times_and_drops_a_ledger(tmp_path, capsys):
    home = tmp_path / "probe"
    submission_probe.main(["build", "--home", str(home), "--entries", "300"])
    assert (home / submission_probe.PROBE_FILE).exists()
    for _ in range(2):  # the same ledger timed twice: each run's pledges are new
        submission_probe.main(["time", "--home", str(home), "--submissions", "5"])
        figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert figures["submissions"] == 5 and 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    submission_probe.main(["drop", "--home", str(home)])
    assert not home.exists()
