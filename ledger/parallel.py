"""The verifier's history-free checks spread over worker processes, results kept in log order.

Only a bounded window of chunks is in flight, so memory stays flat however long the log is.
Worker processes are spawned (not forked), so this is safe to call from a threaded program.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import Any

from ledger.precheck import BatchPaths, precheck

CHUNK_ENTRIES = 2000
CHUNKS_IN_FLIGHT_PER_JOB = 3


def prechecked_in_parallel(leaves: Iterable[bytes], first_position: int, origin: str,
                           jobs: int) -> Iterator[tuple[int, bytes, Any]]:
    """(position, leaf, Precheck) for each leaf, in order, prechecked by `jobs` processes."""
    iterator = iter(leaves)
    window: deque[tuple[int, list[bytes], Future]] = deque()
    position = first_position
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        while True:
            while len(window) < jobs * CHUNKS_IN_FLIGHT_PER_JOB:
                chunk = list(islice(iterator, CHUNK_ENTRIES))
                if not chunk:
                    break
                window.append((position, chunk, pool.submit(_precheck_chunk, position, chunk, origin)))
                position += len(chunk)
            if not window:
                return
            start, chunk, future = window.popleft()
            for offset, (leaf, checked) in enumerate(zip(chunk, future.result(), strict=True)):
                yield start + offset, leaf, checked


def _precheck_chunk(start: int, leaves: list[bytes], origin: str) -> list[Any]:
    results = []
    paths = BatchPaths()
    for offset, leaf in enumerate(leaves):
        checked = precheck(start + offset, leaf, origin, paths)
        checked.entry = None  # cheaper to parse again over there than to pickle
        results.append(checked)
    return results
