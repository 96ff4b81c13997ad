"""docs/verifying.md's worked example, recomputed from the document's rules alone (hashlib,
cryptography, rfc8785: no ledger code), must appear in the document exactly."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

DOC = (Path(__file__).resolve().parents[2] / "docs" / "verifying.md").read_text()
ORIGIN = "amanah.example/ledger"


def raw(public) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_the_worked_example_is_what_the_rules_produce():
    key = Ed25519PrivateKey.from_private_bytes(b"\x01" * 32)
    public = raw(key.public_key())
    key_id = hashlib.sha256(public).digest()[:16].hex()
    envelopes = [{"ledger": ORIGIN, "type": "pledge.made", "actor": "pt-contoh", "key_id": key_id,
                  "idempotency_key": "pledges-2025-01", "sequence": number, "occurred_at": "2025-01-06T09:00:00Z",
                  "payload": {"programme": "sertakan-jakut-2025", "pledge": f"pl-{number + 1}",
                              "amount_rupiah": amount, "fund_type": "infak"}}
                 for number, amount in ((0, 50_000_000), (1, 25_000_000))]
    encoded = [rfc8785.dumps(envelope) for envelope in envelopes]
    leaves = [hashlib.sha256(b"\x00" + data).digest() for data in encoded]
    head = hashlib.sha256(b"\x01" + leaves[0] + leaves[1]).digest()
    signature = key.sign(head)
    entry = {"batch": {"path": [b64(leaves[1])], "root": b64(head), "size": 2}, "envelope": envelopes[0],
             "index": 7, "recorded_at": "2025-01-06T09:00:01.250000Z", "signature": b64(signature)}
    leaf = rfc8785.dumps(entry)
    for value in (b64(public), key_id, encoded[0].decode(), leaves[0].hex(), leaves[1].hex(), head.hex(), b64(head),
                  b64(signature), leaf.decode(), hashlib.sha256(b"\x00" + leaf).hexdigest()):
        assert value in DOC, value


def test_the_worked_format_2_lines_rebuild_the_worked_leaves():
    """The format-2 lines in the document, rebuilt by the document's rules alone, give the
    entries' exact leaf bytes; the ledger's own reader rebuilds the same bytes from them."""
    key = Ed25519PrivateKey.from_private_bytes(b"\x01" * 32)
    key_id = hashlib.sha256(raw(key.public_key())).digest()[:16].hex()
    shared = {"actor": "pt-contoh", "idempotency_key": "pledges-2025-01", "key_id": key_id, "ledger": ORIGIN}
    own = [{"occurred_at": "2025-01-06T09:00:00Z", "sequence": number, "type": "pledge.made",
            "payload": {"programme": "sertakan-jakut-2025", "pledge": f"pl-{number + 1}", "amount_rupiah": amount,
                        "fund_type": "infak"}} for number, amount in ((0, 50_000_000), (1, 25_000_000))]
    envelopes = [rfc8785.dumps({**shared, **members}) for members in own]
    leaves = [hashlib.sha256(b"\x00" + data).digest() for data in envelopes]
    head = hashlib.sha256(b"\x01" + leaves[0] + leaves[1]).digest()
    signature = b64(key.sign(head))
    record = {"submission": {"batch": {"root": b64(head), "size": 2}, "envelope": shared,
                             "recorded_at": "2025-01-06T09:00:01.250000Z", "signature": signature}}
    lines = [rfc8785.dumps(record)] + [rfc8785.dumps({"envelope": members, "index": 7 + number})
                                        for number, members in enumerate(own)]
    for line in lines:
        assert line.decode() in DOC, line
    rebuilt = [rfc8785.dumps({"batch": {"path": [b64(leaves[1 - number])], "root": b64(head), "size": 2},
                              "envelope": {**shared, **members}, "index": 7 + number,
                              "recorded_at": "2025-01-06T09:00:01.250000Z", "signature": signature})
               for number, members in enumerate(own)]
    assert rebuilt[0].decode() in DOC  # entry 7's leaf, as format 1 shows it
    assert b64(leaves[0]) in DOC and hashlib.sha256(b"\x00" + rebuilt[1]).hexdigest() in DOC
    from ledger.bundle_v2 import chunks, rebuild_chunk  # the verifier's reader agrees
    [(start, groups)] = list(chunks([line + b"\n" for line in lines]))
    entries, leftover = rebuild_chunk(7, groups)
    assert [entry.leaf for entry in entries] == rebuilt and not leftover
    assert not any(entry.failures for entry in entries)


def test_the_worked_checkpoint_is_a_valid_signed_note():
    key = Ed25519PrivateKey.from_private_bytes(b"\x02" * 32)
    public = raw(key.public_key())
    key_id = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public).digest()[:4]
    body = f"{ORIGIN}\n8\n{b64(bytes(31) + bytes([42]))}\n"
    note = body + "\n\u2014 " + ORIGIN + " " + b64(key_id + key.sign(body.encode())) + "\n"
    assert note in DOC
    typed_key = b64(bytes([1]) + public)
    assert f"{ORIGIN}+{key_id.hex()}+{typed_key}" in DOC
