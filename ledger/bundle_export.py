"""Writing a bundle (the formats are in ledger/bundle.py's docstring): the entries, the signed
checkpoints, the cosignatures and the organisations as replayed by the verifier's own code."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger import merkle, signing
from ledger.bundle_v2 import FORMAT_2, entry_line, lines_of
from ledger.checkpoint_keys import history_json
from ledger.errors import InvalidInput
from ledger.organisations import CheckpointKeyRecord, Organisation
from ledger.verify import Verifier
from ledger.witness_table import cosigned_history_jsonl

FORMAT = "amanah-bundle/1"
FORMATS = {1: FORMAT, 2: FORMAT_2}
PAGE = 1000
Progress = Callable[[int, int], None]


def no_progress(done: int, total: int) -> None:
    """The progress callback of a caller that shows none."""
    return None


def export_bundle(ledger: Any, directory: Path, progress: Progress = no_progress, bundle_format: int = 2) -> dict:
    """Write the whole log as a bundle (format 2 unless `bundle_format` is 1, for verifiers that
    read only format 1); refuses to write into a non-empty directory."""
    if bundle_format not in FORMATS:
        raise InvalidInput(f"bundle format is 1 or 2, not {bundle_format!r}", field="format")
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise InvalidInput(f"{directory} is not empty", field="directory")
    directory.mkdir(parents=True, exist_ok=True)
    checkpoints = ledger.checkpoints(0, 10**9)
    size = checkpoints[-1]["tree_size"] if checkpoints else 0  # export what a checkpoint covers
    digests = {"entries.jsonl": _write_entries(ledger, directory / "entries.jsonl", size, progress, bundle_format)}
    digests["checkpoints.jsonl"] = _write_checkpoints(ledger, directory / "checkpoints.jsonl", checkpoints)
    digests["cosignatures.jsonl"] = _write(directory / "cosignatures.jsonl", cosigned_history_jsonl(ledger, checkpoints))
    replayed = _replay(ledger, size)
    digests["organisations.json"] = _write(directory / "organisations.json",
                                           json.dumps(organisations_json(replayed), indent=1).encode() + b"\n")
    keys = checkpoint_keys_json(replayed)
    manifest = {"format": FORMATS[bundle_format], "origin": ledger.origin, "tree_size": size,
                "root": checkpoints[-1]["root"] if checkpoints else signing.b64encode(merkle.EMPTY_ROOT),
                "checkpoint_key": keys[-1]["verifier_key"] if keys else None, "checkpoint_keys": keys,
                "exported_at": datetime.now(UTC).isoformat(), "sha256": digests}
    _write(directory / "manifest.json", json.dumps(manifest, indent=1).encode() + b"\n")
    return manifest


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def _write_entries(ledger: Any, path: Path, size: int, progress: Progress, bundle_format: int) -> str:
    digest = hashlib.sha256()
    leaves = _leaves(ledger, size, progress)
    with path.open("wb") as handle:
        for line in lines_of(leaves) if bundle_format == 2 else (entry_line(index, leaf) for index, leaf in leaves):
            digest.update(line)
            handle.write(line)
    return digest.hexdigest()


def _leaves(ledger: Any, size: int, progress: Progress):
    for start in range(0, size, PAGE):
        yield from ledger.entries(start, min(PAGE, size - start))
        progress(min(start + PAGE, size), size)


def _write_checkpoints(ledger: Any, path: Path, checkpoints: list[dict]) -> str:
    lines = []
    previous = None
    for checkpoint in checkpoints:
        proof = []
        if previous is not None:
            proof = ledger.consistency_proof(previous, checkpoint["tree_size"])["proof"]
        lines.append(json.dumps({**checkpoint, "consistency_proof": proof}, sort_keys=True).encode())
        previous = checkpoint["tree_size"]
    return _write(path, b"".join(line + b"\n" for line in lines))


def _replay(ledger: Any, size: int) -> Verifier:
    """The log up to `size` replayed by the verifier's own code (organisations, keys)."""
    verifier = Verifier()
    verifier.checkpoint_root = ledger.checkpoint_root  # the exporter trusts its own checkpoints
    for start in range(0, size, PAGE):
        for index, leaf in ledger.entries(start, min(PAGE, size - start)):
            verifier.feed(index, leaf)
    verifier.finish()  # commits the last submission's changes
    return verifier


def checkpoint_keys_json(verifier: Verifier) -> list[dict]:
    """The checkpoint keys a verifier replayed, each with the tree sizes it signs."""
    return history_json([CheckpointKeyRecord(verifier_key, declared_at)
                         for declared_at, verifier_key, _ in verifier.checkpoint_keys])


def organisations_json(verifier: Verifier) -> list[dict]:
    """The organisations a verifier replayed, as plain JSON."""
    result = []
    for aggregate in verifier.aggregates.values():
        if isinstance(aggregate, Organisation):
            result.append({
                "organisation": aggregate.organisation_id, "legal_name": aggregate.legal_name,
                "kind": aggregate.kind, "registered_at": aggregate.registered_at,
                "keys": [{"key_id": key.key_id, "public_key": signing.b64encode(key.public_key),
                          "valid_from": key.valid_from, "revoked_at": key.revoked_at,
                          "revocation_reason": key.revocation_reason}
                         for key in aggregate.keys.values()],
            })
    return sorted(result, key=lambda item: item["organisation"])
