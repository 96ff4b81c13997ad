"""The Ledger application: signed submissions in, immutable events and a verifiable log out."""

from __future__ import annotations

import logging
import random
import time
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.application import AggregateNotFoundError, Application
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from ledger import (
    authorisation, log_store, merkle, note, personal, personal_rules, personal_store, signing, snapshots,
)
from ledger.config import Settings
from ledger.cache import AggregateCache
from ledger.loading import AggregateLoader
from ledger.checkpoint_keys import ROTATION_TYPE, Keyring, verifier_key_of
from ledger.decision import Decision
from ledger.entry import LogEntry, parse_entry, parse_stored_entry
from ledger.errors import (
    BadSignature, ConfigurationError, IdempotencyConflict, LedgerError, LedgerNotInitialised,
    LogBusy, NotPermitted, ProofError,
)
from ledger.log_store import AppendRequest, LogPositionConflict, SubmissionRecord, submission_digest
from ledger.personal_keys import KeyEncryptionKey
from ledger.organisations import GENESIS_TYPE, Organisation, organisation_uuid
from ledger.submission import Submission, check_contents, read_submission
from ledger.write_turn import WriteTurn

from ledger.domain import kernel  # the rules; importing it registers the domain's event types

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 20  # writers take turns (WriteTurn), so a lost race is rare: an append outside the turn
BACKOFF_S = 0.005  # after the n-th lost race, wait up to n times this, so racing writers spread out
MAX_PAGE = 1000
ERASURE_POLL_S = 0.5


class Ledger(Application):
    """Accepts signed submissions atomically and serves the log, checkpoints and proofs."""

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

    def _require_key_in_force(self, checkpoint_key: Ed25519PrivateKey) -> None:
        """Refuse to start with a checkpoint key other than the one in force now."""
        history = self.checkpoint_key_history()
        mine = verifier_key_of(self.origin, checkpoint_key)
        if mine == history[-1].verifier_key:
            return
        retired_by = next((later for earlier, later in zip(history, history[1:])
                           if earlier.verifier_key == mine), None)
        if retired_by is not None:
            raise ConfigurationError(f"the checkpoint key was retired at entry {retired_by.declared_at}; the "
                                     f"key in force is {history[-1].verifier_key}", field="AMANAH_CHECKPOINT_KEY")
        raise ConfigurationError("the checkpoint key does not match the one in force (declared at genesis"
                                 f"{'' if len(history) == 1 else ' or by a rotation'}): "
                                 f"{history[-1].verifier_key}", field="AMANAH_CHECKPOINT_KEY")

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
        self.cache.sync(first_index)
        recorded_at = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        decision = Decision(self.aggregate, self.load_many)
        decision.premium_amounts = self._premium_amounts
        decision.checkpoint_root = self.checkpoint_root
        try:
            return self._decide_and_save(submission, digest, first_index, recorded_at, decision)
        except BaseException:
            self.cache.discard(decision.touched())
            raise

    def _decide_and_save(self, submission: Submission, digest: str, first_index: int, recorded_at: str,
                         decision: Decision) -> dict:
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
            snapshots.take(decision.touched(), events, self.settings.snapshot_every),
            self._checkpoint_signer(checkpoint_key), self.settings.checkpoint_every_entries,
            self.settings.checkpoint_every_seconds))
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

    def _check_genesis_checkpoint_key(self, submission: Submission) -> None:
        """Genesis must declare the checkpoint key this server signs with, if it signs."""
        if self.checkpoint_key is None or submission.envelopes[0]["type"] != GENESIS_TYPE:
            return
        declared = submission.envelopes[0]["payload"]["checkpoint_key"]
        if declared != note.verifier_key(self.origin, signing.public_key_bytes(self.checkpoint_key)):
            raise BadSignature("genesis must declare this server's checkpoint key",
                               field="envelopes[0].payload.checkpoint_key")

    def _seal_personal(self, submission: Submission) -> list[personal.SealedRecord]:
        """Check the personal side-car against the envelopes and the index (ledger/personal_rules.py)
        and seal each record."""
        if not submission.personal:
            return []
        kek = self.personal_keys.matching(self.recorder.read(personal_store.read_kek_id))
        pairs = personal_rules.index_pairs(submission, self.pseudonym_secret)
        if pairs:
            stored = self.recorder.read(lambda c, d: personal_store.select_index_rows(
                c, d, [digest for digest, _ in pairs.values()], [worker for _, worker in pairs.values()]))
            personal_rules.check_index(pairs, stored)
        subjects = personal_rules.subjects(submission)
        return [personal.seal(subjects[sequence], record, kek, pairs.get(sequence))
                for sequence, record in sorted(submission.personal.items())]

    def worker_reference_for(self, nik: str) -> str | None:
        """The worker reference the index holds for a NIK (for BPJS tooling: a person enrolled
        before keeps their reference), or None if the NIK was never enrolled or was erased."""
        if self.pseudonym_secret is None:
            raise ConfigurationError("no pseudonym secret is configured to look NIKs up",
                                     field="AMANAH_PSEUDONYM_SECRET")
        digest = personal.nik_digest(self.pseudonym_secret, nik)
        return self.recorder.read(lambda c, d: personal_store.find_indexed_worker(c, d, digest))

    def personal_data(self, subject: str) -> dict | None:
        """Decrypted personal fields of 'worker:<ref>' or 'heir:<claim>', or None once erased."""
        stored, kek_id = self.recorder.read(lambda c, d: (personal_store.read_personal(c, d, subject),
                                                           personal_store.read_kek_id(c, d)))
        if stored is None:
            return None
        return personal.unseal(subject, *stored, self.personal_keys.matching(kek_id))

    def forget(self, subject: str, wait_seconds: float = 0.0) -> personal.Erasure:
        """Carry out an erasure request: destroy the subject's wrapped key, ciphertext and index
        row, then scrub the database files; waits up to `wait_seconds` for older snapshots (which
        keep copies of deleted rows on PostgreSQL) to end, and says whether the scrub is done."""
        erased, horizon = self.recorder.erase(lambda c, d: personal_store.erase_personal(c, d, subject))
        deadline = time.monotonic() + wait_seconds
        holders = self.recorder.scrub(horizon)
        while holders and time.monotonic() < deadline:
            time.sleep(min(ERASURE_POLL_S, max(0.0, deadline - time.monotonic())))
            holders = self.recorder.scrub(horizon)
        return personal.Erasure(subject, erased, tuple(holders))

    def _checkpoint_key_after(self, submission: Submission, decision: Decision) -> Ed25519PrivateKey | None:
        """The checkpoint key in force once this submission is stored (a rotation in it takes
        effect at once), if this process signs checkpoints."""
        registrar_id = self.registrar_id() or submission.actor
        registrar = decision.get(Organisation, organisation_uuid(registrar_id))
        record = registrar.checkpoint_keys[-1]
        rotates = any(envelope["type"] == ROTATION_TYPE for envelope in submission.envelopes)
        if rotates and record.verifier_key not in self.keyring.keys:
            raise NotPermitted("this server does not hold the new checkpoint key, so it could not sign the "
                               "checkpoints after the rotation: rotate with `amanah checkpoint-key rotate`",
                               field="envelopes[0].payload.checkpoint_key")
        if self.checkpoint_key is None:
            return None
        return self.keyring.key_for(record)

    def registrar_id(self) -> str | None:
        """The registrar's organisation id (genesis's signer), or None before genesis."""
        genesis = self.genesis() if self._registrar is None else None
        if genesis is not None:
            self._registrar = genesis.actor
        return self._registrar

    def hold_checkpoint_key(self, private_key: Ed25519PrivateKey) -> str:
        """Make a new checkpoint key available to sign from its rotation on; returns its verifier key."""
        return self.keyring.hold(private_key)

    def checkpoint_key_history(self) -> tuple:
        """Every checkpoint key the log declared (CheckpointKeyRecord), oldest first."""
        registrar_id = self.registrar_id()
        registrar = self.organisation(registrar_id) if registrar_id else None
        return registrar.checkpoint_keys if registrar is not None else ()

    def current_checkpoint_key(self) -> Ed25519PrivateKey | None:
        """The private checkpoint key in force now (reloaded if another process rotated it), or
        None when this process does not sign."""
        history = self.checkpoint_key_history()
        if self.checkpoint_key is not None and history:
            self.checkpoint_key = self.keyring.key_for(history[-1])
        return self.checkpoint_key

    def _checkpoint_signer(self, key: Ed25519PrivateKey | None):
        if key is None:
            return None
        origin = self.origin

        def sign(size: int, root: bytes) -> str:
            return note.sign_note(note.checkpoint_body(origin, size, root), origin, key)

        return sign

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

    def sign_checkpoint(self) -> dict:
        """Sign a checkpoint at the current size now (for the every-N-seconds policy)."""
        if self.checkpoint_key is None:
            raise ConfigurationError("no checkpoint key loaded", field="AMANAH_CHECKPOINT_KEY")
        for _ in range(MAX_ATTEMPTS):
            seen = self.size()
            signer = self._checkpoint_signer(self.current_checkpoint_key())  # the key in force at `seen`
            if self.recorder.write(lambda cursor, dialect: _sign_at(cursor, dialect, seen, signer)):
                break
        return self.latest_checkpoint()

    # ---- reading ------------------------------------------------------------------------

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
            size, lambda keys: log_store.read_nodes(c, d, keys)))

    def inclusion_proof(self, index: int, size: int) -> dict:
        """Audit path of entry `index` in the tree of `size` entries."""
        current = self.size()
        if not 0 < size <= current:
            raise ProofError(f"size must be 1..{current}", field="size")
        if not 0 <= index < size:
            raise ProofError(f"index must be 0..{size - 1}", field="index")

        def query(cursor: Any, dialect: Any) -> dict:
            read = lambda keys: log_store.read_nodes(cursor, dialect, keys)  # noqa: E731
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
            read = lambda keys: log_store.read_nodes(cursor, dialect, keys)  # noqa: E731
            return {"first": first, "second": second,
                    "first_root": signing.b64encode(merkle.root_from_store(first, read)),
                    "second_root": signing.b64encode(merkle.root_from_store(second, read)),
                    "proof": [signing.b64encode(h) for h in merkle.consistency_proof(first, second, read)]}

        return self.recorder.read(query)

    def _premium_amounts(self, start: int, stop: int) -> list[int]:
        """The amounts of the premium lines stored at [start, stop), in order (for attribution)."""
        rows = self.recorder.read(lambda c, d: log_store.select_entries(c, d, start, stop))
        return [parse_stored_entry(leaf).payload["amount_rupiah"] for _, leaf in rows]

    def checkpoint_root(self, size: int) -> str | None:
        """The base64 root of the signed checkpoint of exactly `size` entries, or None."""
        found = self.checkpoints(size, 1)
        return found[0]["root"] if found and found[0]["tree_size"] == size else None

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


def _sign_at(cursor: Any, dialect: Any, seen: int, signer) -> bool:
    """Sign a checkpoint at `seen` unless there is one; False if the log grew meanwhile (a
    rotation may have changed the key: try again)."""
    size = log_store.log_size(cursor, dialect)
    if size != seen:
        return False
    latest = log_store.latest_checkpoint(cursor, dialect)
    if size and (latest is None or latest["tree_size"] < size):
        root = merkle.root_from_store(size, lambda keys: log_store.read_nodes(cursor, dialect, keys))
        log_store.store_checkpoint(cursor, dialect, size, root, signer(size, root))
    return True


def _checkpoint_json(row: dict) -> dict:
    return {"tree_size": row["tree_size"], "root": signing.b64encode(row["root"]),
            "note": row["note"], "signed_at": row["signed_at"]}
