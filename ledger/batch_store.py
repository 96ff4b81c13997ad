"""Batched lines stored compactly, and their exact leaves rebuilt on read.

Every line of a submission of 2+ envelopes carries the batch's signature, root and size and its
own audit path into the root (about 750 of a premium line's 1,400 leaf bytes). The stored state
of such a line leaves them out; they go once per submission into `log_batches`, with the
hashes of the batch's envelopes (32 bytes a line), from which a line's audit path is recomputed
with bundle format 2's own batch tree:

    stored state  {"line":{"envelope":E,"index":N,"recorded_at":T}}
    leaf          {"batch":{"path":[P],"root":R,"size":S},"envelope":E,"index":N,"recorded_at":T,"signature":G}

A state that starts otherwise (`{"batch"`, `{"envelope"`) is a whole leaf: ledgers written before
stored every line so, and still read as they are. The leaf bytes, and so the log, are unchanged;
an edited line or batch row rebuilds a different leaf, which verification catches (the paths
come from the stored hashes, so an edited envelope is named at its own line only, as before).
"""

from __future__ import annotations

import json
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from ledger import merkle
from ledger.batch_tree import batch_tree
from ledger.entry import LINE_PREFIX, LogEntry, envelope_span

PATH_HEAD = b'{"batch":{"path":['
BATCH_COLUMNS = ("first_index", "entry_count", "root", "signature", "leaf_hashes")
CACHED_BATCHES = 2  # audit paths of the batches read last (up to ~14 MB each for 20,000 lines): a reader goes batch by batch


def compact_state(entry: LogEntry) -> bytes:
    """What to store for `entry`: a batched line without its batch and signature, when that
    rebuilds the leaf byte for byte (checked piece by piece); else the whole leaf."""
    leaf = entry.leaf
    if entry.batch is None or not leaf.startswith(PATH_HEAD):
        return leaf
    middle, tail = _shared(*_row_of(entry)[1:4])
    path_end = leaf.find(b'],"root":')  # base64 holds no bracket
    body_start = path_end + len(middle)
    body_end = len(leaf) - len(tail)
    if path_end < 0 or leaf[path_end:body_start] != middle or leaf[body_end:] != tail:
        return leaf
    return LINE_PREFIX + leaf[body_start:body_end] + b"}}"


def batch_row(entries: Sequence[LogEntry], first_index: int, envelope_hashes: Sequence[bytes] = ()) -> tuple | None:
    """The `log_batches` row of one submission's entries, or None for a single envelope.
    `envelope_hashes` are the leaf hashes of the envelopes the submission already computed for
    its root (`Submission.leaf_hashes`); without them each envelope is hashed from its leaf."""
    if not entries or entries[0].batch is None:
        return None
    batch = entries[0].batch
    assert batch["size"] == len(entries), "a batch is one submission's entries"
    if len(envelope_hashes) == len(entries):
        hashes = b"".join(envelope_hashes)
    else:
        hashes = b"".join(merkle.leaf_hash(envelope_span(entry.leaf, entry.index) or b"") for entry in entries)
    return (first_index, *_row_of(entries[0])[1:], hashes)


def _row_of(entry: LogEntry) -> tuple:
    return (entry.index, int(entry.batch["size"]), entry.batch["root"], entry.signature)


def expand(state: bytes, row: tuple, path: bytes) -> bytes:
    """The leaf of a compact line, from its batch row and its audit path (the text between the
    brackets of `"path":[...]`)."""
    middle, tail = _shared(*row[1:4])
    return b"".join((PATH_HEAD, path, middle, state[len(LINE_PREFIX):-2], tail))


@lru_cache(maxsize=16)
def _shared(size: int, root: str, signature: str) -> tuple[bytes, bytes]:
    """The bytes every leaf of a batch has around its path and its own members."""
    return (b'],"root":' + json.dumps(root).encode() + b',"size":%d},' % size,
            b',"signature":' + json.dumps(signature).encode() + b"}")


class BatchPaths:
    """Audit paths of the batches read last, by their row (rows are append-only, and the key
    is the whole row, so a hit is that batch's paths). Shared by a server's threads."""

    def __init__(self) -> None:
        self._paths: OrderedDict[tuple, list[bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, row: tuple) -> list[bytes]:
        """Each line's audit path text, from the row's envelope hashes."""
        with self._lock:
            paths = self._paths.get(row)
            if paths is not None:
                self._paths.move_to_end(row)
                return paths
        hashes = row[4]
        paths = batch_tree([hashes[at:at + 32] for at in range(0, len(hashes), 32)])[1]
        with self._lock:
            self._paths[row] = paths
            while len(self._paths) > CACHED_BATCHES:
                self._paths.popitem(last=False)
        return paths


PATHS = BatchPaths()


def leaves(cursor: Any, dialect: Any, rows: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """(index, leaf) of stored (index, state) rows in index order, compact lines rebuilt with
    the batch rows that hold them. A line no batch row holds (or holds inconsistently) is given
    as stored, for verification to name."""
    compact = [index for index, state in rows if state.startswith(LINE_PREFIX)]
    if not compact:
        return rows
    batches = select_batches(cursor, dialect, compact[0], compact[-1] + 1)
    firsts = [row[0] for row in batches]
    rebuilt = dict(rows)
    for at, row in enumerate(batches):
        first, size = row[0], row[1]
        paths = PATHS.get(row)
        for index in range(max(first, compact[0]), min(first + size, compact[-1] + 1, first + len(paths))):
            state = rebuilt.get(index, b"")  # a row missing (removed underneath) is for verification to name
            if state.startswith(LINE_PREFIX) and bisect_right(firsts, index) - 1 == at:
                rebuilt[index] = expand(state, row, paths[index - first])
    return list(rebuilt.items())


def select_batches(cursor: Any, dialect: Any, start: int, stop: int) -> list[tuple]:
    """The batch rows holding any entry of [start, stop): the one holding `start`, and those
    that begin after it."""
    columns = ", ".join(BATCH_COLUMNS)
    cursor.execute(dialect.sql(f"SELECT {columns} FROM {{log_batches}} WHERE first_index <= ? "
                               "ORDER BY first_index DESC LIMIT 1"), (start,))
    found = cursor.fetchall()
    cursor.execute(dialect.sql(f"SELECT {columns} FROM {{log_batches}} WHERE first_index > ? AND first_index < ? "
                               "ORDER BY first_index"), (start, stop))
    found += cursor.fetchall()
    return [(int(row["first_index"]), int(row["entry_count"]), row["root"], row["signature"], bytes(row["leaf_hashes"]))
            for row in found]


def create_statement(dialect: Any) -> str:
    """The `log_batches` table: one row per submission of 2+ envelopes."""
    return dialect.sql(f"CREATE TABLE IF NOT EXISTS {{log_batches}} (first_index {dialect.bigint_type} PRIMARY KEY, "
                       f"entry_count {dialect.bigint_type} NOT NULL, root TEXT NOT NULL, signature TEXT NOT NULL, "
                       f"leaf_hashes {dialect.blob_type} NOT NULL)")
