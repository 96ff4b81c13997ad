"""Verifying a live database: the checks a bundle gets, plus the stored subtree hashes, stray
events and the personal data kept beside the log."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from ledger import merkle, node_store
from ledger.award_check import check_award_decisions
from ledger.bundle_export import PAGE, Progress, no_progress
from ledger.personal_check import check_personal_data
from ledger.verify import Report, Verifier


def verify_database(ledger: Any, progress: Progress = no_progress,
                    kept_checkpoints: Sequence[str] = ()) -> Report:
    """Verify a live database: the same checks, plus stored subtree hashes, stray events and the
    personal data beside the log."""
    verifier = Verifier(kept_checkpoints=kept_checkpoints, keep_subjects=True)
    size = ledger.size()
    checkpoints = iter(ledger.checkpoints(0, 10**9))
    pending = next(checkpoints, None)
    previous: tuple[int, bytes] | None = None
    expected_nodes: list[tuple[int, bytes]] = []
    differing: list[tuple[int, int]] = []  # leaf ranges of the stored nodes found to differ
    verifier.on_nodes = expected_nodes.extend
    for start in range(0, size, PAGE):
        rows = ledger.entries(start, min(PAGE, size - start))
        for position, (index, leaf) in enumerate(rows, start):
            if index != position:
                verifier.fail(position, "order", f"log_entries has index {index} at {position}")
            verifier.feed(position, leaf)
            while pending is not None and pending["tree_size"] == position + 1:
                proof = _consistency_proof(ledger, verifier, previous, position + 1)
                root = verifier.check_checkpoint(pending["note"], position + 1, previous, proof, pending["root"])
                previous = (position + 1, root) if root else previous
                pending = next(checkpoints, None)
        _compare_nodes(ledger, expected_nodes, verifier, differing)
        expected_nodes.clear()
        progress(min(start + PAGE, size), size)
    while pending is not None:
        verifier.fail(None, "checkpoint", f"checkpoint for size {pending['tree_size']} beyond the "
                      f"log of {size}")
        pending = next(checkpoints, None)
    covered = previous[0] if previous else 0
    if size > covered:
        verifier.fail(covered, "checkpoint", f"entries {covered}..{size - 1} are not covered by any signed "
                      "checkpoint (appended outside the ledger? `amanah checkpoint --sign` signs one)")
    stored = ledger.recorder.read(lambda c, d: _count_events(c, d))
    if stored != size:
        verifier.fail(None, "log", f"{stored} stored events but {size} log entries: an event "
                      "outside the log, or a log entry without its event")
    report = verifier.finish()
    check_award_decisions(verifier)
    check_personal_data(ledger, verifier)
    return report


def _consistency_proof(ledger: Any, verifier: Verifier, previous: tuple[int, bytes] | None,
                       size: int) -> list[bytes] | None:
    """The stored subtrees' proof that the previous checkpoint's tree is a prefix of this one's;
    None (and a failure named) when the store lacks the subtrees it needs."""
    if previous is None:
        return None
    try:
        return [base64.b64decode(h) for h in ledger.consistency_proof(previous[0], size)["proof"]]
    except merkle.MissingSubtrees as error:
        verifier.fail(size - 1, "subtree", f"checkpoint {size} cannot be proved consistent with "
                      f"checkpoint {previous[0]} from the stored subtrees: {error}")
        return None


def _count_events(cursor: Any, dialect: Any) -> int:
    cursor.execute(f"SELECT COUNT(*) AS n FROM {dialect.events_table}")
    return int(cursor.fetchone()["n"])


def _compare_nodes(ledger: Any, expected: list[tuple[int, bytes]], verifier: Verifier,
                   differing: list[tuple[int, int]]) -> None:
    """Report stored nodes that differ from the recomputed ones; a subtree over a node already
    reported differs as a consequence and is not reported again (it would blame other entries)."""
    for chunk_start in range(0, len(expected), 500):
        chunk = expected[chunk_start:chunk_start + 500]
        stored = ledger.recorder.read(lambda c, d: node_store.read_nodes(c, d, [k for k, _ in chunk]))
        for key, digest in chunk:
            if stored.get(key) == digest:
                continue
            level, index = key >> merkle.LEVEL_SHIFT, key & ((1 << merkle.LEVEL_SHIFT) - 1)
            first, end = index << level, (index + 1) << level
            if not any(first <= start and stop <= end for start, stop in differing):
                what = ("stored leaf hash differs from the stored event, or is missing (the event row, "
                        "log_leaves or log_nodes was altered)") if level == 0 else (
                    f"stored hash of subtree level {level} index {index} (entries {first}..{end - 1}) differs "
                    "or is missing (log_nodes or, below 16 entries, log_leaves altered)")
                verifier.fail(first, "subtree", what)
            differing.append((first, end))
