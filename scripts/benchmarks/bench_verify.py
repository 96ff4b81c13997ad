"""The verify figure of scripts/bench: `verify_bundle` in a fresh process on every core, its
peak memory sampled from /proc, beside a raw loop that only parses and hashes each line."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def bench_verify(bundle: Path, size: int, runs: int, format_1: Path) -> dict:
    """`verify_bundle` on every core, beside a raw loop that only parses and hashes each line of
    the same log's format-1 bundle (`format_1`), which is also verified, alternating, for the
    same-run ratio of the two formats; each run in a fresh process, which also reports its peak
    memory."""
    verify, verify_format_1, raw, peaks = [], [], [], []
    for _ in range(runs):
        seconds, peak_mb = _verify_in_a_process(bundle)
        verify.append(size / seconds)
        peaks.append(peak_mb)
        verify_format_1.append(size / _verify_in_a_process(format_1)[0])
        raw.append(size / _raw_loop(format_1 / "entries.jsonl"))
    median = statistics.median
    return {"entries": size, "verify_entries_per_s": median(verify), "raw_parse_hash_per_s": median(raw),
            "verify_ratio": median(verify) / median(raw), "verify_peak_rss_mb": max(peaks),
            "verify_format_1_entries_per_s": median(verify_format_1), "jobs": os.cpu_count()}


def _raw_loop(path: Path) -> float:
    import hashlib

    started = time.perf_counter()
    with path.open("rb") as handle:
        for line in handle:
            hashlib.sha256(json.dumps(json.loads(line)["entry"]).encode()).digest()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    """`python -m scripts.benchmarks.bench_verify BUNDLE [--runs N]`, from a checkout: verify an
    exported bundle in a fresh process, as the bench's verify row does, and print each run's
    time, rate and peak memory (the verifying process and its workers together). For one
    checkout against another on the same bundle, alternating, without the rest of the bench."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--runs", type=int, default=1)
    arguments = parser.parse_args(argv)
    manifest = arguments.bundle / "manifest.json"
    if not manifest.is_file():
        parser.error(f"{arguments.bundle} holds no manifest.json: not a bundle `amanah export` wrote")
    if arguments.runs < 1:
        parser.error("--runs must be at least 1")
    size = json.loads(manifest.read_text())["tree_size"]
    for run in range(1, arguments.runs + 1):
        seconds, peak_mb = _verify_in_a_process(arguments.bundle)
        print(f"run {run}: {size:,} entries in {seconds:.1f} s, {size / seconds:,.0f} entries/s, "
              f"peak {peak_mb:.0f} MB (load average {os.getloadavg()[0]:.2f})", flush=True)


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


if __name__ == "__main__":
    main()
