"""Building signed submissions, as a client does (the CLI, the demo and the tests use this)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import merkle, signing
from ledger.canonical import canonical_bytes


@dataclass(frozen=True)
class Signer:
    """An organisation's identity as a client: which ledger, who, and with which key."""

    origin: str
    actor: str
    private_key: Ed25519PrivateKey

    @property
    def key_id(self) -> str:
        return signing.key_id(signing.public_key_bytes(self.private_key))

    def envelope(self, sequence: int, idempotency_key: str, event_type: str, occurred_at: str,
                 payload: dict) -> dict:
        """One envelope (see docs/verifying.md)."""
        return {"ledger": self.origin, "type": event_type, "actor": self.actor,
                "key_id": self.key_id, "idempotency_key": idempotency_key,
                "sequence": sequence, "occurred_at": occurred_at, "payload": payload}

    def submission(self, idempotency_key: str, events: Sequence[tuple[str, str, dict]]) -> dict:
        """Sign (type, occurred_at, payload) events as one submission: the envelope's bytes
        when there is one, the RFC 6962 root of the envelopes' bytes when there are more."""
        envelopes = [self.envelope(position, idempotency_key, event_type, occurred_at, payload)
                     for position, (event_type, occurred_at, payload) in enumerate(events)]
        encoded = [canonical_bytes(envelope) for envelope in envelopes]
        if len(encoded) == 1:
            message = encoded[0]
        else:
            message = merkle.root_of([merkle.leaf_hash(data) for data in encoded])
        signature = signing.b64encode(signing.sign(self.private_key, message))
        return {"envelopes": envelopes, "signature": signature}

    def one(self, idempotency_key: str, event_type: str, occurred_at: str, payload: dict) -> dict:
        """A submission of a single event."""
        return self.submission(idempotency_key, [(event_type, occurred_at, payload)])


def public_key_b64(private_key: Ed25519PrivateKey) -> str:
    """Base64 of the raw public key, as payloads carry it."""
    return signing.b64encode(signing.public_key_bytes(private_key))
