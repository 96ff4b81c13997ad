"""The Ledger application: signed submissions in, immutable events and a verifiable log out."""

from __future__ import annotations

import logging
import random
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from ledger import authorisation, log_store, snapshots
from ledger.cache import AggregateCache
from ledger.checkpoint_keys import Keyring
from ledger.checkpoint_signing import CheckpointSigning
from ledger.config import Settings
from ledger.decision import Decision
from ledger.errors import IdempotencyConflict, LedgerError, LedgerNotInitialised, LogBusy
from ledger.loading import AggregateLoader
from ledger.log_reading import LogReading
from ledger.log_store import AppendRequest, LogPositionConflict, SubmissionRecord, submission_digest
from ledger.organisations import GENESIS_TYPE, Organisation, organisation_uuid
from ledger.personal_access import PersonalAccess
from ledger.personal_keys import KeyEncryptionKey
from ledger.submission import Submission, check_contents, read_submission
from ledger.write_turn import WriteTurn

from ledger.domain import kernel  # the rules; importing it registers the domain's event types

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 20  # writers take turns (WriteTurn), so a lost race is rare: an append outside the turn
BACKOFF_S = 0.005  # after the n-th lost race, wait up to n times this, so racing writers spread out


class Ledger(LogReading, CheckpointSigning, PersonalAccess, Application):
    """Accepts signed submissions atomically and serves the log, checkpoints and proofs (reading:
    ledger/log_reading.py; the checkpoint key: ledger/checkpoint_signing.py; personal data:
    ledger/personal_access.py)."""

    name = "Amanah"

    def __init__(self, settings: Settings, checkpoint_key: Ed25519PrivateKey | None = None,
                 pseudonym_secret: bytes | None = None):
        self.settings = settings
        env = settings.eventsourcing_env()
        super().__init__(env)
        self.write_turn = WriteTurn(env, settings.lock_timeout_s)
        self.checkpoint_key = checkpoint_key
        self.pseudonym_secret = pseudonym_secret
        self.personal_keys = KeyEncryptionKey(settings.personal_kek_path)
        self.cache = AggregateCache(self.recorder, settings.aggregate_cache)
        self.loader = AggregateLoader(self.recorder, self.mapper, self.cache)
        self._origin: str | None = None
        self._registrar: str | None = None
        self.keyring = Keyring(self.origin, settings.checkpoint_key_path, settings.checkpoint_key_passphrase)
        if checkpoint_key is not None:
            self.keyring.hold(checkpoint_key)
            if self.genesis() is not None:
                self._require_key_in_force(checkpoint_key)

    def close(self) -> None:
        self.write_turn.close()
        super().close()

    # ---- writing ------------------------------------------------------------------------

    def submit(self, document: object) -> dict:
        """Check and store one signed submission, all or nothing; a replay returns the original.

        The signer is authenticated (actor, key, signature) before the idempotency key is looked
        up, so a stranger learns nothing about another actor's keys, and before any payload is
        checked, so a forged batch is refused before its per-line work."""
        submission = read_submission(document, self.origin, self._public_key_of)
        digest = submission_digest([*submission.envelope_bytes, submission.signature])
        replay = self._replay(submission, digest)
        if replay is not None:
            return replay
        submission = check_contents(submission, document)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if attempt > 1 and (replay := self._replay(submission, digest)) is not None:
                return replay
            try:
                with self.write_turn.held():
                    return self._store(submission, digest)
            except (LogPositionConflict, IntegrityError) as error:
                logger.info("retrying submission %s after a concurrent write: %s",
                            submission.idempotency_key, error)
                time.sleep(random.uniform(0, BACKOFF_S * attempt))
            except LedgerError:
                replay = self._replay(submission, digest)  # the same submission, stored meanwhile
                if replay is not None:
                    return replay
                raise
        raise LogBusy(f"other writers appended first {MAX_ATTEMPTS} times; nothing was stored, send "
                      "the same submission again")

    def _public_key_of(self, actor: str, key_id: str, first_type: str) -> bytes | None:
        """The public key of the submission's signer, registered at any time (a retry of a
        stored submission may come after its key was revoked); None for genesis on an empty log,
        whose key is in its payload. Whether the key may sign now is checked when storing."""
        if self.size() == 0:
            if first_type == GENESIS_TYPE:
                return None
            raise LedgerNotInitialised("the ledger has no genesis entry yet; run `amanah init`")
        return authorisation.registered_key(self.organisation(actor), actor, key_id, "envelopes[0].").public_key

    def _replay(self, submission: Submission, digest: str) -> dict | None:
        """The stored result of this very submission, None if its key is unused, or a conflict.
        Only called once the signature is verified: a stranger never reaches the lookup."""
        record = self.recorder.read(lambda c, d: log_store.find_submission(
            c, d, submission.actor, submission.idempotency_key))
        if record is None:
            return None
        if record.digest != digest:
            if self.size() > 0:  # a revoked key learns nothing either
                authorisation.signer_key(self.organisation(submission.actor), submission.actor,
                                         submission.key_id, self.size(), "envelopes[0].")
            raise IdempotencyConflict(
                f"idempotency key {submission.idempotency_key!r} of {submission.actor} was used "
                f"for a different submission (entries {record.first_index}.."
                f"{record.first_index + record.count - 1}); choose a new key",
                field="envelopes[0].idempotency_key")
        return self._result(record, replayed=True)

    def _store(self, submission: Submission, digest: str) -> dict:
        first_index = self.size()
        self.cache.sync(first_index, self.loader.bring_forward)
        recorded_at = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        from_store: dict = {}  # aggregates this submission read from the database: their snapshot's version
        decision = Decision(lambda aggregate_id: self.loader.load_one(aggregate_id, from_store),
                            lambda aggregate_ids: self.loader.load_many(aggregate_ids, from_store))
        decision.premium_amounts = self._premium_amounts
        decision.checkpoint_root = self.checkpoint_root
        try:
            return self._decide_and_save(submission, digest, first_index, recorded_at, decision, from_store)
        except BaseException:
            self.cache.discard(decision.touched())
            raise

    def _decide_and_save(self, submission: Submission, digest: str, first_index: int, recorded_at: str,
                         decision: Decision, from_store: dict) -> dict:
        kernel.decide(decision, submission, first_index, recorded_at)
        self._check_genesis_checkpoint_key(submission)
        checkpoint_key = self._checkpoint_key_after(submission, decision)
        events = decision.pending_events()
        assert [event.entry.index for event in events] == list(
            range(first_index, first_index + len(submission.envelopes))), "one event per entry"
        record = SubmissionRecord(submission.actor, submission.idempotency_key, digest,
                                  first_index, len(events))
        self._put(events, AppendRequest(
            record, recorded_at, self._seal_personal(submission),
            snapshots.take(decision.touched(), from_store, self.settings.snapshot_every),
            self._checkpoint_signer(checkpoint_key), self.settings.checkpoint_every_entries,
            self.settings.checkpoint_every_seconds, envelope_hashes=submission.leaf_hashes))
        self.cache.committed(decision.touched(), first_index + len(events))
        self.checkpoint_key = checkpoint_key or self.checkpoint_key
        return self._result(record, replayed=False)

    def _put(self, events: list[Any], append_request: AppendRequest) -> None:
        """Store the events and their log rows in one transaction. `Application.save` would first
        test each event against a typing Protocol (a slow isinstance) and then do nothing more
        here: this application keeps no repository cache, and its snapshots (ledger/snapshots.py) go
        in the same transaction, in the append request."""
        assert self.snapshots is None and self.repository.cache is None, "Application.save would be needed"
        self.events.put(events, append_request=append_request)

    def _result(self, record: SubmissionRecord, *, replayed: bool) -> dict:
        checkpoint = self.latest_checkpoint()
        last = record.first_index + record.count - 1
        return {
            "actor": record.actor,
            "idempotency_key": record.idempotency_key,
            "first_index": record.first_index,
            "last_index": last,
            "count": record.count,
            "replayed": replayed,
            "checkpoint": checkpoint,
            "checkpoint_includes_entries": bool(checkpoint and checkpoint["tree_size"] > last),
        }

    # ---- aggregates ---------------------------------------------------------------------

    def load_many(self, aggregate_ids: list) -> dict:
        """Aggregates as last committed, from the cache or their snapshots and events (missing
        ones are left out)."""
        return self.loader.load_many(aggregate_ids)

    def aggregate(self, aggregate_id: UUID) -> Any | None:
        """Any aggregate as last committed, or None."""
        return self.loader.load_one(aggregate_id)

    def organisation(self, organisation_id: str) -> Organisation | None:
        """The organisation aggregate, or None."""
        try:
            return self.repository.get(organisation_uuid(organisation_id))
        except AggregateNotFoundError:
            return None
