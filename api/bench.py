"""`amanah bench` / scripts/bench: each figure beside a baseline measured in the same run.

Machines here are shared and noisy, so every figure is the median of several runs and is
reported as a ratio to its baseline. Results go to stdout and to docs/benchmarks.md."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from dataclasses import dataclass
from pathlib import Path

from eventsourcing.domain import Aggregate, event

from ledger import merkle, payloads, personal, signing
from ledger.application import Ledger
from ledger.bundle import export_bundle
from ledger.client import Signer, public_key_b64
from ledger.config import Settings
from ledger import note

PROGRAMME = "bench-2025"
BATCH_LINES = 11_860  # the demo year's largest batch: North Jakarta's workers in one month


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
                reference = f"{number:064x}"  # enrolled without personal data: any 64 hex digits
                chunk.append({"worker": reference, "income_rupiah": 1_000_000, "category": "ojek_online", "jht": False})
            self.counter += 1
            self.ledger.submit(self.signers["bpjs"].submission(f"e{self.counter}", [
                ("worker.enrolled", "2025-01-02T00:00:00Z", payloads.enrolment(
                    PROGRAMME, w["worker"], w["category"], "Kelapa Gading Barat", "2025-01-02")) for w in chunk]))
            self.workers += chunk

    def grow_to(self, entries: int, batch_lines: int = BATCH_LINES) -> None:
        """Enrol workers and pay monthly premiums, in batches of at most `batch_lines`, until the
        log holds about `entries` entries (one programme year; about 13 entries per worker)."""
        self.enrol(max(10, entries // 13) - len(self.workers))
        month = 1
        while self.ledger.size() < entries and month <= 12:
            for first in range(0, len(self.workers), batch_lines):
                self.ledger.submit(self.premium_submission(f"2025-{month:02d}", self.workers[first:first + batch_lines]))
            month += 1

    def premium_submission(self, month: str, workers: list[dict]) -> dict:
        self.counter += 1
        disbursement = f"d-{month}-{self.counter}"
        total = 16_800 * len(workers)
        self.submit("baznas", "disbursement.made", payloads.disbursement(
            PROGRAMME, disbursement, "bpjs", month, "2025-01-03", [("rc-1", "pt-bench", total)]))
        lines = payloads.premium_batch(PROGRAMME, f"b-{month}-{self.counter}", disbursement, month, workers,
                                       paid_on=f"{month}-05")  # after the money (3 January) and the enrolment
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
    return {"lines": lines, "ours_lines_per_s": _median(ours), "baseline_lines_per_s": _median(base),
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


def bench_verify(bundle: Path, size: int, runs: int) -> dict:
    """`verify_bundle` on every core, beside a raw loop that only parses and hashes each line;
    each run in a fresh process, which also reports its peak memory."""
    verify, raw, peaks = [], [], []
    for _ in range(runs):
        seconds, peak_mb = _verify_in_a_process(bundle)
        verify.append(size / seconds)
        peaks.append(peak_mb)
        raw.append(size / _raw_loop(bundle / "entries.jsonl"))
    return {"entries": size, "verify_entries_per_s": _median(verify), "raw_parse_hash_per_s": _median(raw),
            "verify_ratio": _median(verify) / _median(raw), "verify_peak_rss_mb": max(peaks),
            "jobs": os.cpu_count()}


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


def _raw_loop(path: Path) -> float:
    import hashlib

    started = time.perf_counter()
    with path.open("rb") as handle:
        for line in handle:
            hashlib.sha256(json.dumps(json.loads(line)["entry"]).encode()).digest()
    return time.perf_counter() - started


def _verify_in_a_process(bundle: Path) -> tuple[float, float]:
    """Seconds `verify_bundle` took in a fresh process, and the peak of the resident memory of
    that process and its workers together, in MB, sampled from /proc every 0.1 s. (ru_maxrss
    would not do: on Linux a child started by vfork and exec inherits its parent's high-water
    mark, so it reported the benchmark's own memory.)"""
    code = ("import sys, time; from ledger.bundle import verify_bundle; started = time.perf_counter(); "
            "report = verify_bundle(sys.argv[1]); assert report.ok, report.failures[:3]; "
            "print(time.perf_counter() - started)")
    process = subprocess.Popen([sys.executable, "-c", code, str(bundle)], stdout=subprocess.PIPE, text=True)
    peak_kb = 0
    while process.poll() is None:
        peak_kb = max(peak_kb, sum(_rss_kb(pid) for pid in _process_tree(process.pid)))
        time.sleep(0.1)
    output, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"verify failed in the benchmark (exit {process.returncode})")
    return float(output.strip()), peak_kb / 1024


def _process_tree(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid, *(descendant for child in children for descendant in _process_tree(int(child)))]


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


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


def bench_http(world: Synthetic, submissions: int, load_seconds: float) -> dict:
    """Single submissions through the production server, then a company statement under load
    beside /health on the same server (gunicorn, 2 workers; the load from this process)."""
    from api.services import Services

    services = Services.build(world.settings)
    started = time.perf_counter()
    caught_up = services.runner.run()
    views_seconds = time.perf_counter() - started
    token, _ = services.tokens.issue("pt-bench")
    services.close()
    port = _free_port()
    environment = {**os.environ, "AMANAH_HOME": str(world.home), "AMANAH_DATABASE_URL": world.settings.database_url}
    server = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--bind", f"127.0.0.1:{port}",
                               "--workers", "2"], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base)
        latencies = [_submit_pledge(world, base, number) for number in range(submissions)]
        statement = _load(base + "/api/v1/companies/pt-bench/statement?year=2025", token, load_seconds)
        health = _load(base + "/api/v1/health", None, load_seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"entries": world.ledger.size(), "views_caught_up": caught_up, "views_seconds": views_seconds,
            "submission_p50_ms": statistics.median(latencies),
            "submission_p99_ms": statistics.quantiles(latencies, n=100)[98],
            "statement": statement, "health": health}


def _submit_pledge(world: Synthetic, base: str, number: int) -> float:
    body = json.dumps(world.signers["pt-bench"].one(f"http-{number}", "pledge.made", "2025-02-01T00:00:00Z",
                                                    payloads.pledge(PROGRAMME, f"pl-{number}", 1_000_000))).encode()
    request = urllib.request.Request(base + "/api/v1/submissions", data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201, response.status
    return (time.perf_counter() - started) * 1000


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


@dataclass(frozen=True)
class Scale:
    ingest_lines: int
    entries: int
    proof_leaves: int
    submissions: int
    load_seconds: float
    runs: int


SCALES = {
    "tiny": Scale(500, 3_000, 100_000, 30, 3.0, 2),
    "small": Scale(2_000, 20_000, 1_000_000, 100, 15.0, 3),
    "demo": Scale(11_860, 160_000, 3_000_000, 200, 30.0, 3),
    "large": Scale(19_999, 1_000_000, 10_000_000, 200, 30.0, 2),  # a batch holds at most 20,000 envelopes
}


def run(scale_name: str, postgres_url: str | None, output: Path | None) -> dict:
    """Every measurement at one scale (see SCALES), on SQLite and, given a URL, on PostgreSQL."""
    scale = SCALES[scale_name]
    results: dict = {"scale": scale_name, "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores",
                     "python": platform.python_version(), "date": datetime.now(UTC).isoformat(timespec="seconds"),
                     "command": " ".join(sys.argv)}
    _step(scale_name, "ingest on SQLite")
    results["ingest_sqlite"] = bench_ingest("sqlite:///{dir}/ledger.db", scale.ingest_lines, scale.runs)
    if postgres_url:
        _step(scale_name, "ingest on PostgreSQL")
        results["ingest_postgres"] = bench_ingest(postgres_url, scale.ingest_lines, scale.runs)
    _step(scale_name, "proofs")
    results["proofs"] = bench_proofs(scale.proof_leaves, 2000)
    with tempfile.TemporaryDirectory() as directory:
        _step(scale_name, f"building a {scale.entries:,}-entry ledger on SQLite")
        world = Synthetic(f"sqlite:///{directory}/ledger.db", Path(directory))
        world.grow_to(scale.entries)
        export_bundle(world.ledger, Path(directory) / "bundle")
        _step(scale_name, "verify")
        results["verify"] = bench_verify(Path(directory) / "bundle", world.ledger.size(), scale.runs)
        _step(scale_name, "views rebuild")
        results["rebuild"] = bench_rebuild(world, scale.runs)
        _step(scale_name, "HTTP on SQLite")
        results["http_sqlite"] = bench_http(world, scale.submissions, scale.load_seconds)
        world.ledger.close()
    if postgres_url:
        with tempfile.TemporaryDirectory() as directory:
            _step(scale_name, f"building a {scale.entries:,}-entry ledger on PostgreSQL")
            world = Synthetic(_fresh_postgres(postgres_url), Path(directory))
            world.grow_to(scale.entries)
            _step(scale_name, "HTTP on PostgreSQL")
            results["http_postgres"] = bench_http(world, scale.submissions, scale.load_seconds)
            world.ledger.close()
    print(json.dumps(results, indent=2))
    if output:
        output.write_text(json.dumps(results, indent=2) + "\n")
    return results


def _step(scale: str, what: str) -> None:
    print(f"bench [{scale}] {datetime.now(UTC).strftime('%H:%M:%S')} {what}", file=sys.stderr, flush=True)


