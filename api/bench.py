"""`amanah bench` / scripts/bench: each figure beside a baseline measured in the same run.

Machines here are shared and noisy, so every figure is the median of several runs and is
reported as a ratio to its baseline. Results go to stdout and to docs/benchmarks.md."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from eventsourcing.domain import Aggregate, event

from ledger import merkle, payloads, personal, signing
from ledger.application import Ledger
from ledger.bundle import export_bundle, verify_bundle
from ledger.client import Signer, public_key_b64
from ledger.config import Settings
from ledger import note

PROGRAMME = "bench-2025"


class Synthetic:
    """A ledger with `workers` enrolled and `months` premium batches, built through submit()."""

    def __init__(self, database_url: str, home: Path):
        self.home = home
        self.settings = Settings.from_environment({"AMANAH_HOME": str(home), "AMANAH_DATABASE_URL": database_url})
        self.checkpoint_key = signing.generate()
        signing.write_private_key(self.checkpoint_key, self.settings.checkpoint_key_path, None)
        personal.create_secret(self.settings.pseudonym_secret_path)
        self.secret = personal.read_secret(self.settings.pseudonym_secret_path)
        self.ledger = Ledger(self.settings, self.checkpoint_key, self.secret)
        self.counter = 0
        origin = self.settings.origin
        registrar = Signer(origin, "registrar", signing.generate())
        self.ledger.submit(registrar.one("genesis", "ledger.created", "2025-01-01T00:00:00Z", {
            "organisation": "registrar", "legal_name": "Registrar", "public_key": public_key_b64(registrar.private_key),
            "checkpoint_key": note.verifier_key(origin, signing.public_key_bytes(self.checkpoint_key))}))
        self.signers = {}
        for organisation, kind in (("city", "city"), ("baznas", "baznas"), ("bpjs", "bpjs"), ("pt-bench", "company")):
            key = signing.generate()
            self.ledger.submit(registrar.one(f"r-{organisation}", "organisation.registered", "2025-01-01T00:00:00Z", {
                "organisation": organisation, "legal_name": organisation, "kind": kind,
                "public_key": public_key_b64(key)}))
            self.signers[organisation] = Signer(origin, organisation, key)
        self.submit("city", "programme.opened", payloads.programme_opened(PROGRAMME, 2025))
        self.submit("baznas", "donation.received", payloads.receipt(PROGRAMME, "rc-1", "pt-bench", 10**12 // 2,
                                                                     "2025-01-02"))
        self.workers: list[dict] = []

    def submit(self, who: str, kind: str, payload: dict) -> dict:
        self.counter += 1
        return self.ledger.submit(self.signers[who].one(f"k{self.counter}", kind, "2025-01-02T00:00:00Z", payload))

    def enrol(self, count: int) -> None:
        start = len(self.workers)
        for first in range(start, start + count, 5000):
            chunk = []
            for number in range(first, min(first + 5000, start + count)):
                reference = personal.worker_reference(self.secret, f"{number:016d}")
                chunk.append({"worker": reference, "income_rupiah": 1_000_000, "category": "ojek_online", "jht": False})
            self.counter += 1
            self.ledger.submit(self.signers["bpjs"].submission(f"e{self.counter}", [
                ("worker.enrolled", "2025-01-02T00:00:00Z", payloads.enrolment(
                    PROGRAMME, w["worker"], w["category"], "Kelapa Gading Barat", "2025-01-02")) for w in chunk]))
            self.workers += chunk

    def premium_submission(self, month: str, workers: list[dict]) -> dict:
        self.counter += 1
        disbursement = f"d-{month}-{self.counter}"
        total = 16_800 * len(workers)
        self.submit("baznas", "disbursement.made", payloads.disbursement(
            PROGRAMME, disbursement, "bpjs", month, "2025-01-03", [("rc-1", "pt-bench", total)]))
        lines = payloads.premium_batch(PROGRAMME, f"b-{month}-{self.counter}", disbursement, month, workers)
        return self.signers["bpjs"].submission(f"p{self.counter}", [(t, "2025-01-04T00:00:00Z", p) for t, p in lines])


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _fresh_postgres(url: str) -> str:
    """A new schema for one run, so runs and baselines never share tables."""
    import uuid

    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    plain = url.split("?")[0]
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    return f"{plain}?schema={schema}"


def bench_ingest(database_url: str, lines: int, runs: int) -> dict:
    """One signed premium batch through the whole write path, against plain eventsourcing."""
    ours, base = [], []
    for run in range(runs):
        with tempfile.TemporaryDirectory() as directory:
            postgres = database_url.startswith("postgres")
            url = _fresh_postgres(database_url) if postgres else database_url.replace("{dir}", directory)
            world = Synthetic(url, Path(directory))
            world.enrol(lines)
            document = world.premium_submission("2025-01", world.workers)
            started = time.perf_counter()
            world.ledger.submit(document)
            ours.append(lines / (time.perf_counter() - started))
            world.ledger.close()
            base.append(_baseline_save(_fresh_postgres(database_url) if postgres else
                                       f"sqlite:///{directory}/baseline.db", lines))
    return {"ours_lines_per_s": _median(ours), "baseline_lines_per_s": _median(base),
            "ratio": _median(ours) / _median(base)}


class BaselinePremium(Aggregate):
    """The baseline: an unsigned premium, saved with plain eventsourcing."""

    @event("Paid")
    def __init__(self, worker: str, month: str, amount_rupiah: int):
        pass


def _baseline_save(url: str, count: int) -> float:
    from eventsourcing.application import Application

    settings = Settings.from_environment({"AMANAH_DATABASE_URL": url, "AMANAH_HOME": tempfile.gettempdir()})
    env = {key: value for key, value in settings.eventsourcing_env().items()
           if key not in ("MAPPER_TOPIC", "APPLICATION_RECORDER_TOPIC")}
    application = Application(env=env)
    aggregates = [BaselinePremium(worker=f"{number:064x}", month="2025-01", amount_rupiah=16_800) for number in range(count)]
    started = time.perf_counter()
    application.save(*aggregates)
    rate = count / (time.perf_counter() - started)
    application.close()
    return rate


def bench_verify_and_rebuild(entries_wanted: int, runs: int) -> dict:
    """Build a ledger of about `entries_wanted` entries; time verify and a views rebuild."""
    from projections.runner import ProjectionRunner
    from ledger.entry import parse_entry

    with tempfile.TemporaryDirectory() as directory:
        world = Synthetic(f"sqlite:///{directory}/ledger.db", Path(directory))
        workers = max(10, entries_wanted // 13)
        world.enrol(workers)
        month = 1
        while world.ledger.size() < entries_wanted and month <= 12:
            world.ledger.submit(world.premium_submission(f"2025-{month:02d}", world.workers))
            month += 1
        size = world.ledger.size()
        bundle = Path(directory) / "bundle"
        export_bundle(world.ledger, bundle)
        verify, raw, peak = [], [], []
        for _ in range(runs):
            started = time.perf_counter()
            report = verify_bundle(bundle)
            verify.append(size / (time.perf_counter() - started))
            assert report.ok, report.failures[:3]
            raw.append(size / _raw_loop(bundle / "entries.jsonl"))
        peak.append(_peak_rss_mb_of_verify(bundle))
        runner = ProjectionRunner(world.ledger)
        rebuild, decode = [], []
        for _ in range(runs):
            started = time.perf_counter()
            runner.rebuild()
            rebuild.append(size / (time.perf_counter() - started))
            started = time.perf_counter()
            for start in range(0, size, 1000):
                for _, leaf in world.ledger.entries(start, min(1000, size - start)):
                    parse_entry(leaf)
            decode.append(size / (time.perf_counter() - started))
        runner.close()
        world.ledger.close()
    return {"entries": size,
            "verify_entries_per_s": _median(verify), "raw_parse_hash_per_s": _median(raw),
            "verify_ratio": _median(verify) / _median(raw), "verify_peak_rss_mb": max(peak),
            "rebuild_events_per_s": _median(rebuild), "read_decode_per_s": _median(decode),
            "rebuild_ratio": _median(rebuild) / _median(decode)}


def _raw_loop(path: Path) -> float:
    import hashlib

    started = time.perf_counter()
    with path.open("rb") as handle:
        for line in handle:
            hashlib.sha256(json.dumps(json.loads(line)["entry"]).encode()).digest()
    return time.perf_counter() - started


def _peak_rss_mb_of_verify(bundle: Path) -> float:
    code = ("import resource, sys; from ledger.bundle import verify_bundle; verify_bundle(sys.argv[1]); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    output = subprocess.run([sys.executable, "-c", code, str(bundle)], capture_output=True, text=True, check=True)
    return int(output.stdout.strip()) / 1024


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


def bench_http(database_url: str, submissions: int, load_seconds: float) -> dict:
    """Single submissions through the real server, then a company statement under load
    beside /health on the same server (2 gunicorn workers, load from this process)."""
    with tempfile.TemporaryDirectory() as directory:
        world = Synthetic(database_url.replace("{dir}", directory).replace("{run}", "http"), Path(directory))
        world.enrol(200)
        world.ledger.submit(world.premium_submission("2025-01", world.workers))
        from api.services import Services

        services = Services.build(world.settings)
        services.runner.run()
        token, _ = services.tokens.issue("pt-bench")
        services.close()
        port = _free_port()
        environment = {**os.environ, "AMANAH_HOME": directory, "AMANAH_DATABASE_URL": world.settings.database_url}
        server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--bind", f"127.0.0.1:{port}",
                                   "--workers", "2"], env=environment, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait(base)
            latencies = []
            for number in range(submissions):
                body = json.dumps(world.signers["pt-bench"].one(f"http-{number}", "pledge.made", "2025-02-01T00:00:00Z",
                                                                payloads.pledge(PROGRAMME, f"pl-{number}", 1_000_000))).encode()
                request = urllib.request.Request(base + "/api/v1/submissions", data=body,
                                                 headers={"Content-Type": "application/json"})
                started = time.perf_counter()
                with urllib.request.urlopen(request, timeout=30) as response:
                    assert response.status == 201
                latencies.append((time.perf_counter() - started) * 1000)
            statement = _load(base + "/api/v1/companies/pt-bench/statement?year=2025", token, load_seconds)
            health = _load(base + "/api/v1/health", None, load_seconds)
        finally:
            server.terminate()
            server.wait(timeout=20)
        world.ledger.close()
    return {"submission_p50_ms": statistics.median(latencies),
            "submission_p99_ms": statistics.quantiles(latencies, n=100)[98],
            "statement": statement, "health": health}


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/api/v1/health", timeout=2).close()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("server did not start")


def _load(url: str, token: str | None, seconds: float, threads: int = 4) -> dict:
    latencies: list[float] = []
    errors = [0]
    stop = time.monotonic() + seconds
    headers = {"Accept": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}

    def worker() -> None:
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
                    response.read()
                latencies.append((time.perf_counter() - started) * 1000)
            except OSError:
                errors[0] += 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return {"requests_per_s": len(latencies) / seconds, "p50_ms": statistics.median(latencies),
            "p99_ms": statistics.quantiles(latencies, n=100)[98] if len(latencies) > 2 else max(latencies),
            "errors": errors[0]}


def run(scale: str, postgres_url: str | None, output: Path | None) -> dict:
    """Run every measurement at `scale` (tiny, demo, large) and write the report."""
    sizes = {"tiny": (500, 3_000, 100_000, 30, 3.0, 2), "demo": (11_860, 160_000, 1_000_000, 200, 30.0, 3),
             "large": (11_860, 1_000_000, 10_000_000, 200, 30.0, 3)}[scale]
    lines, entries, leaves, submissions, load_seconds, runs = sizes
    results = {"scale": scale, "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores",
               "python": platform.python_version(), "date": datetime.now(UTC).isoformat(timespec="seconds"),
               "command": " ".join(sys.argv)}
    results["ingest_sqlite"] = bench_ingest("sqlite:///{dir}/ledger.db", lines, runs)
    if postgres_url:
        results["ingest_postgres"] = bench_ingest(postgres_url, lines, runs)
    results["verify_and_rebuild"] = bench_verify_and_rebuild(entries, runs)
    results["proofs"] = bench_proofs(leaves, 2000)
    results["http_sqlite"] = bench_http("sqlite:///{dir}/ledger.db", submissions, load_seconds)
    print(json.dumps(results, indent=2))
    if output:
        output.write_text(json.dumps(results, indent=2) + "\n")
    return results


def markdown(results: dict) -> str:
    """The figures as the table of docs/benchmarks.md, with targets and verdicts."""
    ingest = results["ingest_sqlite"]
    verify = results["verify_and_rebuild"]
    proofs, http = results["proofs"], results["http_sqlite"]
    rows = [
        ("ingest, one signed batch of premiums, SQLite", f"{ingest['ours_lines_per_s']:,.0f} lines/s",
         f"{ingest['baseline_lines_per_s']:,.0f} lines/s (plain eventsourcing save)", f"{ingest['ratio']:.2f}x",
         ">= 0.5x", ingest["ratio"] >= 0.5),
    ]
    if "ingest_postgres" in results:
        pg = results["ingest_postgres"]
        rows.append(("ingest, one signed batch of premiums, PostgreSQL", f"{pg['ours_lines_per_s']:,.0f} lines/s",
                     f"{pg['baseline_lines_per_s']:,.0f} lines/s", f"{pg['ratio']:.2f}x", ">= 0.5x", pg["ratio"] >= 0.5))
    rows += [
        ("single submission through HTTP", f"p50 {http['submission_p50_ms']:.1f} ms, p99 {http['submission_p99_ms']:.1f} ms",
         "-", "-", "p99 <= 50 ms", http["submission_p99_ms"] <= 50),
        (f"verify a {verify['entries']:,}-entry bundle", f"{verify['verify_entries_per_s']:,.0f} entries/s, peak "
         f"{verify['verify_peak_rss_mb']:.0f} MB", f"{verify['raw_parse_hash_per_s']:,.0f} entries/s (parse + hash)",
         f"{verify['verify_ratio']:.2f}x", ">= 50,000/s, <= 512 MB",
         verify["verify_entries_per_s"] >= 50_000 and verify["verify_peak_rss_mb"] <= 512),
        (f"views rebuild from {verify['entries']:,} events", f"{verify['rebuild_events_per_s']:,.0f} events/s",
         f"{verify['read_decode_per_s']:,.0f} events/s (read + decode)", f"{verify['rebuild_ratio']:.2f}x",
         ">= 20,000/s", verify["rebuild_events_per_s"] >= 20_000),
        (f"proofs at {proofs['leaves']:,} leaves, in process",
         f"inclusion p99 {proofs['inclusion_p99_ms']:.3f} ms, consistency p99 {proofs['consistency_p99_ms']:.3f} ms",
         "-", "-", "p99 <= 2 ms", max(proofs["inclusion_p99_ms"], proofs["consistency_p99_ms"]) <= 2),
        ("company statement under load (2 workers, 4 client threads)",
         f"p99 {http['statement']['p99_ms']:.1f} ms, {http['statement']['requests_per_s']:,.0f} req/s, "
         f"{http['statement']['errors']} errors", f"/health p99 {http['health']['p99_ms']:.1f} ms, "
         f"{http['health']['requests_per_s']:,.0f} req/s", "-", "p99 <= 25 ms, 0 errors",
         http["statement"]["p99_ms"] <= 25 and http["statement"]["errors"] == 0),
    ]
    lines = [f"Scale `{results['scale']}` on {results['machine']}, Python {results['python']}, {results['date']}, "
             f"command `{results['command']}`.", "",
             "| what | figure | baseline, same run | ratio | target | met |", "|---|---|---|---|---|---|"]
    lines += [f"| {what} | {figure} | {base} | {ratio} | {target} | {'yes' if met else '**no**'} |"
              for what, figure, base, ratio, target, met in rows]
    return "\n".join(lines) + "\n"
