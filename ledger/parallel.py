"""The verifier's history-free checks spread over worker processes, results kept in log order.

Only a bounded window of chunks is in flight, so memory stays flat however long the log is.
Worker processes are spawned (not forked), so this is safe to call from a threaded program.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from operator import itemgetter
from typing import Any

from ledger.bundle_v2 import CHUNK_ENTRIES, Group, rebuilt_one_by_one
from ledger.precheck import BatchPaths, Precheck, precheck, precheck_rebuilt

CHUNKS_IN_FLIGHT_PER_JOB = 3

Failures = list[tuple[int | None, str, str]]


def in_order(tasks: Iterable[tuple], function: Callable[..., Any], jobs: int,
             entries: Callable[[tuple], int], keep: Callable[[tuple], Any] = lambda task: task,
             ) -> Iterator[tuple[Any, Any]]:
    """(keep(task), function(*task)) for each task, in order, computed by `jobs` processes, with
    at most about jobs * CHUNKS_IN_FLIGHT_PER_JOB * CHUNK_ENTRIES entries in flight (a chunk
    holding one large submission counts for all its entries), and always at least one task per
    job. Only `keep(task)` is held while a task is in flight."""
    iterator = iter(tasks)
    window: deque[tuple[Any, Future, int]] = deque()
    limit = jobs * CHUNKS_IN_FLIGHT_PER_JOB * CHUNK_ENTRIES
    in_flight = 0
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        while True:
            while len(window) < jobs or (len(window) < jobs * CHUNKS_IN_FLIGHT_PER_JOB and in_flight < limit):
                task = next(iterator, None)
                if task is None:
                    break
                window.append((keep(task), pool.submit(function, *task), entries(task)))
                in_flight += window[-1][2]
            if not window:
                return
            task, future, size = window.popleft()
            in_flight -= size
            yield task, future.result()


def prechecked_in_parallel(leaves: Iterable[bytes], first_position: int, origin: str,
                           jobs: int) -> Iterator[tuple[int, bytes, Any]]:
    """(position, leaf, Precheck) for each leaf, in order, prechecked by `jobs` processes."""
    def tasks() -> Iterator[tuple[int, list[bytes], str]]:
        iterator, position = iter(leaves), first_position
        while chunk := list(islice(iterator, CHUNK_ENTRIES)):
            yield position, chunk, origin
            position += len(chunk)

    for (start, chunk, _), results in in_order(tasks(), _precheck_chunk, jobs, lambda task: len(task[1])):
        for offset, (leaf, checked) in enumerate(zip(chunk, results, strict=True)):
            yield start + offset, leaf, checked


def _precheck_chunk(start: int, leaves: list[bytes], origin: str) -> list[Any]:
    results = []
    paths = BatchPaths()
    for offset, leaf in enumerate(leaves):
        checked = precheck(start + offset, leaf, origin, paths)
        checked.entry = None  # cheaper to parse again over there than to pickle
        results.append(checked)
    return results


def rebuilt_and_prechecked(start: int, groups: list[Group], origin: str | None,
                           keep_entries: bool = False) -> tuple[list[tuple[bytes, Precheck]], Failures]:
    """The entries of format-2 line groups rebuilt (ledger/bundle_v2.py) and prechecked, the
    first at `start`, with the failures that name no entry of the chunk. `origin` None takes
    the entry's own.

    Without `keep_entries` (a worker process's answer) a usable rebuilt entry comes back as its
    envelope's bytes alone, its `parts` spanning them: the rest of the leaf (its audit path,
    most of a premium line's bytes at 1M entries) was checked here, and nothing after the
    precheck reads it, so it is neither pickled nor held in the verifying process."""
    leftover: Failures = []
    results = []
    paths = BatchPaths()
    # One leaf at a time, each freed once checked: a chunk may hold a 20,000-line submission.
    for offset, entry in enumerate(rebuilt_one_by_one(start, groups, leftover)):
        position = start + offset
        origin_here = origin if position else None
        checked = precheck_rebuilt(position, entry.leaf, origin_here, entry.parts, entry.known_root) if entry.parts \
            else precheck(position, entry.leaf, origin_here, paths, entry.known_root)
        checked.failures[:0] = entry.failures
        if keep_entries:
            results.append((entry.leaf, checked))
            continue
        checked.entry = None
        if checked.parts is not None and checked.usable:
            begin, end, *rest = checked.parts
            checked.parts = (0, end - begin, *rest)
            results.append((entry.leaf[begin:end], checked))
        else:
            results.append((entry.leaf, checked))
    return results, leftover


def rebuilt_in_parallel(chunks: Iterable[tuple[int, list[Group]]], origin: str,
                        jobs: int) -> Iterator[tuple[int, list[tuple[bytes, Precheck]], Failures]]:
    """(first position, [(leaf, Precheck)...], failures) for each chunk of format-2 lines, in
    order, rebuilt and prechecked by `jobs` processes."""
    tasks = ((start, groups, origin) for start, groups in chunks)
    def entries(task: tuple) -> int:
        return sum(group.entries for group in task[1])

    first_position = itemgetter(0)  # not the chunk's lines: they are the worker's to hold
    for start, (results, leftover) in in_order(tasks, rebuilt_and_prechecked, jobs, entries, first_position):
        yield start, results, leftover
