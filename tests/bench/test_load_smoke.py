"""scripts/load runs for a few seconds in every test run, so it cannot rot: the real server under
mixed signed writes and reads, every kind of request answered, no errors, memory sampled."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def test_a_five_second_load_reports_every_kind_of_request_without_errors(tmp_path):
    output = tmp_path / "load.json"
    completed = subprocess.run([sys.executable, "-m", "scripts.benchmarks.load", "--seconds", "5", "--clients", "3",
                                "--workers", "20", "--output", str(output)],
                               cwd=REPOSITORY, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    figures = json.loads(output.read_text())
    assert figures["errors"] == 0, figures["error_examples"]
    assert {"pledge", "disbursement", "premium", "statement", "inclusion proof", "consistency proof",
            "checkpoint", "page", "awards", "totals"} <= set(figures["kinds"])
    assert all(kind["p50_ms"] > 0 and kind["p99_ms"] >= kind["p50_ms"] for kind in figures["kinds"].values())
    assert len(figures["worker_memory"]) == 2 and all(worker["samples"] >= 2 for worker in figures["worker_memory"].values())
    assert figures["verify"]["ok"] and figures["verify"]["entries"] > 20
    assert "req/s" in completed.stdout and "verify --db afterwards: OK" in completed.stdout


def test_the_load_script_refuses_durations_out_of_bounds():
    completed = subprocess.run([sys.executable, "-m", "scripts.benchmarks.load", "--seconds", "99999"],
                               cwd=REPOSITORY, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2 and "--seconds: must be between 1 and 3600" in completed.stderr
