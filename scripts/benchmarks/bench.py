"""scripts/bench: each figure beside a baseline measured in the same run.

Machines here are shared and noisy, so every figure is the median of several runs and is
reported as a ratio to its baseline. Results go to stdout and to docs/benchmarks.md. Run from
a checkout (`scripts/bench --scale tiny`); it is not part of the installed `amanah` command."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from dataclasses import dataclass
from pathlib import Path

from eventsourcing.domain import Aggregate, event

from ledger import merkle
from ledger.bundle import export_bundle
from ledger.config import Settings
from scripts.benchmarks.bench_http import bench_http
from scripts.benchmarks.bench_report import markdown
from scripts.benchmarks.bench_verify import bench_verify
from scripts.benchmarks.bench_volume import bench_sustained, bundle_figures, storage_figures
from scripts.benchmarks.synthetic import Synthetic, drop_created_schemas, fresh_postgres


def _median(values: list[float]) -> float:
    return statistics.median(values)


def bench_ingest(database_url: str, lines: int, runs: int) -> dict:
    """One signed premium batch through the whole write path, against plain eventsourcing."""
    ours, base = [], []
    for run in range(runs):
        with tempfile.TemporaryDirectory() as directory:
            postgres = database_url.startswith("postgres")
            url = fresh_postgres(database_url) if postgres else database_url.replace("{dir}", directory)
            world = Synthetic(url, Path(directory))
            world.enrol(lines)
            document = world.premium_submission("2025-01", world.workers)
            started = time.perf_counter()
            world.ledger.submit(document)
            ours.append(lines / (time.perf_counter() - started))
            world.ledger.close()
            base.append(_baseline_save(fresh_postgres(database_url) if postgres else
                                       f"sqlite:///{directory}/baseline.db", lines))
    return {"lines": lines, "ours_lines_per_s": _median(ours), "baseline_lines_per_s": _median(base),
            "ratio": _median(ours) / _median(base)}


class BaselinePremium(Aggregate):
    """The baseline: an unsigned premium, saved with plain eventsourcing."""

    @event("Paid")
    def __init__(self, worker: str, month: str, amount_rupiah: int):
        pass


BASELINE_CHUNK = 10_000  # events per `save` of the baseline (see _baseline_save)


def _baseline_save(url: str, count: int) -> float:
    """Plain eventsourcing saving `count` small unsigned events, in `save` calls of at most
    BASELINE_CHUNK: the library's PostgreSQL recorder inserts in psycopg's pipeline mode, which
    stalled here on one `save` of 19,999 events (client waiting in Pipeline.sync, server in
    ClientRead, for 10 minutes; the `large` scale's batch). Ledger's own recorder inserts without
    the pipeline (ledger/postgres_recorder.py). One save per chunk is one more transaction per
    10,000 events, which makes the baseline slower by a few milliseconds, not faster."""
    from eventsourcing.application import Application

    settings = Settings.from_environment({"AMANAH_DATABASE_URL": url, "AMANAH_HOME": tempfile.gettempdir()})
    env = {key: value for key, value in settings.eventsourcing_env().items()
           if key not in ("MAPPER_TOPIC", "APPLICATION_RECORDER_TOPIC")}
    application = Application(env=env)
    aggregates = [BaselinePremium(worker=f"{number:064x}", month="2025-01", amount_rupiah=16_800) for number in range(count)]
    started = time.perf_counter()
    for start in range(0, count, BASELINE_CHUNK):
        application.save(*aggregates[start:start + BASELINE_CHUNK])
    rate = count / (time.perf_counter() - started)
    application.close()
    return rate


def bench_rebuild(world: Synthetic, runs: int) -> dict:
    """A views rebuild from the whole log, beside reading and decoding the same entries."""
    from projections.runner import ProjectionRunner
    from ledger.entry import parse_stored_entry

    size = world.ledger.size()
    runner = ProjectionRunner(world.ledger)
    rebuild, decode = [], []
    for _ in range(runs):
        started = time.perf_counter()
        runner.rebuild()
        rebuild.append(size / (time.perf_counter() - started))
        started = time.perf_counter()
        for start in range(0, size, 1000):
            for _, leaf in world.ledger.entries(start, min(1000, size - start)):
                parse_stored_entry(leaf)
        decode.append(size / (time.perf_counter() - started))
    runner.close()
    return {"entries": size, "rebuild_events_per_s": _median(rebuild), "read_decode_per_s": _median(decode),
            "rebuild_ratio": _median(rebuild) / _median(decode)}


def bench_proofs(leaves: int, samples: int) -> dict:
    """Inclusion and consistency proofs from stored subtrees (an in-memory node store)."""
    store: dict[int, bytes] = {}
    frontier: list = []
    batch = [merkle.leaf_hash(number.to_bytes(8, "big")) for number in range(min(leaves, 100_000))]
    done = 0
    while done < leaves:
        chunk = batch[:min(len(batch), leaves - done)]
        store.update(merkle.append_nodes(frontier, done, chunk))
        done += len(chunk)
    read = lambda keys: {key: store[key] for key in keys}  # noqa: E731
    import random

    rng = random.Random(7)
    inclusion, consistency = [], []
    for _ in range(samples):
        index = rng.randrange(leaves)
        started = time.perf_counter()
        merkle.inclusion_proof(index, leaves, read)
        inclusion.append((time.perf_counter() - started) * 1000)
        first = rng.randrange(1, leaves)
        started = time.perf_counter()
        merkle.consistency_proof(first, leaves, read)
        consistency.append((time.perf_counter() - started) * 1000)
    quantiles = lambda values: (statistics.median(values), statistics.quantiles(values, n=100)[98])  # noqa: E731
    return {"leaves": leaves, "inclusion_p50_ms": quantiles(inclusion)[0], "inclusion_p99_ms": quantiles(inclusion)[1],
            "consistency_p50_ms": quantiles(consistency)[0], "consistency_p99_ms": quantiles(consistency)[1]}


@dataclass(frozen=True)
class Scale:
    ingest_lines: int
    entries: int
    proof_leaves: int
    submissions: int
    load_seconds: float
    runs: int
    sustained_lines: int  # premium lines ingested batch after batch (on PostgreSQL when given)


SCALES = {
    "tiny": Scale(500, 3_000, 100_000, 30, 3.0, 2, 1_000),
    "small": Scale(2_000, 20_000, 1_000_000, 100, 15.0, 3, 0),
    "demo": Scale(11_860, 160_000, 3_000_000, 200, 30.0, 3, 0),
    "large": Scale(19_999, 1_000_000, 10_000_000, 200, 30.0, 2, 1_000_000),  # a batch holds at most 20,000 envelopes
}


def run(scale_name: str, postgres_url: str | None, output: Path | None, sustained: int | None = None) -> dict:
    """Every measurement at one scale (see SCALES), on SQLite and, given a URL, on PostgreSQL;
    `sustained` premium lines (default: the scale's) ingested batch after batch."""
    scale = SCALES[scale_name]
    sustained = scale.sustained_lines if sustained is None else sustained
    results: dict = {"scale": scale_name, "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores",
                     "python": platform.python_version(), "date": datetime.now(UTC).isoformat(timespec="seconds"),
                     "command": " ".join(sys.argv)}
    try:
        _measure(scale_name, scale, postgres_url, sustained, results)
    except BaseException:
        # What was measured before the failure is not lost with it: print it, then fail.
        print(json.dumps({**results, "failed_at": results.get("step")}, indent=2), flush=True)
        raise
    results.pop("step", None)
    print(json.dumps(results, indent=2))
    if output:
        output.write_text(json.dumps(results, indent=2) + "\n")
    return results


def _measure(scale_name: str, scale: Scale, postgres_url: str | None, sustained: int, results: dict) -> None:
    """Every measurement of `run`, each step's figures added to `results` as it finishes."""
    def _step(scale: str, what: str) -> None:
        results["step"] = what
        _print_step(scale, what)

    _step(scale_name, "ingest on SQLite")
    results["ingest_sqlite"] = bench_ingest("sqlite:///{dir}/ledger.db", scale.ingest_lines, scale.runs)
    if postgres_url:
        _step(scale_name, "ingest on PostgreSQL")
        results["ingest_postgres"] = bench_ingest(postgres_url, scale.ingest_lines, scale.runs)
    if sustained:
        _step(scale_name, f"sustained ingest of {sustained:,} lines on {'PostgreSQL' if postgres_url else 'SQLite'}")
        results["sustained"] = bench_sustained(postgres_url or "sqlite:///{dir}/ledger.db", sustained)
    _step(scale_name, "proofs")
    results["proofs"] = bench_proofs(scale.proof_leaves, 2000)
    with tempfile.TemporaryDirectory() as directory:
        _step(scale_name, f"building a {scale.entries:,}-entry ledger on SQLite")
        world = Synthetic(f"sqlite:///{directory}/ledger.db", Path(directory))
        world.grow_to(scale.entries)
        export_bundle(world.ledger, Path(directory) / "bundle")
        results["storage_sqlite"] = storage_figures(world, Path(directory) / "bundle")
        export_bundle(world.ledger, Path(directory) / "bundle-format-1", bundle_format=1)  # the baseline
        results["storage_sqlite"]["bundle_format_1_bytes_per_premium_line"] = bundle_figures(
            Path(directory) / "bundle-format-1")["bundle_bytes_per_premium_line"]
        _step(scale_name, "verify")
        results["verify"] = bench_verify(Path(directory) / "bundle", world.ledger.size(), scale.runs,
                                         Path(directory) / "bundle-format-1")
        _step(scale_name, "views rebuild")
        results["rebuild"] = bench_rebuild(world, scale.runs)
        _step(scale_name, "HTTP on SQLite")
        results["http_sqlite"] = bench_http(world, scale.submissions, scale.load_seconds)
        world.ledger.close()
    if postgres_url:
        with tempfile.TemporaryDirectory() as directory:
            _step(scale_name, f"building a {scale.entries:,}-entry ledger on PostgreSQL")
            world = Synthetic(fresh_postgres(postgres_url), Path(directory))
            world.grow_to(scale.entries)
            results["storage_postgres"] = storage_figures(world)
            _step(scale_name, "HTTP on PostgreSQL")
            results["http_postgres"] = bench_http(world, scale.submissions, scale.load_seconds)
            world.ledger.close()


def _print_step(scale: str, what: str) -> None:
    print(f"bench [{scale}] {datetime.now(UTC).strftime('%H:%M:%S')} {what}", file=sys.stderr, flush=True)


def _scales(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SCALES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"--scale takes {', '.join(SCALES)} (joined by commas), not {text!r}")
    return names


def _lines(text: str) -> int:
    try:
        lines = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        lines = -1
    if not 0 <= lines <= 100_000_000:
        raise argparse.ArgumentTypeError(f"--sustained takes a number of lines from 0 to 100,000,000, not {text!r}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """scripts/bench: every scale asked for, then the JSON figures and the Markdown table if asked."""
    parser = argparse.ArgumentParser(prog="scripts/bench", description="benchmarks, each beside its baseline "
                                     "(docs/benchmarks.md)")
    parser.add_argument("--scale", type=_scales, default=["tiny"],
                        help="tiny, small, demo or large, or several joined by commas (default tiny)")
    parser.add_argument("--postgres", help="also measure ingest and reads on this PostgreSQL URL")
    parser.add_argument("--sustained", type=_lines, metavar="LINES",
                        help="premium lines to ingest batch after batch, on PostgreSQL if given (default: "
                        "the scale's: 1,000 at tiny, 1,000,000 at large, none otherwise; 0 for none)")
    parser.add_argument("--output", type=Path, help="write the figures as JSON here")
    parser.add_argument("--markdown", type=Path, help="write the table (for docs/benchmarks.md) here")
    arguments = parser.parse_args(argv)
    try:
        results = [run(scale, arguments.postgres, None, arguments.sustained) for scale in arguments.scale]
    finally:
        drop_created_schemas()
    if arguments.output:
        arguments.output.write_text(json.dumps(results if len(results) > 1 else results[0], indent=2) + "\n")
    if arguments.markdown:
        arguments.markdown.write_text(markdown(results))
        print(f"wrote {arguments.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
