"""The per-entry cost of typed payloads against the dict reads they replace, on the payloads of
the types that are now declared (ledger/payload_types.py), without a database.

    .venv/bin/python -m scripts.benchmarks.typed_payloads [--entries 20000] [--rounds 5]

Both sides run the type's payload check (the same code: the check is derived from the
declaration). Then `dict` reads every field of the payload `--reads` times as the rules, the
mutators, the postings and the views did (`payload["amount_rupiah"]`, `payload.get("pledge")`),
and `typed` decodes the payload once into its frozen dataclass and reads every field as an
attribute as often. It prints the median time per entry of each (alternating rounds, the load
average beside them) and the ratio typed / dict.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time

import ledger.domain  # noqa: F401  (registers the money flow's types)
from ledger.event_types import REGISTRY
from ledger.payload_types import decode

WORKER = "ab" * 32
PAYLOADS = [  # the shapes of the demo's typed entries
    ("pledge.made", {"programme": "sertakan-jakut-2025", "pledge": "pledge-7", "amount_rupiah": 250_000_000,
                     "fund_type": "infak"}),
    ("donation.received", {"programme": "sertakan-jakut-2025", "receipt": "receipt-7", "company": "pt-maju",
                           "amount_rupiah": 125_000_000, "fund_type": "infak", "received_on": "2025-02-03",
                           "pledge": "pledge-7"}),
    ("amil.set_aside", {"programme": "sertakan-jakut-2025", "receipt": "receipt-7", "company": "pt-maju",
                        "amount_rupiah": 6_250_000}),
    ("disbursement.made", {"programme": "sertakan-jakut-2025", "disbursement": "disbursement-2", "to": "bpjs-jakut",
                           "amount_rupiah": 300_000_000, "period": "2025-02", "made_on": "2025-02-05",
                           "sources": [{"receipt": f"receipt-{n}", "company": f"pt-{n}", "amount_rupiah": 100_000_000}
                                       for n in range(3)]}),
    ("premium.batch", {"programme": "sertakan-jakut-2025", "batch": "batch-2025-02", "disbursement": "disbursement-2",
                       "month": "2025-02", "lines": 11_860, "total_rupiah": 200_000_000, "paid_on": "2025-02-06"}),
    ("claim.approved", {"programme": "sertakan-jakut-2025", "claim": "claim-3", "worker": WORKER, "benefit": "jkm",
                        "amount_rupiah": 42_000_000, "approved_on": "2025-05-02", "complete_on": "2025-05-01",
                        "deadline_on": "2025-05-15"}),
    ("entry.reversed", {"programme": "sertakan-jakut-2025", "entry": 1234, "reverses": "donation.received",
                        "reference": {"receipt": "receipt-7"}, "reason_code": "duplicate", "note": "entered twice"}),
]


def read_dict(payload: dict, names: tuple[str, ...], reads: int) -> None:
    for _ in range(reads):
        for name in names:
            payload.get(name)


def read_typed(value: object, names: tuple[str, ...], reads: int) -> None:
    for _ in range(reads):
        for name in names:
            getattr(value, name)


def run(side: str, entries: list, reads: int) -> float:
    started = time.perf_counter()
    for check, declared, names, payload in entries:
        check(payload, "payload")
        if side == "dict":
            read_dict(payload, names, reads)
        else:
            read_typed(decode(declared, payload), names, reads)
    return (time.perf_counter() - started) / len(entries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reads", type=int, default=3, help="how often each field is read per entry")
    arguments = parser.parse_args()
    kinds = []
    for name, payload in PAYLOADS:
        declared = REGISTRY[name].payload_type
        names = tuple(member.name for member in dataclasses.fields(declared))
        kinds.append((REGISTRY[name].check_payload, declared, names, payload))
    entries = [kinds[number % len(kinds)] for number in range(arguments.entries)]
    times: dict[str, list[float]] = {"dict": [], "typed": []}
    for _ in range(arguments.rounds):  # alternate, so a busy neighbour slows both alike
        for side in times:
            times[side].append(run(side, entries, arguments.reads))
    load = os.getloadavg()
    plain, typed = statistics.median(times["dict"]), statistics.median(times["typed"])
    print(f"load average {load[0]:.2f} {load[1]:.2f}; {arguments.entries:,} entries of {len(kinds)} typed types, "
          f"each field read {arguments.reads}x, {arguments.rounds} rounds, medians")
    print(f"check + dict reads {plain * 1e6:6.2f} us/entry; check + decode + attribute reads {typed * 1e6:6.2f} "
          f"us/entry; typed / dict {typed / plain:.2f}x")


if __name__ == "__main__":
    main()
