"""The HTTP figures of the benchmark: signed submissions through the real server (gunicorn), and
reads under load, on the synthetic ledger."""

from __future__ import annotations

import json
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

from ledger import payloads
from ledger.client import Signer
from scripts.benchmarks.synthetic import PROGRAMME, Synthetic, free_port, start_server, wait_until_up


def bench_http(world: Synthetic, submissions: int, load_seconds: float) -> dict:
    """Single submissions through the production server, then a company statement under load
    beside /health on the same server (gunicorn, 2 workers; the load from this process). Also
    how long the server took from its start to its first healthy answer, and the first
    submission's latency (a cold cache shows there)."""
    from api.services import Services

    services = Services.build(world.settings)
    started = time.perf_counter()
    caught_up = services.runner.run()
    views_seconds = time.perf_counter() - started
    token, _ = services.tokens.issue("pt-bench")
    services.close()
    port = free_port()
    server = start_server(world.home, world.settings.database_url, port)
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    try:
        wait_until_up(base)
        ready_seconds = time.perf_counter() - started
        latencies = [post_pledge(world.signers["pt-bench"], base, f"http-{number}", f"pl-{number}")
                     for number in range(submissions)]
        statement = _load(base + "/api/v1/companies/pt-bench/statement?year=2025", token, load_seconds)
        health = _load(base + "/api/v1/health", None, load_seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"entries": world.ledger.size(), "views_caught_up": caught_up, "views_seconds": views_seconds,
            "ready_seconds": ready_seconds, "first_submission_ms": latencies[0],
            "submission_p50_ms": statistics.median(latencies),
            "submission_p99_ms": statistics.quantiles(latencies, n=100)[98],
            "statement": statement, "health": health}


def post_pledge(signer: Signer, base: str, idempotency_key: str, pledge_id: str) -> float:
    """Milliseconds to store one signed pledge through the server at `base` (201 expected)."""
    body = json.dumps(signer.one(idempotency_key, "pledge.made", "2025-02-01T00:00:00Z",
                                 payloads.pledge(PROGRAMME, pledge_id, 1_000_000))).encode()
    request = urllib.request.Request(base + "/api/v1/submissions", data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201, response.status
    return (time.perf_counter() - started) * 1000


def _load(url: str, token: str | None, seconds: float, threads: int = 4) -> dict:
    """`threads` clients asking `url` one request after another for `seconds`. A request that
    fails counts as an error, by its HTTP status or OS error (a 30 s timeout among them); with no
    answer at all, p50 and p99 are None (the report says so) rather than a crash."""
    latencies: list[float] = []
    errors: Counter = Counter()
    stop = time.monotonic() + seconds
    headers = {"Accept": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}

    def worker() -> None:
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
                    response.read()
                latencies.append((time.perf_counter() - started) * 1000)
            except urllib.error.HTTPError as refused:
                errors[f"HTTP {refused.code}"] += 1
            except OSError as failed:
                errors[type(failed).__name__] += 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return {"requests_per_s": len(latencies) / seconds,
            "p50_ms": statistics.median(latencies) if latencies else None,
            "p99_ms": (statistics.quantiles(latencies, n=100)[98] if len(latencies) > 2 else max(latencies))
            if latencies else None,
            "errors": sum(errors.values()), "error_kinds": dict(errors), "seconds": seconds}
