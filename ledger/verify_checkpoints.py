"""The verifier's checkpoint checks: the key in force for each tree size, each signed checkpoint
against the root of the entries, consistency with the one before, and the checkpoints an auditor
kept from earlier (a rewritten or forked history)."""

from __future__ import annotations

from ledger import merkle, note, signing
from ledger.errors import LedgerError, UnknownKey


class CheckpointChecks:
    """The checkpoint half of `Verifier` (ledger/verify.py), which holds the state it reads."""

    origin: str | None
    checkpoint_keys: list[tuple[int, str, tuple[str, bytes]]]
    kept: dict[int, bytes]
    checkpoint_roots: dict[int, str]
    frontier: list[tuple[int, int, bytes]]
    pinned_checkpoint_key: str | None
    declared_checkpoint_key: str | None
    kept_notes: list[str]
    kept_pending: dict[int, list[str]]

    def fail(self, index: int | None, check: str, detail: str) -> None:
        raise NotImplementedError

    def _declare_genesis_key(self, declared: str) -> None:
        """Genesis declares the first checkpoint key; a pinned one must be it."""
        if self.pinned_checkpoint_key and declared != self.pinned_checkpoint_key:
            self.fail(0, "checkpoint-key", "genesis declares a checkpoint key other than the pinned one")
        self.declared_checkpoint_key = declared
        trusted = self.pinned_checkpoint_key or declared
        try:
            self.checkpoint_keys = [(0, trusted, note.parse_verifier_key(trusted))]
        except LedgerError as error:
            self.fail(0, "checkpoint-key", str(error))
            return
        for kept in self.kept_notes:
            try:
                self.kept_pending.setdefault(note.parse_checkpoint(kept).size, []).append(kept)
            except LedgerError as error:
                self.fail(None, "kept-checkpoint", f"the kept checkpoint is not a checkpoint: {error}")

    def _finish_kept(self, entries: int) -> None:
        """At the end: kept checkpoints beyond the log's end, checked now."""
        for size, notes in sorted(self.kept_pending.items()):  # beyond the log's end
            for note_text in notes:
                self._keep(note_text, size)
        self.kept_pending.clear()
        for size in sorted(size for size in self.kept if size > entries):
            self.fail(None, "kept-checkpoint", f"you kept a checkpoint at size {size} but the log holds "
                      f"{entries} entries: entries were removed (truncated, or a forked history)")
        if self.kept_notes and not self.checkpoint_keys:
            self.fail(None, "kept-checkpoint", "no checkpoint key known to check the kept checkpoint")

    def _key_in_force(self, size: int) -> tuple[int, str, tuple[str, bytes]] | None:
        """(declared at, verifier key, parsed key) of the checkpoint key that signs tree size `size`."""
        in_force = [key for key in self.checkpoint_keys if key[0] < size]
        return in_force[-1] if in_force else None

    def _keep(self, note_text: str, size: int) -> None:
        """Check a checkpoint the auditor kept from earlier, once the log reaches its size: signed
        by the key in force for that size, for this origin."""
        key = self._key_in_force(size)
        try:
            if key is None:
                raise UnknownKey("no checkpoint key is known for its size")
            checkpoint = note.verify_checkpoint(note_text, *key[2])
        except LedgerError as error:
            self.fail(None, "kept-checkpoint", f"the kept checkpoint is not one of this log's: {error}")
            return
        if checkpoint.origin != self.origin:
            self.fail(None, "kept-checkpoint", f"the kept checkpoint is for origin {checkpoint.origin!r}")
        elif self.kept.setdefault(checkpoint.size, checkpoint.root) != checkpoint.root:
            self.fail(checkpoint.size - 1, "split-view", f"two kept checkpoints at size {checkpoint.size} "
                      "are both signed by the log's key but have different roots (a split view)")

    def current_root(self) -> bytes:
        return merkle.fold([digest for _, _, digest in self.frontier]) if self.frontier else merkle.EMPTY_ROOT

    def check_checkpoint(self, note_text: str, size: int, previous: tuple[int, bytes] | None,
                         consistency: list[bytes] | None, stated_root: object = None) -> bytes | None:
        """Call when exactly `size` entries were fed: signature, root, consistency with previous;
        `stated_root` is the base64 root stored or exported beside the note, if any."""
        self.report.checkpoints += 1
        in_force = self._key_in_force(size)
        if in_force is None:
            self.fail(None, "checkpoint", f"no checkpoint key known to check checkpoint {size}")
            return None
        try:
            checkpoint = note.verify_checkpoint(note_text, *in_force[2])
        except LedgerError as error:
            self.fail(size - 1 if size else None, "checkpoint", f"checkpoint at size {size}: {error} "
                      f"(the key in force is {in_force[1]}){self._signed_by_another_key(note_text)}")
            return None
        if checkpoint.origin != self.origin or checkpoint.size != size:
            self.fail(size - 1, "checkpoint", f"checkpoint at size {size} names origin "
                      f"{checkpoint.origin!r} and size {checkpoint.size}")
        if checkpoint.root != self.current_root():
            self.fail(size - 1, "checkpoint", f"signed root at size {size} differs from the root of "
                      "the entries (an entry was altered, or the checkpoint is for a forked history)")
        elif checkpoint.origin == self.origin and checkpoint.size == size:
            self.checkpoint_roots[size] = signing.b64encode(checkpoint.root)
        if stated_root is not None and stated_root != signing.b64encode(checkpoint.root):
            self.fail(size - 1, "checkpoint", f"the root stated beside checkpoint {size} is not the "
                      "root its note signs")
        if self.kept.get(size, checkpoint.root) != checkpoint.root:
            self.fail(size - 1, "split-view", f"checkpoint {size} and the checkpoint you kept for that "
                      "size are both signed by the log's key but have different roots (a split view)")
        if previous is not None and consistency is not None and not merkle.verify_consistency(
                previous[0], size, consistency, previous[1], checkpoint.root):
            self.fail(size - 1, "consistency", f"checkpoint {size} is not consistent with "
                      f"checkpoint {previous[0]}")
        return checkpoint.root

    def _signed_by_another_key(self, note_text: str) -> str:
        """Names the ledger's key that did sign a checkpoint signed with the wrong one, if any."""
        for position, (declared_at, verifier_key, parsed) in enumerate(self.checkpoint_keys):
            try:
                note.verify_checkpoint(note_text, *parsed)
            except LedgerError:
                continue
            until = self.checkpoint_keys[position + 1][0] if position + 1 < len(self.checkpoint_keys) else None
            span = f"tree sizes above {declared_at}" + (f" up to {until}" if until is not None else "")
            retired = " retired" if until is not None else ""
            return f"; it is signed by the{retired} checkpoint key {verifier_key}, which signs only {span}"
        return ""

