"""Offline verification: every signature, batch proof, rule, tree head and checkpoint, streamed.

The same `Verifier` runs over an exported bundle and over a live database. It trusts nothing it
is given except, optionally, a pinned origin and checkpoint key: keys come from replaying the
registrar's signed events from genesis on, and the domain's rules are re-applied to every entry.
"""

from __future__ import annotations

import itertools
import json
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from ledger import authorisation, merkle, note, signing
from ledger.award_trail import AwardTrail
from ledger.checkpoint_keys import ROTATION_TYPE
from ledger.domain.postings import Posting
from ledger.entry import LogEntry, entry_from_json
from ledger.errors import BadSignature, LedgerError
from ledger.organisations import GENESIS_TYPE, Organisation, organisation_uuid
from ledger.bundle_v2 import Group
from ledger.parallel import prechecked_in_parallel, rebuilt_and_prechecked, rebuilt_in_parallel
from ledger.precheck import BatchPaths, Precheck, entry_from_parts, precheck
from ledger.verify_checkpoints import CheckpointChecks
from ledger.verify_replay import ReplayChecks

from ledger.domain import kernel  # the rules; importing it registers the domain's event types

MAX_FAILURES_KEPT = 1000


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


class Verifier(CheckpointChecks, ReplayChecks):
    """Feed entries in index order and checkpoints in size order; then `finish()`."""

    def __init__(self, pinned_origin: str | None = None, pinned_checkpoint_key: str | None = None,
                 kept_checkpoints: Sequence[str] = (), keep_subjects: bool = False):
        self.pinned_origin = pinned_origin
        self.pinned_checkpoint_key = pinned_checkpoint_key
        self.kept_notes = list(kept_checkpoints)  # checkpoints the auditor saw earlier (signed notes)
        self.kept: dict[int, bytes] = {}  # their size -> root, once their signatures are checked
        self.kept_pending: dict[int, list[str]] = {}  # size -> notes, checked when the log gets there
        self.declared_checkpoint_key: str | None = None
        # Personal-data subject -> the entry that named it, for the database's personal records
        # (ledger/personal_check.py); a bundle has none, so its verifier keeps none (13 MB at 1M).
        self.keep_subjects = keep_subjects
        self.subjects: dict[str, int] = {}
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
        self.award_trail = AwardTrail()  # what the award check reads after the last entry (ledger/award_check.py)

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

    def feed_rebuilt(self, chunks: Iterable[tuple[int, list[Group]]], jobs: int = 1) -> Iterator[int]:
        """Feed the entries of a format-2 bundle's line groups (ledger/bundle_v2.py), rebuilt and
        prechecked in `jobs` processes, yielding each position once it is checked."""
        iterator = iter(chunks)
        first = next(iterator, None)
        if first is None:
            return
        _, groups = first  # genesis, alone in its group, names the origin every later envelope must carry
        prechecked, leftover = rebuilt_and_prechecked(0, groups[:1], self.origin, keep_entries=True)
        yield from self._accept_all(0, prechecked, leftover)
        later = itertools.chain([(len(prechecked), groups[1:])], iterator)
        origin = self.origin or ""
        if jobs <= 1:
            results = ((start, *rebuilt_and_prechecked(start, chunk, origin, keep_entries=True))
                       for start, chunk in later)
        else:
            results = rebuilt_in_parallel(later, origin, jobs)
        for start, prechecked, leftover in results:
            yield from self._accept_all(start, prechecked, leftover)

    def _accept_all(self, start: int, prechecked: list[tuple[bytes, Precheck]], leftover: list) -> Iterator[int]:
        for offset, (leaf, checked) in enumerate(prechecked):
            prechecked[offset] = None  # freed as it goes: a chunk may hold a 20,000-line submission
            self.accept(start + offset, leaf, checked)
            yield start + offset
        for index, check, detail in leftover:
            self.fail(index, check, detail)

    def accept(self, position: int, leaf: bytes, checked: Precheck) -> None:
        """Record what `precheck` found, then check keys, rules and postings in log order. `leaf`
        is the entry's leaf, or only its envelope's bytes when a worker process checked the rest
        (ledger/parallel.py); the tree takes `checked.leaf_hash` either way."""
        nodes = merkle.append_nodes(self.frontier, position, [checked.leaf_hash])
        if self.on_nodes is not None:
            self.on_nodes(nodes)
        self.report.entries += 1
        entry = self._check_prechecked(position, leaf, checked)
        self.award_trail.feed(position, entry)
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
        entry = checked.entry or (entry_from_parts(leaf, checked.parts) if checked.parts
                                  else entry_from_json(json.loads(leaf), leaf))
        if position == 0:
            self._start(entry)
        if checked.usable:
            self._check_entry(position, entry, checked)
        return entry

    def _check_entry(self, position: int, entry: LogEntry, checked: Precheck) -> None:
        if entry.recorded_at < self.last_recorded_at:
            self.fail(position, "recorded_at", "recorded before the entry it follows")
        self.last_recorded_at = max(self.last_recorded_at, entry.recorded_at)
        if self.keep_subjects:
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
        self._declare_genesis_key(entry.payload.get("checkpoint_key", ""))

    def _note_subject(self, position: int, entry: LogEntry) -> None:
        """Remember which entry may have personal data beside it (checked against the database)."""
        if entry.type == "worker.enrolled":
            self.subjects[f"worker:{entry.payload.get('worker')}"] = position
        elif entry.type == "claim.filed":
            self.subjects[f"heir:{entry.payload.get('claim')}"] = position

    def _check_signature(self, position: int, entry: LogEntry, checked: Precheck) -> None:
        try:
            public = self._signing_key(position, entry)
            batch_key = (entry.key_id, entry.batch["root"], entry.signature) if entry.batch is not None \
                and checked.signed_error is None and isinstance(entry.signature, str) else None
            if batch_key in self.verified_batches:  # decoded and checked on an earlier line of its batch
                return
            signature = signing.b64decode(entry.signature, "signature", signing.SIGNATURE_BYTES)
            if checked.signed_error is not None:
                raise BadSignature(checked.signed_error, field="batch")
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

    def finish(self) -> Report:
        """Close the last submission and return the report."""
        self._close_submission(None)
        self._finish_kept(self.report.entries)
        total = sum(self.balances.values())
        if total != 0:
            self.fail(None, "postings", f"trial balance is Rp{total:,}, not zero")
        self.report.root = self.current_root()
        self.report.balances = dict(sorted(self.balances.items()))
        return self.report
