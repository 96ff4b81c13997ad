"""Single signed submissions through the production server (gunicorn, 2 workers) on a synthetic
ledger, as the bench's HTTP step sends them (one pledge after another from one client), without
the rest of the bench: build a ledger once, keep it, and time the server on it as often as needed,
e.g. one checkout against another on the same ledger.

    python -m scripts.benchmarks.submission_probe build --entries 1000000 --home /tmp/probe \\
        --postgres postgresql://postgres@127.0.0.1:5432/test
    python -m scripts.benchmarks.submission_probe time --home /tmp/probe --submissions 300

`time` starts `python -m cli serve` from the current directory (so PYTHONPATH picks the
checkout timed). `drop` removes the ledger's schema and home. Pledges are new each run."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
import uuid
from pathlib import Path

from ledger import signing
from ledger.client import Signer
from scripts.benchmarks.bench_http import post_pledge
from scripts.benchmarks.synthetic import (
    CREATED_SCHEMAS, Synthetic, drop_created_schemas, fresh_postgres, free_port, start_server, wait_until_up,
)

PROBE_FILE = "submission-probe.json"  # in the ledger's home: its URL and origin
COMPANY_KEY = "submission-probe-company.key"  # beside it: the pledging company's private key (PEM)


def build(entries: int, home: Path, postgres: str | None) -> None:
    """A synthetic ledger of about `entries` entries in `home`, its views caught up."""
    from api.services import Services

    home.mkdir(parents=True, exist_ok=True)
    url = fresh_postgres(postgres) if postgres else f"sqlite:///{home}/ledger.db"
    world = Synthetic(url, home)
    started = time.perf_counter()
    world.grow_to(entries)
    print(f"built {world.ledger.size():,} entries in {time.perf_counter() - started:.0f} s", flush=True)
    signing.write_private_key(world.signers["pt-bench"].private_key, home / COMPANY_KEY, None)
    (home / PROBE_FILE).write_text(json.dumps({"url": url, "origin": world.settings.origin}))
    services = Services.build(world.settings)
    started = time.perf_counter()
    services.runner.run()
    services.close()
    world.ledger.close()
    print(f"views caught up in {time.perf_counter() - started:.0f} s", flush=True)


def time_server(home: Path, submissions: int) -> dict:
    """p50, p90 and p99 of `submissions` pledges, one after another, after 20 untimed ones."""
    probe = json.loads((home / PROBE_FILE).read_text())
    signer = Signer(probe["origin"], "pt-bench", signing.read_private_key(home / COMPANY_KEY, None))
    port = free_port()
    server = start_server(home, probe["url"], port)
    base, run = f"http://127.0.0.1:{port}", uuid.uuid4().hex[:8]

    def post(number: int) -> float:
        return post_pledge(signer, base, f"probe-{run}-{number}", f"probe-{run}-{number}")

    try:
        wait_until_up(base)
        for number in range(20):
            post(-1 - number)
        latencies = [post(number) for number in range(submissions)]
    finally:
        server.terminate()
        server.wait(timeout=30)
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")  # never past the slowest
    return {"submissions": submissions, "p50_ms": statistics.median(latencies), "p90_ms": quantiles[89],
            "p99_ms": quantiles[98], "max_ms": max(latencies), "load_average": os.getloadavg()[0]}


def drop(home: Path) -> None:
    url = json.loads((home / PROBE_FILE).read_text())["url"]
    if url.startswith("postgres"):
        plain, _, query = url.partition("?")
        CREATED_SCHEMAS.append((plain, query.removeprefix("schema=")))  # as `build` made it
        drop_created_schemas()
    shutil.rmtree(home)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("build", "time", "drop"))
    parser.add_argument("--home", type=Path, required=True, help="the ledger's home (kept between runs)")
    parser.add_argument("--entries", type=int, default=1_000_000, help="build: entries in the ledger")
    parser.add_argument("--postgres", help="build: a PostgreSQL URL (a new schema is made); SQLite without")
    parser.add_argument("--submissions", type=int, default=300, help="time: pledges timed")
    arguments = parser.parse_args(argv)
    if arguments.action == "build":
        build(arguments.entries, arguments.home, arguments.postgres)
    elif arguments.action == "time":
        print(json.dumps(time_server(arguments.home, arguments.submissions)))
    else:
        drop(arguments.home)


if __name__ == "__main__":
    main()
