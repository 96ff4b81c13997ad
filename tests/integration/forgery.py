"""What an attacker can build to fool an auditor: entries edited field by field, and a whole
bundle rewritten by an operator who holds the ledger's real checkpoint key."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import merkle, note, signing
from ledger.bundle import FORMAT, FORMAT_2, checkpoint_keys_json, organisations_json
from ledger.bundle_v2 import chunks, lines_of, rebuild_chunk
from ledger.canonical import canonical_bytes
from ledger.client import Signer
from ledger.entry import build_entry
from ledger.verify import Report, Verifier
from tests.integration.support import pledge

# The log of the `log` fixture (tests/integration/conftest.py), entry by entry.
REGISTRATION, SOLO, BATCH_FIRST, BATCH_LINE = 1, 4, 5, 8  # BATCH_LINE is sequence 3 of the batch
KEY_ADDED, REVOCATION, LAST, SIZE = 13, 14, 15, 16
ATTACKER = Ed25519PrivateKey.from_private_bytes(bytes([7]) * 32)


def failures(report: Report) -> set[tuple[int | None, str]]:
    """(entry index, check) of each failure verify reported."""
    return {(failure.index, failure.check) for failure in report.failures}


def explain(report: Report) -> list[str]:
    """The failures as verify prints them."""
    return [str(failure) for failure in report.failures]


def assert_named(report: Report, expected: set) -> None:
    """Verification failed, with at least the expected (entry, check) failures, and no entry
    before the first tampered one is blamed."""
    assert not report.ok
    assert expected <= failures(report), explain(report)
    named = [index for index, _ in expected if index is not None]
    if named:
        assert min(failure.index for failure in report.failures if failure.index is not None) == min(named), \
            "\n".join(explain(report))


def never_logged_leaf(signer: Signer, index: int) -> bytes:
    """A pledge the company really signed but the ledger never accepted, as entry `index`."""
    document = pledge(signer, "never-logged", "never-logged", 900_000_000)
    [envelope] = document["envelopes"]
    return build_entry(index, "2099-01-01T00:00:00.000001Z", envelope, canonical_bytes(envelope),
                       document["signature"], None).leaf


def refresh_digests(bundle: Path) -> None:
    """What an attacker does after editing files: make the (unsigned) manifest's digests match."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["sha256"] = {name: hashlib.sha256((bundle / name).read_bytes()).hexdigest() for name in manifest["sha256"]}
    (bundle / "manifest.json").write_text(json.dumps(manifest))


def set_in(value: dict, path: Sequence, change: Callable[[object], object]) -> None:
    """Replace value[path[0]][path[1]]... by change(old value)."""
    *parents, last = path
    for name in parents:
        value = value[name]
    value[last] = change(value[last])


def is_format_2(bundle: Path) -> bool:
    """Whether the bundle's manifest says format 2 (tests/integration/conftest.py exports both)."""
    manifest = bundle / "manifest.json"
    return manifest.is_file() and json.loads(manifest.read_text()).get("format") == FORMAT_2


def entries_of(bundle: Path) -> list[dict]:
    """The entry objects of a bundle, in order (in format 2, as the verifier rebuilds them)."""
    with (bundle / "entries.jsonl").open("rb") as handle:
        if is_format_2(bundle):
            return [json.loads(entry.leaf) for start, groups in chunks(handle)
                    for entry in rebuild_chunk(start, groups)[0]]
        return [json.loads(line)["entry"] for line in handle]


def write_entries(bundle: Path, entries: Sequence[dict], reindex: bool = False) -> None:
    """Write entry objects as entries.jsonl lines (renumbering their `index` if asked), in the
    bundle's format: in format 2, a submission is written as its record and envelope lines when
    that rebuilds its entries as they are now, else entry by entry (ledger/bundle_v2.py)."""
    leaves = [canonical_bytes({**entry, "index": position} if reindex else entry, check=False)
              for position, entry in enumerate(entries)]
    if is_format_2(bundle):
        lines = list(lines_of(enumerate(leaves)))
    else:
        lines = [b'{"entry":' + leaf + b',"index":' + str(position).encode() + b"}\n"
                 for position, leaf in enumerate(leaves)]
    (bundle / "entries.jsonl").write_bytes(b"".join(lines))


def publish_rewritten(bundle: Path, entries: Sequence[dict], checkpoint_sizes: Sequence[int],
                      checkpoint_key: Ed25519PrivateKey, origin: str) -> None:
    """Everything an operator with the real checkpoint key can publish for a rewritten history:
    entries renumbered, a new tree, checkpoints signed afresh with consistency proofs between
    them, organisations.json replayed and a manifest that matches."""
    bundle.mkdir(parents=True, exist_ok=True)
    write_entries(bundle, entries, reindex=True)
    leaves = [canonical_bytes({**entry, "index": position}, check=False) for position, entry in enumerate(entries)]
    store: dict[int, bytes] = {}
    store.update(merkle.append_nodes([], 0, [merkle.leaf_hash(leaf) for leaf in leaves]))
    read = lambda keys: {key: store[key] for key in keys}  # noqa: E731
    rows, previous = [], None
    for size in [size for size in checkpoint_sizes if size <= len(leaves)]:
        root = merkle.root_from_store(size, read)
        proof = merkle.consistency_proof(previous, size, read) if previous else []
        rows.append({"tree_size": size, "root": signing.b64encode(root), "signed_at": "2025-06-01T00:00:00+00:00",
                     "note": note.sign_note(note.checkpoint_body(origin, size, root), origin, checkpoint_key),
                     "consistency_proof": [signing.b64encode(node) for node in proof]})
        previous = size
    (bundle / "checkpoints.jsonl").write_text("".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))
    verifier = Verifier()
    for position, leaf in enumerate(leaves[:previous]):
        verifier.feed(position, leaf)
    verifier.finish()
    (bundle / "organisations.json").write_text(json.dumps(organisations_json(verifier), indent=1) + "\n")
    write_entries(bundle, entries[:previous], reindex=True)
    write_manifest(bundle, origin, previous, rows[-1]["root"], verifier)


def write_manifest(bundle: Path, origin: str, size: int, root: str, replayed: Verifier) -> None:
    """A manifest that agrees with the files as they are now."""
    digests = {name: hashlib.sha256((bundle / name).read_bytes()).hexdigest()
               for name in ("entries.jsonl", "checkpoints.jsonl", "organisations.json")}
    keys = checkpoint_keys_json(replayed)
    (bundle / "manifest.json").write_text(json.dumps({
        "format": FORMAT, "origin": origin, "tree_size": size, "root": root, "checkpoint_key": keys[-1]["verifier_key"],
        "checkpoint_keys": keys, "exported_at": "2025-06-01T00:00:00+00:00", "sha256": digests}, indent=1) + "\n")
