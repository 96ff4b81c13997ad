"""cosignature/v1 bytes, recomputed here from c2sp.org/tlog-cosignature without ledger.witness's
helpers, and checked against the spec's own example line."""

from __future__ import annotations

import base64
import hashlib
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger import note
from ledger.witness import (
    cosign, cosigned_message, cosigner_key_id, cosigner_verifier_key, find_cosignature, parse_cosigner_key,
)
import pytest

from ledger.errors import InvalidInput

# The checkpoint of the spec's example, and a key derived from a fixed seed (the worked example
# of docs/witnessing.md).
BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
NAME = "witness.example.com/w1"
SEED = hashlib.sha256(b"amanah witness worked example").digest()
TIME = 1679315147
EXPECTED_LINE = ("\u2014 witness.example.com/w1 MkNdtQAAAABkGFDLhDmZ4poP85iYW5mvS5I4htOEyeaNJWcrNtoxFkfsOXV/"
                 "v8JYbeTcndMBFgngBI8mIN0GXAlQPVY/xcN9ilV/Bw==\n")


def _independent_line() -> tuple[str, bytes]:
    private = Ed25519PrivateKey.from_private_bytes(SEED)
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_id = hashlib.sha256(NAME.encode("utf-8") + b"\x0a" + b"\x04" + public).digest()[:4]
    message = b"cosignature/v1\n" + b"time 1679315147\n" + BODY.encode("utf-8")
    signature = private.sign(message)
    blob = key_id + struct.pack(">Q", TIME) + signature
    return "\u2014 " + NAME + " " + base64.b64encode(blob).decode("ascii") + "\n", public


def test_cosignature_line_matches_the_spec_recomputed_independently():
    line, public = _independent_line()
    ours = cosign(BODY, NAME, Ed25519PrivateKey.from_private_bytes(SEED), TIME)
    assert ours == line == EXPECTED_LINE
    assert cosigned_message(BODY, TIME) == b"cosignature/v1\ntime 1679315147\n" + BODY.encode()
    assert cosigner_key_id(NAME, public) == base64.b64decode(line.split(" ")[2])[:4]
    # The vkey: name + hex key ID + base64(0x04 || key), and not the 0x01 of a log key.
    vkey = cosigner_verifier_key(NAME, public)
    encoded = base64.b64encode(b"\x04" + public).decode()
    assert vkey == f"{NAME}+{cosigner_key_id(NAME, public).hex()}+{encoded}"
    assert cosigner_key_id(NAME, public) != note.note_key_id(NAME, public)
    Ed25519PublicKey.from_public_bytes(public).verify(base64.b64decode(line.split(" ")[2])[12:],
                                                      cosigned_message(BODY, TIME))


def test_the_spec_example_line_carries_its_timestamp_after_the_key_id():
    # From c2sp.org/tlog-cosignature: the example cosignature was made at "time 1679315147".
    blob = base64.b64decode("jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZ"
                            "qhf5nNo0xUe+mbIUBkBIfZ+qnA==")
    assert len(blob) == 4 + 8 + 64
    assert struct.unpack(">Q", blob[4:12])[0] == TIME


def test_a_cosignature_is_found_only_with_its_own_key_and_body():
    private = Ed25519PrivateKey.from_private_bytes(SEED)
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    vkey = cosigner_verifier_key(NAME, public)
    note_text = BODY + "\n" + cosign(BODY, NAME, private, TIME)
    found = find_cosignature(note.parse_checkpoint(note_text), vkey)
    assert found is not None and found.timestamp == TIME
    other_root = BODY.replace("CsUY", "DsUY")
    assert find_cosignature(note.parse_checkpoint(other_root + "\n" + cosign(BODY, NAME, private, TIME)), vkey) is None
    stranger = cosigner_verifier_key(NAME, Ed25519PrivateKey.generate().public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw))
    assert find_cosignature(note.parse_checkpoint(note_text), stranger) is None


def test_a_log_key_is_not_accepted_as_a_witness_key():
    public = Ed25519PrivateKey.from_private_bytes(SEED).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    with pytest.raises(InvalidInput, match="0x04"):
        parse_cosigner_key(note.verifier_key(NAME, public))
    assert parse_cosigner_key(cosigner_verifier_key(NAME, public)) == (NAME, public)


def test_the_worked_example_in_the_docs_is_this_one():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "witnessing.md").read_text()
    line, public = _independent_line()
    assert "    " + line in text
    assert public.hex() in text and SEED.hex() in text
    assert cosigner_verifier_key(NAME, public) in text
