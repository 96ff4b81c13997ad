"""Warming a server's ledger before its first request.

A new process knows nothing: its first submission would read the genesis entry, load the
registrar, the signer and the programme from their events, and its aggregate cache would start
from nothing. `warm` does that work at start, bounded in count and time, so that the first
request costs what every later one does."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledger.domain.common import aggregate_uuid
from ledger.organisations import organisation_uuid

if TYPE_CHECKING:
    from ledger.application import Ledger

MAX_WARM_AGGREGATES = 2_000  # organisations and programmes, never workers (a batch loads its own)
WARM_BUDGET_S = 3.0  # a start-up that finds more stops here; the rest loads on first use
CHUNK = 200


@dataclass(frozen=True)
class Warmth:
    """What `warm` loaded: aggregates held in the cache, at which log size, in how long."""

    organisations: int
    programmes: int
    tree_size: int
    seconds: float
    complete: bool  # False when the count or time bound stopped it

    def describe(self) -> str:
        """One log line."""
        return (f"warmed the ledger at {self.tree_size} entries: {self.organisations} organisations and "
                f"{self.programmes} programmes cached in {self.seconds * 1000:.0f} ms"
                f"{'' if self.complete else ' (stopped at its bound; the rest load on first use)'}")


def warm(ledger: Ledger, organisations: Iterable[str] = (), programmes: Iterable[str] = (),
         budget_s: float = WARM_BUDGET_S) -> Warmth:
    """Read the log's origin and registrar and cache the named organisations' and programmes'
    aggregates (the registrar's always), at most MAX_WARM_AGGREGATES within `budget_s`."""
    started = time.monotonic()
    size = ledger.size()
    ledger.cache.sync(size)  # the aggregates loaded below are at `size` or later
    registrar = ledger.registrar_id() if size else None
    ledger.origin  # noqa: B018 - read from genesis once, and kept
    names = list(dict.fromkeys([*([registrar] if registrar else []), *organisations]))
    wanted = [organisation_uuid(name) for name in names]
    wanted += [aggregate_uuid("programme", name) for name in dict.fromkeys(programmes)]
    organisation_ids = set(wanted[:len(names)])
    counts = {"organisations": 0, "programmes": 0}
    bounded = wanted[:MAX_WARM_AGGREGATES]
    done = 0
    for start in range(0, len(bounded) if size else 0, CHUNK):
        if time.monotonic() - started > budget_s:
            break
        found = ledger.load_many(bounded[start:start + CHUNK])
        ledger.cache.keep(found.values())
        for aggregate_id in found:
            counts["organisations" if aggregate_id in organisation_ids else "programmes"] += 1
        done = start + CHUNK
    complete = size == 0 or (done >= len(wanted) and len(bounded) == len(wanted))
    return Warmth(counts["organisations"], counts["programmes"], size, time.monotonic() - started, complete)
