"""`scripts/load`: mixed reads and signed writes against the real server, for minutes.

Builds a ledger with enrolled workers (scripts/benchmarks/synthetic.py `Synthetic`), starts
`amanah serve` (gunicorn, 2 workers) on a loopback port, and runs client threads that mix signed submissions (pledges, a
disbursement followed by a one-worker premium batch, deliberate replays) with reads (statements,
proofs, checkpoints, the transparency page, awards, totals). It reports latency per kind of
request, errors, requests per second and the growth of the workers' resident memory, then
verifies the database the server wrote."""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ledger import payloads
from scripts.benchmarks.synthetic import PROGRAMME, Synthetic, free_port, fresh_postgres, wait_until_up

MAX_SECONDS = 3600
MAX_CLIENTS = 32
MAX_SLOW_CLIENTS = 500
SAMPLE_EVERY_SECONDS = 2.0
REPLAY_SHARE = 0.05  # of pledges, sent a second time on purpose: 200 with the original result
WRITE_KINDS = {"pledge": 3, "premium": 2}
READ_KINDS = {"statement": 3, "inclusion proof": 3, "consistency proof": 2, "checkpoint": 3, "checkpoints": 1,
              "page": 1, "awards": 1, "totals": 2}


@dataclass
class Tally:
    """What the clients saw, shared between their threads."""

    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    error_examples: list[str] = field(default_factory=list)
    replays: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, latency_ms: float) -> None:
        with self.lock:
            self.latencies_ms.setdefault(kind, []).append(latency_ms)

    def error(self, kind: str, status: int | str, detail: str) -> None:
        with self.lock:
            key = f"{kind} {status}"
            self.errors[key] = self.errors.get(key, 0) + 1
            if len(self.error_examples) < 10:
                self.error_examples.append(f"{key}: {detail[:300]}")


class Client:
    """One client thread's view of the server: HTTP calls that are timed and tallied."""

    def __init__(self, base: str, tally: Tally, token: str):
        self.base, self.tally, self.token = base, tally, token

    def call(self, kind: str, path: str, body: dict | None = None, expect: tuple[int, ...] = (200,),
             authorised: bool = False) -> dict | None:
        headers = {"Accept": "application/json"}
        if authorised:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, content = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, content = error.code, error.read()
        except OSError as error:
            self.tally.error(kind, "connection", str(error))
            return None
        self.tally.record(kind, (time.perf_counter() - started) * 1000)
        if status not in expect:
            self.tally.error(kind, status, content.decode(errors="replace"))
            return None
        is_json = content[:1] in (b"{", b"[")
        return json.loads(content) if is_json else {}


class Workload:
    """The ledger's cast and what is left to write: pledges and (worker, month) premiums."""

    def __init__(self, world: Synthetic, size: int):
        self.world = world
        self.size = size
        self.lock = threading.Lock()
        self.counter = 0
        self.months = self._worker_months()
        self.sent: list[dict] = []

    def _worker_months(self) -> Iterator[tuple[dict, str]]:
        for month in range(1, 13):
            for worker in self.world.workers:
                yield worker, f"2025-{month:02d}"

    def next_number(self) -> int:
        with self.lock:
            self.counter += 1
            return self.counter

    def grew(self, result: dict | None) -> None:
        if result and result.get("checkpoint"):
            with self.lock:
                self.size = max(self.size, result["checkpoint"]["tree_size"])

    def next_premium(self) -> tuple[dict, str] | None:
        with self.lock:
            return next(self.months, None)


def write(client: Client, workload: Workload, kind: str, rng: random.Random) -> None:
    """One signed write of `kind` (a premium is two submissions: disbursement, then batch)."""
    number = workload.next_number()
    if kind == "pledge":
        document = workload.world.signers["pt-bench"].one(
            f"load-pledge-{number}", "pledge.made", "2025-02-01T00:00:00Z",
            payloads.pledge(PROGRAMME, f"load-{number}", rng.randrange(1_000_000, 90_000_000)))
        workload.grew(client.call("pledge", "/api/v1/submissions", document, expect=(201,)))
        if rng.random() < REPLAY_SHARE:
            replay = client.call("pledge replay", "/api/v1/submissions", document, expect=(200,))
            if replay is not None:
                with client.tally.lock:
                    client.tally.replays += 1
        return
    premium = workload.next_premium()
    if premium is None:
        return write(client, workload, "pledge", rng)
    worker, month = premium
    disbursement = f"load-d-{number}"
    document = workload.world.signers["baznas"].one(
        f"load-disbursement-{number}", "disbursement.made", "2025-01-03T00:00:00Z",
        payloads.disbursement(PROGRAMME, disbursement, "bpjs", month, "2025-01-03", [("rc-1", "pt-bench", 16_800)]))
    if client.call("disbursement", "/api/v1/submissions", document, expect=(201,)) is None:
        return None
    lines = payloads.premium_batch(PROGRAMME, f"load-b-{number}", disbursement, month, [worker],
                                   paid_on=f"{month}-05")  # after the money (3 January) and the enrolment
    document = workload.world.signers["bpjs"].submission(
        f"load-premium-{number}", [(event_type, "2025-01-04T00:00:00Z", payload) for event_type, payload in lines])
    workload.grew(client.call("premium", "/api/v1/submissions", document, expect=(201,)))
    return None


def read(client: Client, workload: Workload, kind: str, rng: random.Random) -> None:
    """One read of `kind`."""
    size = workload.size
    paths: dict[str, Callable[[], str]] = {
        "statement": lambda: "/api/v1/companies/pt-bench/statement?year=2025",
        "inclusion proof": lambda: f"/api/v1/proofs/inclusion?index={rng.randrange(size)}&size={size}",
        "consistency proof": lambda: f"/api/v1/proofs/consistency?first={rng.randrange(1, size + 1)}&second={size}",
        "checkpoint": lambda: "/api/v1/checkpoint?format=json",
        "checkpoints": lambda: f"/api/v1/checkpoints?start_size={rng.randrange(size)}&limit=100",
        "page": lambda: "/",
        "awards": lambda: "/api/v1/awards/2025",
        "totals": lambda: "/api/v1/totals?year=2025",
    }
    client.call(kind, paths[kind](), authorised=kind == "statement")


def client_loop(client: Client, workload: Workload, stop_at: float, seed: int, writer: bool) -> None:
    """Until `stop_at`: writers write (with a read between writes), readers read."""
    rng = random.Random(seed)
    reads, writes = list(READ_KINDS), list(WRITE_KINDS)
    while time.monotonic() < stop_at:
        if writer:
            write(client, workload, rng.choices(writes, weights=list(WRITE_KINDS.values()))[0], rng)
        read(client, workload, rng.choices(reads, weights=list(READ_KINDS.values()))[0], rng)


# ---- the server's memory ----------------------------------------------------------------------

def worker_pids(arbiter: int) -> list[int]:
    """The gunicorn workers: the children of the arbiter process."""
    try:
        return sorted(int(pid) for pid in Path(f"/proc/{arbiter}/task/{arbiter}/children").read_text().split())
    except OSError:
        return []


def resident_kb(pid: int) -> int | None:
    """VmRSS of a process in kB, or None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class MemorySampler(threading.Thread):
    """Reads the workers' VmRSS every few seconds: first, last and highest per worker."""

    def __init__(self, arbiter: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.arbiter, self.stop = arbiter, stop
        self.samples: dict[int, list[int]] = {}

    def sample(self) -> None:
        for pid in worker_pids(self.arbiter):
            kilobytes = resident_kb(pid)
            if kilobytes is not None:
                self.samples.setdefault(pid, []).append(kilobytes)

    def run(self) -> None:
        while not self.stop.wait(SAMPLE_EVERY_SECONDS):
            self.sample()

    def summary(self) -> dict:
        return {str(pid): {"start_mb": values[0] / 1024, "halfway_mb": values[len(values) // 2] / 1024,
                           "end_mb": values[-1] / 1024, "max_mb": max(values) / 1024,
                           "growth_mb": (values[-1] - values[0]) / 1024, "samples": len(values)}
                for pid, values in self.samples.items()}


# ---- slow clients ----------------------------------------------------------------------------

class SlowClients(threading.Thread):
    """Keeps `count` connections open that sent half a request head and never finish it (the
    server answers each 408 after its head timeout; a closed one is opened again at once)."""

    PARTIAL_HEAD = b"GET /api/v1/health HTTP/1.1\r\nHost: slow\r\n"

    def __init__(self, port: int, count: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.count, self.stop = port, count, stop
        self.sockets: list[socket.socket] = []
        self.opened = 0

    def _open(self) -> socket.socket:
        client = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        client.sendall(self.PARTIAL_HEAD)
        client.setblocking(False)
        self.opened += 1
        return client

    def _still_open(self, client: socket.socket) -> bool:
        try:
            if client.recv(4096) == b"":
                client.close()
                return False
            client.close()  # answered (408): the server gave up on it
            return False
        except BlockingIOError:
            return True
        except OSError:
            client.close()
            return False

    def run(self) -> None:
        self.sockets = [self._open() for _ in range(self.count)]
        while not self.stop.wait(0.5):
            self.sockets = [client for client in self.sockets if self._still_open(client)]
            self.sockets += [self._open() for _ in range(self.count - len(self.sockets))]
        for client in self.sockets:
            client.close()


# ---- running it ----------------------------------------------------------------------------

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


def start_server(world: Synthetic, port: int) -> subprocess.Popen:
    """`amanah serve` with 2 gunicorn workers on 127.0.0.1 only."""
    environment = {**os.environ, "AMANAH_HOME": str(world.home), "AMANAH_DATABASE_URL": world.settings.database_url}
    return subprocess.Popen([sys.executable, "-m", "cli", "serve", "--bind", f"127.0.0.1:{port}",
                             "--workers", "2"], env=environment, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


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
        server = start_server(world, port)
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
    results = run(arguments.seconds, arguments.clients, arguments.workers, arguments.database_url,
                  arguments.slow_clients)
    print(table(results))
    if arguments.output:
        arguments.output.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if results["errors"] == 0 and results["verify"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
