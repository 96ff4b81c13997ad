"""Offline verification: every signature, batch proof, rule, tree head and checkpoint, streamed.

The same `Verifier` runs over an exported bundle and over a live database. It trusts nothing it
is given except, optionally, a pinned origin and checkpoint key: keys come from replaying the
registrar's signed events from genesis on, and the domain's rules are re-applied to every entry.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from ledger import authorisation, merkle, note, signing
from ledger.checkpoint_keys import ROTATION_TYPE
from ledger.decision import Decision
from ledger.domain.postings import Posting, is_balanced, postings
from ledger.entry import LogEntry, entry_from_json
from ledger.errors import LedgerError
from ledger.organisations import GENESIS_TYPE, Organisation, organisation_uuid
from ledger.parallel import prechecked_in_parallel
from ledger.precheck import BatchPaths, Precheck, precheck

from ledger.domain import kernel  # the rules; importing it registers the domain's event types

MAX_FAILURES_KEPT = 1000
PREMIUM_POSTINGS = ("coverage:premiums", "bpjs:premium_fund")  # debit, credit of premium.paid
NON_NEGATIVE_ACCOUNTS = ("baznas:restricted:", "bpjs:premium_fund", "baznas:amil", "pledge:outstanding:")


@dataclass(frozen=True)
class Failure:
    index: int | None
    check: str
    detail: str

    def __str__(self) -> str:
        where = f"entry {self.index}" if self.index is not None else "log"
        return f"{where}: {self.check}: {self.detail}"


@dataclass
class Report:
    entries: int = 0
    checkpoints: int = 0
    failures: list[Failure] = field(default_factory=list)
    failure_count: int = 0
    root: bytes = merkle.EMPTY_ROOT
    balances: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.failure_count == 0


@dataclass
class _OpenSubmission:
    actor: str
    idempotency_key: str
    first_index: int
    expected: int
    seen: int = 0


class _Replay(Decision):
    """A decision that keeps the aggregates' state, never their events, so memory does not grow
    with a batch's size: a change is applied by the aggregate's mutator without building the
    event the writer stores, and the events of created aggregates are dropped once applied."""

    def __init__(self, load: Callable[[UUID], Any], premium_amounts: Callable[[int, int], list[int]]):
        super().__init__(load)
        self.premium_amounts = premium_amounts
        self.recent: list[Any] = []

    def get(self, aggregate_class: type, aggregate_id: UUID) -> Any:
        aggregate = super().get(aggregate_class, aggregate_id)
        if aggregate is not None:
            self.recent.append(aggregate)
        return aggregate

    def add(self, aggregate: Any) -> None:
        super().add(aggregate)
        self.recent.append(aggregate)

    def record(self, aggregate: Any, entry: LogEntry) -> None:
        aggregate.apply_recorded(entry)  # the same change as the writer's event, without the object

    def drop_events(self) -> None:
        for aggregate in self.recent:
            aggregate.collect_events()
        self.recent.clear()


class Verifier:
    """Feed entries in index order and checkpoints in size order; then `finish()`."""

    def __init__(self, pinned_origin: str | None = None, pinned_checkpoint_key: str | None = None,
                 kept_checkpoints: Sequence[str] = ()):
        self.pinned_origin = pinned_origin
        self.pinned_checkpoint_key = pinned_checkpoint_key
        self.kept_notes = list(kept_checkpoints)  # checkpoints the auditor saw earlier (signed notes)
        self.kept: dict[int, bytes] = {}  # their size -> root, once their signatures are checked
        self.kept_pending: dict[int, list[str]] = {}  # size -> notes, checked when the log gets there
        self.declared_checkpoint_key: str | None = None
        self.subjects: dict[str, int] = {}  # personal-data subject -> the entry that named it
        self.origin: str | None = pinned_origin
        # (declared at entry, verifier key, (name, public key)): genesis's key, then each rotation's
        self.checkpoint_keys: list[tuple[int, str, tuple[str, bytes]]] = []
        self.report = Report()
        self.frontier: list[tuple[int, int, bytes]] = []
        self.aggregates: dict[UUID, Any] = {}
        self.submissions_seen: set[tuple[str, str]] = set()
        self.open: _OpenSubmission | None = None
        self.checkpoint_roots: dict[int, str] = {}  # size -> base64 root of each good signed checkpoint
        self.checkpoint_root: Callable[[int], str | None] = self.checkpoint_roots.get  # for award decisions
        self.decision = self._new_decision()
        self.verified_batches: set[tuple[str, str, str]] = set()
        self.batch_paths = BatchPaths()  # for `feed`: remembers the last line's batch audit path
        self.last_recorded_at = ""
        self.on_nodes: Callable[[list[tuple[int, bytes]]], None] | None = None
        # Called with each entry in log order once it is checked (None when it does not parse):
        # `amanah verify --statement` recomputes a statement's figures from it.
        self.on_entry: Callable[[int, LogEntry | None], None] | None = None
        self.balances: dict[str, int] = {}
        self.postings_by_index: dict[int, list[Posting]] = {}  # premium lines: premium_amounts
        self.premium_amounts = array("q")  # by position: the amount of each premium line, 0 for others

    # ---- entries ------------------------------------------------------------------------

    def fail(self, index: int | None, check: str, detail: str) -> None:
        """Record a failure and go on checking."""
        self.report.failure_count += 1
        if len(self.report.failures) < MAX_FAILURES_KEPT:
            self.report.failures.append(Failure(index, check, detail))

    def feed(self, position: int, leaf: bytes) -> None:
        """Check the entry at `position` (its place in the stream) and add its leaf to the tree."""
        self.accept(position, leaf, precheck(position, leaf, self.origin if position else None, self.batch_paths))

    def feed_stream(self, leaves: Iterable[bytes], jobs: int = 1) -> Iterator[int]:
        """Feed `leaves` in order, yielding each position once it is checked.

        With `jobs` > 1 the checks that need no history (parsing, canonical form, envelope and
        payload fields, batch audit paths, leaf hashes) run in that many worker processes while
        this one replays keys, rules and postings in order, which is what needs the history."""
        iterator = iter(leaves)
        first = next(iterator, None)
        if first is None:
            return
        self.feed(0, first)  # genesis names the origin every later envelope must carry
        yield 0
        if jobs <= 1:
            for position, leaf in enumerate(iterator, 1):
                self.feed(position, leaf)
                yield position
            return
        for position, leaf, checked in prechecked_in_parallel(iterator, 1, self.origin or "", jobs):
            self.accept(position, leaf, checked)
            yield position

    def accept(self, position: int, leaf: bytes, checked: Precheck) -> None:
        """Record what `precheck` found, then check keys, rules and postings in log order."""
        nodes = merkle.append_nodes(self.frontier, position, [checked.leaf_hash])
        if self.on_nodes is not None:
            self.on_nodes(nodes)
        self.report.entries += 1
        entry = self._check_prechecked(position, leaf, checked)
        if self.on_entry is not None:
            self.on_entry(position, entry)
        for note_text in self.kept_pending.pop(position + 1, ()):
            self._keep(note_text, position + 1)
        if position + 1 in self.kept and self.kept[position + 1] != self.current_root():
            self.fail(position, "kept-checkpoint", f"the root of the first {position + 1} entries differs "
                      "from the checkpoint you kept for that size: the log was rewritten (a forked history)")

    def _check_prechecked(self, position: int, leaf: bytes, checked: Precheck) -> LogEntry | None:
        for check, detail in checked.failures:
            self.fail(position, check, detail)
        if not checked.parsed:
            return None
        entry = checked.entry or entry_from_json(json.loads(leaf), leaf)
        if position == 0:
            self._start(entry)
        if checked.usable:
            self._check_entry(position, entry, checked)
        return entry

    def _check_entry(self, position: int, entry: LogEntry, checked: Precheck) -> None:
        if entry.recorded_at < self.last_recorded_at:
            self.fail(position, "recorded_at", "recorded before the entry it follows")
        self.last_recorded_at = max(self.last_recorded_at, entry.recorded_at)
        self._note_subject(position, entry)
        self._track_submission(position, entry)
        self._check_signature(position, entry, checked)
        self._apply(position, entry, checked.payload_error)

    def _start(self, entry: LogEntry) -> None:
        if entry.type != GENESIS_TYPE:
            self.fail(0, "genesis", f"entry 0 is {entry.type}, not {GENESIS_TYPE}")
            return
        origin = entry.envelope.get("ledger")
        if self.pinned_origin and origin != self.pinned_origin:
            self.fail(0, "origin", f"log origin {origin!r} is not the pinned {self.pinned_origin!r}")
        self.origin = origin
        declared = entry.payload.get("checkpoint_key", "")
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
                raise LedgerError("no checkpoint key is known for its size")
            checkpoint = note.verify_checkpoint(note_text, *key[2])
        except LedgerError as error:
            self.fail(None, "kept-checkpoint", f"the kept checkpoint is not one of this log's: {error}")
            return
        if checkpoint.origin != self.origin:
            self.fail(None, "kept-checkpoint", f"the kept checkpoint is for origin {checkpoint.origin!r}")
        elif self.kept.setdefault(checkpoint.size, checkpoint.root) != checkpoint.root:
            self.fail(checkpoint.size - 1, "split-view", f"two kept checkpoints at size {checkpoint.size} "
                      "are both signed by the log's key but have different roots (a split view)")

    def _note_subject(self, position: int, entry: LogEntry) -> None:
        """Remember which entry may have personal data beside it (checked against the database)."""
        if entry.type == "worker.enrolled":
            self.subjects[f"worker:{entry.payload.get('worker')}"] = position
        elif entry.type == "claim.filed":
            self.subjects[f"heir:{entry.payload.get('claim')}"] = position

    def _track_submission(self, position: int, entry: LogEntry) -> None:
        envelope = entry.envelope
        size = entry.batch["size"] if isinstance(entry.batch, dict) else 1
        current = self.open
        if current and (current.actor, current.idempotency_key) == (envelope["actor"], envelope["idempotency_key"]) \
                and current.seen < current.expected:
            if envelope["sequence"] != current.seen or size != current.expected:
                self.fail(position, "batch", f"sequence {envelope['sequence']} out of place in its batch")
            current.seen += 1
            return
        self._close_submission(position)
        key = (envelope["actor"], envelope["idempotency_key"])
        if key in self.submissions_seen:
            self.fail(position, "idempotency", f"idempotency key {key[1]!r} of {key[0]} used twice")
        self.submissions_seen.add(key)
        if envelope["sequence"] != 0:
            self.fail(position, "batch", "a submission must start at sequence 0")
        self.open = _OpenSubmission(key[0], key[1], position, size, 1)

    def _close_submission(self, position: int | None) -> None:
        current = self.open
        if current and current.seen != current.expected:
            self.fail(current.first_index, "batch", f"batch of {current.expected} has only "
                      f"{current.seen} entries in the log (stored partly, or entries removed)")
        if current:
            try:
                self.decision.finish()
            except LedgerError as error:
                self.fail(current.first_index, "rules", f"submission: {error}")
            self._commit()
        self.decision = self._new_decision()
        self.open = None

    def _new_decision(self) -> _Replay:
        decision = _Replay(self._load, self._amounts)
        decision.checkpoint_root = lambda size: self.checkpoint_root(size)
        return decision

    def _commit(self) -> None:
        self.decision.pending_events()
        for aggregate in self.decision.touched():
            self.aggregates[aggregate.id] = aggregate

    def _check_signature(self, position: int, entry: LogEntry, checked: Precheck) -> None:
        try:
            public = self._signing_key(position, entry)
            batch_key = (entry.key_id, entry.batch["root"], entry.signature) if entry.batch is not None \
                and checked.signed_error is None and isinstance(entry.signature, str) else None
            if batch_key in self.verified_batches:  # decoded and checked on an earlier line of its batch
                return
            signature = signing.b64decode(entry.signature, "signature", signing.SIGNATURE_BYTES)
            if checked.signed_error is not None:
                raise LedgerError(checked.signed_error, field="batch")
            signing.verify(public, signature, checked.signed)
            if batch_key is not None:
                self.verified_batches.add(batch_key)
        except LedgerError as error:
            self.fail(position, "signature", str(error))

    def _signing_key(self, position: int, entry: LogEntry) -> bytes:
        """The key the writer required (ledger/authorisation.py): genesis's own, else the actor's."""
        if position == 0 and entry.type == GENESIS_TYPE:
            return authorisation.genesis_key(entry.payload, entry.actor, entry.key_id)
        organisation = self.aggregates.get(organisation_uuid(entry.actor))
        signer = organisation if isinstance(organisation, Organisation) else None
        return authorisation.signer_key(signer, entry.actor, entry.key_id, position).public_key

    def _apply(self, position: int, entry: LogEntry, payload_error: str | None) -> None:
        """Re-check permission, payload and the domain rules by applying the entry again."""
        try:
            if entry.type == GENESIS_TYPE:
                authorisation.genesis_first(position, "type")
                kind = "registrar"
            else:
                kind = getattr(self.aggregates.get(organisation_uuid(entry.actor)), "kind", None)
            authorisation.permit(kind, entry.type, "type")
            if payload_error is None:
                kernel.apply_entry(self.decision, entry)  # committed when the submission closes
                self.decision.drop_events()
        except LedgerError as error:
            payload_error = f"{entry.type}: {error}"
        if payload_error is not None:
            self.fail(position, "rules", payload_error)
            return
        if entry.type == ROTATION_TYPE:  # applied, so cross-signed by the key in force
            new_key = entry.payload["checkpoint_key"]
            self.checkpoint_keys.append((position, new_key, note.parse_verifier_key(new_key)))
        self._post(position, entry)

    def _post(self, position: int, entry: LogEntry) -> None:
        """Postings must balance, and no fund may go below zero."""
        if entry.type == "entry.reversed":
            original = self._postings_of(entry.payload["entry"])
            items = [Posting(item.account, -item.amount_rupiah) for item in original]
        else:
            items = postings(entry)
        if not is_balanced(items):
            self.fail(position, "postings", "debits and credits differ")
        if entry.type == "premium.paid" and tuple(item.account for item in items) == PREMIUM_POSTINGS:
            self._keep_premium_amount(position, items[0].amount_rupiah)  # most of the log: 8 bytes each
        elif items:
            self.postings_by_index[position] = items
        for item in items:
            balance = self.balances.get(item.account, 0) + item.amount_rupiah
            self.balances[item.account] = balance
            if balance < 0 and item.account.startswith(NON_NEGATIVE_ACCOUNTS):
                self.fail(position, "postings", f"{item.account} would go below zero (Rp{balance:,})")

    def _keep_premium_amount(self, position: int, amount_rupiah: int) -> None:
        gap = position + 1 - len(self.premium_amounts)
        if gap > 0:
            self.premium_amounts.extend(array("q", bytes(8 * gap)))
        self.premium_amounts[position] = amount_rupiah

    def _postings_of(self, index: int) -> list[Posting]:
        amount = self.premium_amounts[index] if 0 <= index < len(self.premium_amounts) else 0
        if amount:
            return [Posting(PREMIUM_POSTINGS[0], amount), Posting(PREMIUM_POSTINGS[1], -amount)]
        return self.postings_by_index.get(index, [])

    def _amounts(self, start: int, stop: int) -> list[int]:
        return list(self.premium_amounts[start:stop])

    def _load(self, aggregate_id: UUID) -> Any | None:
        return self.aggregates.get(aggregate_id)

    # ---- checkpoints ---------------------------------------------------------------------

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

    def finish(self) -> Report:
        """Close the last submission and return the report."""
        self._close_submission(None)
        for size, notes in sorted(self.kept_pending.items()):  # beyond the log's end
            for note_text in notes:
                self._keep(note_text, size)
        self.kept_pending.clear()
        for size in sorted(size for size in self.kept if size > self.report.entries):
            self.fail(None, "kept-checkpoint", f"you kept a checkpoint at size {size} but the log holds "
                      f"{self.report.entries} entries: entries were removed (truncated, or a forked history)")
        if self.kept_notes and not self.checkpoint_keys:
            self.fail(None, "kept-checkpoint", "no checkpoint key known to check the kept checkpoint")
        total = sum(self.balances.values())
        if total != 0:
            self.fail(None, "postings", f"trial balance is Rp{total:,}, not zero")
        self.report.root = self.current_root()
        self.report.balances = dict(sorted(self.balances.items()))
        return self.report
