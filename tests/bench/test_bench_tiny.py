"""The benchmark script runs at a tiny scale in every test run, so it cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys


def test_the_tiny_benchmark_reports_every_figure_beside_its_baseline(tmp_path):
    output = tmp_path / "bench.json"
    completed = subprocess.run([sys.executable, "-m", "api.cli", "bench", "--scale", "tiny", "--output", str(output)],
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    figures = json.loads(output.read_text())
    assert figures["ingest_sqlite"]["ratio"] > 0 and figures["ingest_sqlite"]["baseline_lines_per_s"] > 0
    verify = figures["verify_and_rebuild"]
    assert verify["verify_entries_per_s"] > 0 and verify["raw_parse_hash_per_s"] > 0 and verify["verify_ratio"] > 0
    assert verify["rebuild_events_per_s"] > 0 and verify["read_decode_per_s"] > 0
    assert figures["proofs"]["inclusion_p99_ms"] > 0 and figures["proofs"]["consistency_p99_ms"] > 0
    http = figures["http_sqlite"]
    assert http["submission_p99_ms"] > 0 and http["statement"]["errors"] == 0 and http["health"]["errors"] == 0
