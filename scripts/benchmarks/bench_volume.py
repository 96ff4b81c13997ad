"""The benchmark's volume figures: bytes stored and exported per entry, and a sustained ingest of
many premium batches one after another (a national month-end, not one batch)."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from ledger import snapshot_store
from ledger.bundle_v2 import ENTRY_PREFIX, SUBMISSION_PREFIX
from ledger.submission import MAX_BATCH_ENVELOPES
from scripts.benchmarks.synthetic import Synthetic, fresh_postgres

PREMIUM_TYPE = b'"type":"premium.paid"'
EVENT_TABLES = ("stored_events", "stored_events_1", "amanah_events")  # SQLite's, its key's index, PostgreSQL's
SNAPSHOT_TABLE = snapshot_store.TABLE  # pg_total_relation_size counts its key's index and TOAST; SQLite keeps it without rowid
MONTHS = 12  # a worker's premium is paid once per month of the programme year


def storage_figures(world: Synthetic, bundle: Path | None = None) -> dict:
    """Bytes per entry in the ledger's own tables and indexes (not the views; the workers'
    snapshots included), in the events table alone (eventsourcing's stored events, with its
    index), in the snapshots alone, and per premium line in the exported bundle's entries.jsonl
    (bundle_figures)."""
    entries = world.ledger.size()
    tables = {name: size for name, size in _table_bytes(world.settings.database_url).items()
              if not name.startswith("view")}  # PostgreSQL keeps the views in the ledger's schema
    stored_events = sum(size for name, size in tables.items() if name.endswith(EVENT_TABLES))
    figures = {"entries": entries, "ledger_bytes_per_entry": sum(tables.values()) / entries,
               "stored_events_bytes_per_entry": stored_events / entries,
               "snapshot_bytes_per_entry": tables.get(SNAPSHOT_TABLE, 0) / entries}
    if bundle is not None:
        figures.update(bundle_figures(bundle))
    return figures


def bundle_figures(bundle: Path) -> dict:
    """Bytes per premium line in the bundle's entries.jsonl. In format 2 a premium line is an
    envelope line, and each line is charged its share of its submission's record (the record's
    bytes divided by the lines it covers), so the figure is what the bundle holds per premium."""
    premium_bytes = premium_lines = line_bytes = 0
    share = 0.0  # the current submission record's bytes per line
    with (bundle / "entries.jsonl").open("rb") as handle:
        for line in handle:
            if line.startswith(SUBMISSION_PREFIX):
                share = len(line) / json.loads(line)["submission"]["batch"]["size"]
            elif line.startswith(ENTRY_PREFIX):
                share = 0.0
            if PREMIUM_TYPE in line:
                premium_lines += 1
                line_bytes += len(line)
                premium_bytes += len(line) + share
    format_name = json.loads((bundle / "manifest.json").read_text())["format"]
    return {"bundle_format": format_name, "bundle_premium_lines": premium_lines,
            "bundle_bytes_per_premium_line": premium_bytes / premium_lines if premium_lines else 0.0,
            "bundle_line_bytes_per_premium_line": line_bytes / premium_lines if premium_lines else 0.0}


def _table_bytes(database_url: str) -> dict[str, int]:
    """Bytes on disk of each table and index of the ledger's database, by name."""
    if database_url.startswith("postgres"):
        import psycopg

        plain, _, query = database_url.partition("?")
        schema = dict(part.split("=", 1) for part in query.split("&") if "=" in part).get("schema", "public")
        with psycopg.connect(plain) as connection:
            rows = connection.execute(
                "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'", (schema,)).fetchall()
        return {name: int(size) for name, size in rows}
    import sqlite3

    path = database_url.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    return {name: int(size) for name, size in rows}


def bench_sustained(database_url: str, lines: int, batch_lines: int = MAX_BATCH_ENVELOPES - 1) -> dict:
    """`lines` premium lines on a fresh ledger, month after month, each month's workers in equal
    signed batches of at most `batch_lines` (the largest a submission holds, with its header):
    the rate over all of them (time in `Ledger.submit`; the wall rate also counts signing the
    batches and their disbursements), and the first and the slowest batch, which show whether
    the write path slows as the log grows."""
    with tempfile.TemporaryDirectory() as directory:
        postgres = database_url.startswith("postgres")
        url = fresh_postgres(database_url) if postgres else database_url.replace("{dir}", directory)
        world = Synthetic(url, Path(directory))
        workers = -(-lines // MONTHS)
        started = time.perf_counter()
        world.enrol(workers)
        enrol_seconds = time.perf_counter() - started
        # The month's workers in equal batches of at most `batch_lines`: no tail batch of a few
        # lines, whose fixed cost would stand for the rate of the slowest batch.
        per_batch = -(-workers // -(-workers // batch_lines))
        rates, done, month, submit_seconds = [], 0, 1, 0.0
        started = time.perf_counter()
        while done < lines:
            for first in range(0, workers, per_batch):
                count = min(per_batch, workers - first, lines - done)
                if count <= 0:
                    break
                document = world.premium_submission(f"2025-{month:02d}", world.workers[first:first + count])
                batch_started = time.perf_counter()
                world.ledger.submit(document)
                submit_seconds += time.perf_counter() - batch_started
                rates.append(count / (time.perf_counter() - batch_started))
                done += count
                print(f"  sustained ingest: {done:,} of {lines:,} lines, last batch {rates[-1]:,.0f} lines/s",
                      file=sys.stderr, flush=True)
            month += 1
        seconds = time.perf_counter() - started
        entries = world.ledger.size()
        world.ledger.close()
    return {"lines": lines, "batches": len(rates), "batch_lines": per_batch, "workers": workers,
            "enrol_seconds": enrol_seconds, "seconds": seconds, "submit_seconds": submit_seconds,
            "lines_per_s": lines / submit_seconds, "wall_lines_per_s": lines / seconds,
            "first_batch_lines_per_s": rates[0], "slowest_batch_lines_per_s": min(rates),
            "entries_after": entries, "postgres": postgres, "aggregate_cache": world.settings.aggregate_cache}
