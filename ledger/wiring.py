"""The one wiring root: every entry point (the API's services, the command line, the demo, the
benchmarks and the tests) opens its ledger, or creates one with its organisations, here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import note, personal, personal_keys, signing
from ledger.application import Ledger
from ledger.client import Signer, public_key_b64
from ledger.config import Settings


@dataclass(frozen=True)
class Organisation:
    """An organisation the registrar registers when the ledger is created, with its first key."""

    organisation: str
    legal_name: str
    kind: str
    public_key: str  # base64 of the raw Ed25519 public key


def open_ledger(settings: Settings, *, signing_checkpoints: bool = True) -> Ledger:
    """The configured ledger; it holds the checkpoint key (read from its file) if it signs checkpoints."""
    checkpoint_key = None
    if signing_checkpoints and settings.checkpoint_key_path.exists():
        checkpoint_key = signing.read_private_key(settings.checkpoint_key_path, settings.checkpoint_key_passphrase)
    return Ledger(settings, checkpoint_key, personal.read_secret(settings.pseudonym_secret_path))


def prepare_files(settings: Settings, *, plain_checkpoint_key: bool = False) -> Ed25519PrivateKey:
    """Write what a new ledger keeps beside its database, each unless it exists: the pseudonym
    secret, the key-encryption key of personal data and the checkpoint key (encrypted with
    AMANAH_CHECKPOINT_KEY_PASSPHRASE unless `plain_checkpoint_key`); returns the checkpoint key."""
    personal.create_secret(settings.pseudonym_secret_path)
    personal_keys.create_kek(settings.personal_kek_path)
    passphrase = None if plain_checkpoint_key else settings.checkpoint_key_passphrase
    if not settings.checkpoint_key_path.exists():
        signing.write_private_key(signing.generate(), settings.checkpoint_key_path, passphrase)
    return signing.read_private_key(settings.checkpoint_key_path, passphrase)


def genesis(settings: Settings, registrar: Signer, legal_name: str, checkpoint_key: Ed25519PrivateKey,
            created_at: str) -> dict:
    """The signed genesis submission: the registrar and the checkpoint key the log is signed with."""
    return registrar.one("genesis", "ledger.created", created_at, {
        "organisation": registrar.actor, "legal_name": legal_name,
        "public_key": public_key_b64(registrar.private_key),
        "checkpoint_key": note.verifier_key(settings.origin, signing.public_key_bytes(checkpoint_key)),
    })


def registration(registrar: Signer, organisation: Organisation, registered_at: str) -> dict:
    """The registrar's signed submission registering `organisation` with its first key."""
    return registrar.one(f"register-{organisation.organisation}", "organisation.registered", registered_at, {
        "organisation": organisation.organisation, "legal_name": organisation.legal_name,
        "kind": organisation.kind, "public_key": organisation.public_key})


def create_ledger(settings: Settings, checkpoint_key: Ed25519PrivateKey, registrar: Signer, legal_name: str,
                  organisations: Sequence[Organisation] = (), *, created_at: str,
                  registered_at: str | None = None) -> tuple[Ledger, list[dict]]:
    """A new ledger in an empty database: genesis, then one registration per organisation, in
    order; returns the ledger and the result of each submission (genesis first)."""
    ledger = Ledger(settings, checkpoint_key, personal.read_secret(settings.pseudonym_secret_path))
    results = [ledger.submit(genesis(settings, registrar, legal_name, checkpoint_key, created_at))]
    for organisation in organisations:
        results.append(ledger.submit(registration(registrar, organisation, registered_at or created_at)))
    return ledger, results
