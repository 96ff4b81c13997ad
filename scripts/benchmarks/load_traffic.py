"""The load's traffic: clients that time and tally their calls, the workload they share, and
the mix of signed writes and reads each client thread sends."""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ledger import payloads
from scripts.benchmarks.synthetic import PROGRAMME, Synthetic

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
