"""Reading the log: its size, genesis and origin, entries, checkpoints, roots and proofs."""

from __future__ import annotations

from typing import Any

from ledger import log_store, merkle, node_store, signing
from ledger.entry import LogEntry, parse_entry, parse_stored_entry
from ledger.errors import ProofError

MAX_PAGE = 1000


class LogReading:
    """The ledger's read side over its recorder (`self.recorder`, with `read`)."""

    recorder: Any
    settings: Any
    _origin: str | None

    def size(self) -> int:
        """Number of entries in the log."""
        return self.recorder.read(log_store.log_size)

    def genesis(self) -> LogEntry | None:
        """Entry 0, or None before `init`."""
        rows = self.recorder.read(lambda c, d: log_store.select_entries(c, d, 0, 1))
        return parse_entry(rows[0][1]) if rows else None

    @property
    def origin(self) -> str:
        """The log's origin line: fixed at genesis, from settings before it."""
        if self._origin is None:
            genesis = self.genesis()
            if genesis is None:
                return self.settings.origin
            self._origin = genesis.envelope["ledger"]
        return self._origin

    def entries(self, start: int, limit: int) -> list[tuple[int, bytes]]:
        """Up to `limit` (index, leaf bytes) pairs from `start`."""
        if start < 0 or not 1 <= limit <= MAX_PAGE:
            raise ProofError(f"start must be >= 0 and limit 1..{MAX_PAGE}", field="limit")
        return self.recorder.read(lambda c, d: log_store.select_entries(c, d, start, start + limit))

    def replayable(self, start: int, stop: int) -> list[LogEntry]:
        """The entries [start, stop) as the rules and the views replay them, from their stored
        states: a batched line is its compact state (a `StoredLine`: index, time and envelope;
        no signature, batch or leaf), so no audit path is rebuilt or parsed. Entries a reader
        must check or show as signed come from `entries`."""
        rows = self.recorder.read(lambda c, d: log_store.select_states(c, d, start, stop))
        return [parse_stored_entry(state) for _, state in rows]

    def latest_checkpoint(self) -> dict | None:
        """The newest checkpoint as JSON values."""
        row = self.recorder.read(log_store.latest_checkpoint)
        return _checkpoint_json(row) if row else None

    def checkpoints(self, start_size: int = 0, limit: int = MAX_PAGE) -> list[dict]:
        """Every checkpoint with tree_size >= start_size, oldest first."""
        rows = self.recorder.read(lambda c, d: log_store.select_checkpoints(c, d, start_size, limit))
        return [_checkpoint_json(row) for row in rows]

    def root(self, size: int) -> bytes:
        """Tree head at `size` from stored subtrees."""
        return self.recorder.read(lambda c, d: merkle.root_from_store(
            size, lambda keys: node_store.read_nodes(c, d, keys)))

    def inclusion_proof(self, index: int, size: int) -> dict:
        """Audit path of entry `index` in the tree of `size` entries."""
        current = self.size()
        if not 0 < size <= current:
            raise ProofError(f"size must be 1..{current}", field="size")
        if not 0 <= index < size:
            raise ProofError(f"index must be 0..{size - 1}", field="index")

        def query(cursor: Any, dialect: Any) -> dict:
            read = _prefetched(cursor, dialect, {merkle.node_key(0, index)} | merkle.keys_read(size, index=index))
            return {"index": index, "tree_size": size,
                    "leaf_hash": signing.b64encode(read([merkle.node_key(0, index)])[merkle.node_key(0, index)]),
                    "root": signing.b64encode(merkle.root_from_store(size, read)),
                    "proof": [signing.b64encode(h) for h in merkle.inclusion_proof(index, size, read)]}

        return self.recorder.read(query)

    def consistency_proof(self, first: int, second: int) -> dict:
        """Proof that the tree of `first` entries is a prefix of the tree of `second`."""
        current = self.size()
        if not 0 < second <= current:
            raise ProofError(f"second must be 1..{current}", field="second")
        if not 0 < first <= second:
            raise ProofError(f"first must be 1..{second}", field="first")

        def query(cursor: Any, dialect: Any) -> dict:
            read = _prefetched(cursor, dialect, merkle.keys_read(second, first=first))
            return {"first": first, "second": second,
                    "first_root": signing.b64encode(merkle.root_from_store(first, read)),
                    "second_root": signing.b64encode(merkle.root_from_store(second, read)),
                    "proof": [signing.b64encode(h) for h in merkle.consistency_proof(first, second, read)]}

        return self.recorder.read(query)

    def _premium_amounts(self, start: int, stop: int) -> list[int]:
        """The amounts of the premium lines stored at [start, stop), in order (for attribution)."""
        return [entry.payload["amount_rupiah"] for entry in self.replayable(start, stop)]

    def checkpoint_root(self, size: int) -> str | None:
        """The base64 root of the signed checkpoint of exactly `size` entries, or None."""
        found = self.checkpoints(size, 1)
        return found[0]["root"] if found and found[0]["tree_size"] == size else None


def _checkpoint_json(row: dict) -> dict:
    return {"tree_size": row["tree_size"], "root": signing.b64encode(row["root"]),
            "note": row["note"], "signed_at": row["signed_at"]}


def _prefetched(cursor: Any, dialect: Any, keys: set[int]) -> merkle.NodeReader:
    """A node reader over the nodes a proof needs, read in one query."""
    stored = node_store.read_nodes(cursor, dialect, sorted(keys))
    return lambda wanted: {key: stored[key] for key in wanted if key in stored}
