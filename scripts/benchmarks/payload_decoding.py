"""Decoding a premium line's payload into a typed, immutable value, with its validation:
msgspec Structs against frozen slotted dataclasses filled after the ledger's own field checks.

    .venv/bin/pip install msgspec   # not a dependency of the ledger; only this comparison needs it
    .venv/bin/python -m scripts.benchmarks.payload_decoding [--lines 50000] [--rounds 5]

Two starting points are timed, alternating in the same run (the machine may be shared):
- from bytes: the payload's JSON bytes to a checked typed value;
- from a dict: the payload as the envelope's decoding already left it (the writer and the
  verifier parse the whole envelope once) to a checked typed value.
It prints the median time per line of each and the ratio dataclass / msgspec, with the load.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import time
from collections.abc import Callable

from ledger import fields
from ledger.domain.common import MONTH, WORKER_REF, month, rupiah, worker_ref

try:
    import msgspec
    from msgspec import Meta
except ImportError:  # pragma: no cover - a tool, not the ledger
    raise SystemExit("this comparison needs msgspec: .venv/bin/pip install msgspec") from None

from typing import Annotated

SPEC = {"programme": fields.identifier, "worker": worker_ref, "batch": fields.identifier,
        "disbursement": fields.identifier, "month": month, "jkk_rupiah": fields.integer(0, 10**7),
        "jkm_rupiah": fields.integer(0, 10**7), "jht_rupiah": fields.integer(0, 10**7), "amount_rupiah": rupiah,
        "paid_on": fields.calendar_date}


@dataclasses.dataclass(frozen=True, slots=True)
class PremiumPaid:
    programme: str
    worker: str
    batch: str
    disbursement: str
    month: str
    jkk_rupiah: int
    jkm_rupiah: int
    jht_rupiah: int
    amount_rupiah: int
    paid_on: str


Identifier = Annotated[str, Meta(pattern=fields.IDENTIFIER.pattern.join("^$"), max_length=128)]
WorkerRef = Annotated[str, Meta(pattern=WORKER_REF.pattern.join("^$"))]
Month = Annotated[str, Meta(pattern=MONTH.pattern.join("^$"))]
Component = Annotated[int, Meta(ge=0, le=10**7)]
Rupiah = Annotated[int, Meta(ge=1, le=10**12)]
Day = Annotated[str, Meta(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]


class PremiumPaidStruct(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    programme: Identifier
    worker: WorkerRef
    batch: Identifier
    disbursement: Identifier
    month: Month
    jkk_rupiah: Component
    jkm_rupiah: Component
    jht_rupiah: Component
    amount_rupiah: Rupiah
    paid_on: Day  # a real calendar date is still checked in Python, as the ledger does


def dataclass_from_dict(payload: dict) -> PremiumPaid:
    fields.check_payload(payload, "payload", SPEC)
    return PremiumPaid(**payload)


def dataclass_from_bytes(data: bytes) -> PremiumPaid:
    return dataclass_from_dict(json.loads(data))


DECODER = msgspec.json.Decoder(PremiumPaidStruct)


def struct_from_bytes(data: bytes) -> PremiumPaidStruct:
    value = DECODER.decode(data)
    fields.calendar_date(value.paid_on, "payload.paid_on")
    return value


def struct_from_dict(payload: dict) -> PremiumPaidStruct:
    value = msgspec.convert(payload, PremiumPaidStruct)
    fields.calendar_date(value.paid_on, "payload.paid_on")
    return value


def payloads(count: int) -> list[dict]:
    return [{"programme": "bench-2025", "worker": f"{number:064x}", "batch": f"batch-2025-{number % 12 + 1:02d}",
             "disbursement": "disbursement-2025-01", "month": f"2025-{number % 12 + 1:02d}", "jkk_rupiah": 2_400,
             "jkm_rupiah": 6_800, "jht_rupiah": 0, "amount_rupiah": 9_200, "paid_on": "2025-03-01"}
            for number in range(count)]


def timed(function: Callable, inputs: list) -> float:
    started = time.perf_counter()
    for item in inputs:
        function(item)
    return (time.perf_counter() - started) / len(inputs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    dicts = payloads(arguments.lines)
    encoded = [json.dumps(item, separators=(",", ":")).encode() for item in dicts]
    for item, data in zip(dicts[:100], encoded[:100]):  # the two paths agree on what they accept
        assert dataclasses.astuple(dataclass_from_bytes(data)) == msgspec.structs.astuple(struct_from_bytes(data))
    cases = {"bytes": (dataclass_from_bytes, struct_from_bytes, encoded),
             "dict": (dataclass_from_dict, struct_from_dict, dicts)}
    times: dict[tuple[str, str], list[float]] = {(case, kind): [] for case in cases for kind in ("dataclass", "msgspec")}
    for _ in range(arguments.rounds):  # alternate, so a busy neighbour slows both alike
        for case, (plain, struct, inputs) in cases.items():
            times[case, "dataclass"].append(timed(plain, inputs))
            times[case, "msgspec"].append(timed(struct, inputs))
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; {arguments.lines:,} premium payloads, "
          f"{arguments.rounds} rounds, medians")
    for case in cases:
        plain, struct = statistics.median(times[case, "dataclass"]), statistics.median(times[case, "msgspec"])
        print(f"from {case:5}: frozen dataclass + ledger checks {plain * 1e6:6.2f} us/line, "
              f"msgspec Struct {struct * 1e6:6.2f} us/line, ratio {plain / struct:.1f}x")


if __name__ == "__main__":
    main()
