"""An in-memory ledger for rule tests: given events, when a command, then events or a refusal.

`KernelLedger.submit` runs what `Ledger.submit` runs before storage (the same parsing, signature
and authorisation, `ledger.domain.kernel.decide` and the personal side-car's rules) and keeps
the entries, events and personal records in memory instead of a database. Aggregates are
rebuilt from their events for every submission, as the writer's repository does, so a refused
submission leaves nothing behind. Storage paths (sealing, erasure, checkpoints, crash safety)
are tested end to end on SQLite and PostgreSQL instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.application import AggregateNotFoundError

from ledger import authorisation, merkle, personal, personal_rules, signing
from ledger.bundle import Report
from ledger.client import Signer
from ledger.config import Settings
from ledger.decision import Decision
from ledger.log_store import submission_digest
from ledger.domain import kernel
from ledger.errors import IdempotencyConflict, LedgerNotInitialised
from ledger.organisations import GENESIS_TYPE, Organisation, organisation_uuid
from ledger.submission import check_contents, read_submission
from ledger.verify import Verifier
from tests.conftest import World, genesis_submission


class KernelLedger:
    """The writer's rules over a log held in memory."""

    def __init__(self, origin: str, pseudonym_secret: bytes):
        self.origin = origin
        self.pseudonym_secret = pseudonym_secret
        self.log: list = []  # LogEntry, by index
        self.events: dict[UUID, list] = {}  # aggregate id -> its domain events, in order
        self.submissions: dict[tuple[str, str], tuple[str, int, int]] = {}  # -> (digest, first, count)
        self.personal: dict[str, dict] = {}  # subject -> record
        self.index: dict[str, str] = {}  # NIK digest -> worker reference
        self.repository = self  # tests read aggregates as from the application's repository

    def submit(self, document: object) -> dict:
        """Check and apply one signed submission, all or nothing; a replay returns the original."""
        submission = read_submission(document, self.origin, self._public_key_of)
        digest = submission_digest([*submission.envelope_bytes, submission.signature])
        stored = self.submissions.get((submission.actor, submission.idempotency_key))
        if stored is not None:
            return self._replay(submission, digest, stored)
        submission = check_contents(submission, document)
        decision = Decision(self.aggregate)
        decision.premium_amounts = self._premium_amounts
        decision.checkpoint_root = lambda size: None  # no checkpoints are signed in memory
        recorded_at = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        entries = kernel.decide(decision, submission, len(self.log), recorded_at)
        records = self._checked_personal(submission)
        for event in decision.pending_events():
            self.events.setdefault(event.originator_id, []).append(event)
        self.log.extend(entries)
        self.personal.update(records)
        self.submissions[(submission.actor, submission.idempotency_key)] = (digest, entries[0].index, len(entries))
        return _result(submission.actor, submission.idempotency_key, entries[0].index, len(entries), False)

    def _public_key_of(self, actor: str, key_id: str, first_type: str) -> bytes | None:
        if not self.log:
            if first_type == GENESIS_TYPE:
                return None
            raise LedgerNotInitialised("the ledger has no genesis entry yet; run `amanah init`")
        return authorisation.registered_key(self.aggregate(organisation_uuid(actor)), actor, key_id,
                                            "envelopes[0].").public_key

    def _replay(self, submission, digest: str, stored: tuple[str, int, int]) -> dict:
        if stored[0] != digest:
            raise IdempotencyConflict(
                f"idempotency key {submission.idempotency_key!r} of {submission.actor} was used for a different "
                f"submission (entries {stored[1]}..{stored[1] + stored[2] - 1}); choose a new key",
                field="envelopes[0].idempotency_key")
        return _result(submission.actor, submission.idempotency_key, stored[1], stored[2], True)

    def _checked_personal(self, submission) -> dict[str, dict]:
        """The side-car's records by subject, refused as the writer refuses them; the index grows."""
        if not submission.personal:
            return {}
        pairs = personal_rules.index_pairs(submission, self.pseudonym_secret)
        digests, workers = {digest for digest, _ in pairs.values()}, {worker for _, worker in pairs.values()}
        personal_rules.check_index(pairs, [(digest, worker) for digest, worker in self.index.items()
                                           if digest in digests or worker in workers])
        subjects = personal_rules.subjects(submission)
        self.index.update(pairs.values())
        return {subjects[sequence]: dict(record) for sequence, record in submission.personal.items()}

    def _premium_amounts(self, start: int, stop: int) -> list[int]:
        return [entry.payload["amount_rupiah"] for entry in self.log[start:stop]]

    # ---- reading, as the application's ----------------------------------------------------

    def aggregate(self, aggregate_id: UUID):
        """An aggregate rebuilt from its events, or None."""
        aggregate = None
        for event in self.events.get(aggregate_id, ()):
            aggregate = event.mutate(aggregate)
        return aggregate

    def get(self, aggregate_id: UUID):
        """As `repository.get`: the aggregate, or AggregateNotFoundError."""
        aggregate = self.aggregate(aggregate_id)
        if aggregate is None:
            raise AggregateNotFoundError(aggregate_id)
        return aggregate

    def organisation(self, organisation_id: str) -> Organisation | None:
        return self.aggregate(organisation_uuid(organisation_id))

    def size(self) -> int:
        return len(self.log)

    def latest_checkpoint(self) -> dict | None:
        """The log's current tree head, unsigned (no checkpoint is signed in memory): what a
        refused submission must leave as it was."""
        if not self.log:
            return None
        root = merkle.root_of([merkle.leaf_hash(entry.leaf) for entry in self.log])
        return {"tree_size": len(self.log), "root": signing.b64encode(root)}

    def entries(self, start: int, limit: int) -> list[tuple[int, bytes]]:
        return [(entry.index, entry.leaf) for entry in self.log[start:start + limit]]

    def personal_data(self, subject: str) -> dict | None:
        return self.personal.get(subject)

    def worker_reference_for(self, nik: str) -> str | None:
        return self.index.get(personal.nik_digest(self.pseudonym_secret, nik))

    def close(self) -> None:
        """Nothing to release: there is no database."""

    def verify(self) -> Report:
        """The offline verifier's report over the entries (there are no checkpoints to check)."""
        verifier = Verifier()
        for entry in self.log:
            verifier.feed(entry.index, entry.leaf)
        return verifier.finish()


def _result(actor: str, idempotency_key: str, first_index: int, count: int, replayed: bool) -> dict:
    return {"actor": actor, "idempotency_key": idempotency_key, "first_index": first_index,
            "last_index": first_index + count - 1, "count": count, "replayed": replayed,
            "checkpoint": None, "checkpoint_includes_entries": False}


@pytest.fixture
def kernel_world(tmp_path: Path) -> Iterator[World]:
    """A `World` (registrar and one company) whose ledger is a KernelLedger: no database."""
    settings = Settings.from_environment({"AMANAH_HOME": str(tmp_path)})
    checkpoint_key = signing.generate()
    ledger = KernelLedger(settings.origin, b"\x07" * personal.SECRET_BYTES)
    registrar = Signer(settings.origin, "registrar", signing.generate())
    ledger.submit(genesis_submission(settings, registrar, checkpoint_key))
    world = World(ledger, settings, checkpoint_key, registrar, registrar)  # type: ignore[arg-type]
    world.company = world.register("pt-maju-bersama", "company")
    yield world
