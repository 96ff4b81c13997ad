"""`scripts/load`: mixed reads and signed writes against the real server, for minutes.

Builds a ledger with enrolled workers (scripts/benchmarks/synthetic.py `Synthetic`), starts
`amanah serve` (gunicorn, 2 workers) on a loopback port, and runs client threads that mix signed
submissions (pledges, a disbursement followed by a one-worker premium batch, deliberate replays) with reads (statements,
proofs, checkpoints, the transparency page, awards, totals). It reports latency per kind of
request, errors, requests per second and the growth of the workers' resident memory, then
verifies the database the server wrote."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from scripts.benchmarks.synthetic import (
    Synthetic, drop_created_schemas, free_port, fresh_postgres, start_server, wait_until_up,
)
from scripts.benchmarks.load_traffic import Client, Tally, Workload, client_loop
from scripts.benchmarks.load_watch import MemorySampler, SlowClients

MAX_SECONDS = 3600
MAX_CLIENTS = 32
MAX_SLOW_CLIENTS = 500


def build(database_url: str, home: Path, workers: int) -> tuple[Synthetic, str]:
    """A ledger with `workers` enrolled and a company read token, its views caught up."""
    from api.services import Services

    world = Synthetic(database_url, home)
    world.enrol(workers)
    services = Services.build(world.settings)
    services.runner.run()
    token, _ = services.tokens.issue("pt-bench")
    services.close()
    return world, token


def drive(base: str, arbiter: int, world: Synthetic, token: str, seconds: float, clients: int,
          slow_clients: int = 0) -> dict:
    """Run the clients for `seconds` while sampling memory (and holding `slow_clients` connections
    that never finish their request); the figures."""
    tally, stop, load_before = Tally(), threading.Event(), os.getloadavg()[0]
    slow = SlowClients(int(base.rsplit(":", 1)[1]), slow_clients, stop)
    if slow_clients:
        slow.start()
        time.sleep(1.0)  # every slow connection open before the measured clients start
    workload = Workload(world, world.ledger.size())
    sampler = MemorySampler(arbiter, stop)
    sampler.sample()
    sampler.start()
    writers = max(1, clients // 3)
    started = time.monotonic()
    threads = [threading.Thread(target=client_loop, args=(Client(base, tally, token), workload, started + seconds,
                                                          number, number < writers))
               for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    stop.set()
    sampler.join()
    sampler.sample()
    if slow_clients:
        slow.join()
    results = figures(tally, elapsed, sampler.summary(), clients, writers)
    results["slow_clients"] = {"held": slow_clients, "opened": slow.opened}
    # The machine may be shared: its load average says how much else was running.
    results["load_average_1min"] = {"start": load_before, "end": os.getloadavg()[0], "cpus": os.cpu_count()}
    return results


def figures(tally: Tally, elapsed: float, memory: dict, clients: int, writers: int) -> dict:
    kinds = {}
    for kind, values in sorted(tally.latencies_ms.items()):
        ordered = sorted(values)
        kinds[kind] = {"requests": len(values), "p50_ms": statistics.median(ordered),
                       "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
                       "max_ms": ordered[-1]}
    total = sum(item["requests"] for item in kinds.values())
    return {"seconds": round(elapsed, 1), "clients": clients, "writer_clients": writers, "requests": total,
            "requests_per_s": total / elapsed, "errors": sum(tally.errors.values()), "errors_by_kind": tally.errors,
            "error_examples": tally.error_examples, "expected_replays": tally.replays, "kinds": kinds,
            "worker_memory": memory}


def verify_after(world: Synthetic) -> dict:
    """Verify the database the server wrote (every signature, rule, checkpoint, stored hash)."""
    from ledger.bundle import verify_database

    started = time.perf_counter()
    report = verify_database(world.ledger)
    return {"ok": report.ok, "entries": report.entries, "checkpoints": report.checkpoints,
            "failures": [str(failure) for failure in report.failures[:5]],
            "seconds": round(time.perf_counter() - started, 1)}


def run(seconds: float, clients: int, workers: int, database_url: str | None, slow_clients: int = 0) -> dict:
    """Build, serve, load, verify; the figures."""
    with tempfile.TemporaryDirectory(prefix="amanah-load-") as directory:
        url = database_url or f"sqlite:///{directory}/ledger.db"
        if url.startswith("postgres"):
            url = fresh_postgres(url)
        built = time.perf_counter()
        world, token = build(url, Path(directory), workers)
        build_seconds = time.perf_counter() - built
        port = free_port()
        server = start_server(world.home, world.settings.database_url, port)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(base)
            results = drive(base, server.pid, world, token, seconds, clients, slow_clients)
        finally:
            server.terminate()
            server.wait(timeout=30)
        results.update({"database": url.split("?")[0].split("://")[0], "workers_enrolled": workers,
                        "build_seconds": round(build_seconds, 1)})
        results["verify"] = verify_after(world)
        world.ledger.close()
    return results


def table(results: dict) -> str:
    """The figures as a plain-text table."""
    lines = [f"{results['seconds']} s on {results['database']}, {results['clients']} clients "
             f"({results['writer_clients']} also writing), {results['requests']:,} requests, "
             f"{results['requests_per_s']:.1f} req/s, {results['errors']} errors, "
             f"{results['expected_replays']} expected replays",
             f"slow clients (half a request head, never finished) kept open: {results['slow_clients']['held']} "
             f"({results['slow_clients']['opened']} connections in all: each is answered 408 after the "
             "server's head timeout and opened again)",
             f"machine load average {results['load_average_1min']['start']:.1f} at start, "
             f"{results['load_average_1min']['end']:.1f} at end, {results['load_average_1min']['cpus']} CPUs", "",
             f"{'kind':<20}{'requests':>10}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}"]
    for kind, item in results["kinds"].items():
        lines.append(f"{kind:<20}{item['requests']:>10,}{item['p50_ms']:>10.1f}{item['p99_ms']:>10.1f}"
                     f"{item['max_ms']:>10.1f}")
    lines.append("")
    for pid, item in results["worker_memory"].items():
        lines.append(f"worker {pid}: RSS {item['start_mb']:.1f} MB -> {item['halfway_mb']:.1f} MB halfway -> "
                     f"{item['end_mb']:.1f} MB "
                     f"(max {item['max_mb']:.1f}, growth {item['growth_mb']:+.1f} MB, {item['samples']} samples)")
    verify = results["verify"]
    lines.append(f"verify --db afterwards: {'OK' if verify['ok'] else 'FAILED'}, {verify['entries']:,} entries, "
                 f"{verify['checkpoints']:,} checkpoints, {verify['seconds']} s")
    lines += [f"error: {example}" for example in results["error_examples"]]
    return "\n".join(lines)


def bounded(low: float, high: float, kind: type) -> Callable[[str], float]:
    def parse(text: str):
        value = kind(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value
    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/load", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=bounded(1, MAX_SECONDS, float), default=300.0,
                        help=f"how long the load runs (default 300, at most {MAX_SECONDS})")
    parser.add_argument("--clients", type=bounded(1, MAX_CLIENTS, int), default=6,
                        help="client threads; a third of them also write (default 6)")
    parser.add_argument("--workers", type=bounded(10, 100_000, int), default=2000,
                        help="workers enrolled before the load (default 2000)")
    parser.add_argument("--database-url", help="postgresql://... (a fresh schema is made); default SQLite in a "
                        "temporary folder")
    parser.add_argument("--slow-clients", type=bounded(0, MAX_SLOW_CLIENTS, int), default=0,
                        help="also hold this many connections that send half a request and never finish it "
                             f"(at most {MAX_SLOW_CLIENTS}; default 0)")
    parser.add_argument("--output", type=Path, help="also write the figures as JSON here")
    arguments = parser.parse_args(argv)
    try:
        results = run(arguments.seconds, arguments.clients, arguments.workers, arguments.database_url,
                      arguments.slow_clients)
    finally:
        drop_created_schemas()
    print(table(results))
    if arguments.output:
        arguments.output.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if results["errors"] == 0 and results["verify"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
