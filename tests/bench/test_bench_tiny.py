"""The benchmark script runs at a tiny scale in every test run, so it cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import POSTGRES_URL

REPOSITORY = Path(__file__).resolve().parents[2]


def test_the_tiny_benchmark_reports_every_figure_beside_its_baseline(tmp_path, postgres_available):
    output, table = tmp_path / "bench.json", tmp_path / "bench.md"
    completed = subprocess.run([sys.executable, "-m", "scripts.benchmarks.bench", "--scale", "tiny",
                                "--postgres", POSTGRES_URL, "--output", str(output), "--markdown", str(table)],
                               cwd=REPOSITORY, capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stderr[-2000:]
    figures = json.loads(output.read_text())
    for ingest in (figures["ingest_sqlite"], figures["ingest_postgres"]):
        assert ingest["lines"] == 500 and ingest["ratio"] > 0 and ingest["baseline_lines_per_s"] > 0
    verify, rebuild = figures["verify"], figures["rebuild"]
    assert verify["entries"] >= 3_000 and verify["verify_entries_per_s"] > 0 and verify["verify_ratio"] > 0
    assert verify["verify_peak_rss_mb"] > 0 and rebuild["rebuild_events_per_s"] > 0 and rebuild["rebuild_ratio"] > 0
    assert figures["proofs"]["leaves"] == 100_000 and figures["proofs"]["inclusion_p99_ms"] > 0
    for http in (figures["http_sqlite"], figures["http_postgres"]):
        assert http["submission_p99_ms"] > 0 and http["statement"]["errors"] == 0 and http["health"]["errors"] == 0
        assert http["statement"]["requests_per_s"] > 0
    sustained = figures["sustained"]
    assert sustained["postgres"] and sustained["lines"] == 1_000 and sustained["lines_per_s"] > 0
    assert (sustained["workers"], sustained["batches"], sustained["batch_lines"]) == (84, 12, 84)  # a batch a month
    assert sustained["entries_after"] > 1_000 and sustained["slowest_batch_lines_per_s"] > 0
    for storage in (figures["storage_sqlite"], figures["storage_postgres"]):
        assert storage["entries"] >= 3_000 and storage["ledger_bytes_per_entry"] > storage["stored_events_bytes_per_entry"] > 0
    assert figures["storage_sqlite"]["bundle_premium_lines"] > 2_000
    assert 300 < figures["storage_sqlite"]["bundle_bytes_per_premium_line"] < 5_000
    for http in (figures["http_sqlite"], figures["http_postgres"]):
        assert http["ready_seconds"] > 0 and http["first_submission_ms"] > 0
    markdown = table.read_text()
    assert markdown.count("| **no** |") + markdown.count("| yes |") == 15  # every row has its verdict
    assert "sustained ingest, 1,000 premium lines in 12 batches of up to 84, PostgreSQL, aggregate cache 50,000" in markdown


def test_an_unknown_scale_is_refused_naming_the_scales():
    completed = subprocess.run([sys.executable, "-m", "scripts.benchmarks.bench", "--scale", "tiny,huge"],
                               cwd=REPOSITORY, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2 and "tiny, small, demo, large" in completed.stderr
