"""The checkpoint key the ledger signs with: the one in force at genesis or after a rotation."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import log_store, merkle, node_store, note, signing
from ledger.checkpoint_keys import ROTATION_TYPE, verifier_key_of
from ledger.decision import Decision
from ledger.errors import BadSignature, ConfigurationError, NotPermitted
from ledger.organisations import GENESIS_TYPE, Organisation, organisation_uuid
from ledger.submission import Submission

MAX_ATTEMPTS = 20  # a checkpoint at the size read: the log may grow meanwhile, then read it again


class CheckpointSigning:
    """Which checkpoint key signs, and signing checkpoints (mixed into the Ledger)."""

    checkpoint_key: Ed25519PrivateKey | None
    _registrar: str | None

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

    def _check_genesis_checkpoint_key(self, submission: Submission) -> None:
        """Genesis must declare the checkpoint key this server signs with, if it signs."""
        if self.checkpoint_key is None or submission.envelopes[0]["type"] != GENESIS_TYPE:
            return
        declared = submission.envelopes[0]["payload"]["checkpoint_key"]
        if declared != note.verifier_key(self.origin, signing.public_key_bytes(self.checkpoint_key)):
            raise BadSignature("genesis must declare this server's checkpoint key",
                               field="envelopes[0].payload.checkpoint_key")

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


def _sign_at(cursor: Any, dialect: Any, seen: int, signer) -> bool:
    """Sign a checkpoint at `seen` unless there is one; False if the log grew meanwhile (a
    rotation may have changed the key: try again)."""
    size = log_store.log_size(cursor, dialect)
    if size != seen:
        return False
    latest = log_store.latest_checkpoint(cursor, dialect)
    if size and (latest is None or latest["tree_size"] < size):
        root = merkle.root_from_store(size, lambda keys: node_store.read_nodes(cursor, dialect, keys))
        log_store.store_checkpoint(cursor, dialect, size, root, signer(size, root))
    return True
