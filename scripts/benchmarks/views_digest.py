"""The views' content as one digest after a rebuild, to show that a change to the projector
leaves every view row as it was: run it with the old code and the new on the same ledger.

    AMANAH_HOME=... [AMANAH_DATABASE_URL=...] .venv/bin/python -m scripts.benchmarks.views_digest [--runs 1]

Prints the sha256 of every view's rows (sorted, as `ProjectionRunner.dump` returns them), each
table's row count and digest, and the rebuild's events per second (median of the runs, with the
load average beside it: a figure to compare within one run, not to quote alone).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import time

from ledger import wiring
from ledger.config import Settings
from projections.runner import ProjectionRunner


def digest(rows: object) -> str:
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    arguments = parser.parse_args()
    ledger = wiring.open_ledger(Settings.from_environment(dict(os.environ)), signing_checkpoints=False)
    runner = ProjectionRunner(ledger)
    size, rates = ledger.size(), []
    for _ in range(arguments.runs):
        started = time.perf_counter()
        runner.rebuild()
        rates.append(size / (time.perf_counter() - started))
    dump = runner.dump()
    print(f"{size:,} entries; rebuild {statistics.median(rates):,.0f} events/s (median of {arguments.runs}, "
          f"load {os.getloadavg()[0]:.2f})")
    for name, rows in dump.items():
        print(f"  {name:24} {len(rows):>9,} rows  {digest(rows)[:16]}")
    print(f"views digest {digest(sorted(dump.items()))}")
    runner.close()
    ledger.close()


if __name__ == "__main__":
    main()
