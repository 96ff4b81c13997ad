"""Signed documents (impact statements, award lists): JCS bytes signed by the ledger's key.

The signature covers b"amanah/document/v1\n" || JCS(document without "signature"), so a
document signature can never be mistaken for a checkpoint note or a submission."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import note, signing
from ledger.canonical import canonical_bytes
from ledger.errors import BadSignature, InvalidInput

CONTEXT = b"amanah/document/v1\n"


def sign_document(document: dict, key_name: str, private_key: Ed25519PrivateKey) -> dict:
    """A copy of `document` with a `signature` member added."""
    body = {name: value for name, value in document.items() if name != "signature"}
    signature = signing.sign(private_key, CONTEXT + canonical_bytes(body))
    verifier = note.verifier_key(key_name, signing.public_key_bytes(private_key))
    return {**body, "signature": {"algorithm": "ed25519", "canonicalisation": "RFC 8785",
                                  "context": CONTEXT.decode().strip(), "verifier_key": verifier,
                                  "value": signing.b64encode(signature)}}


def verify_document(document: dict, verifier_key: str) -> None:
    """Raise BadSignature unless the document is signed by `verifier_key`."""
    signature = document.get("signature")
    if not isinstance(signature, dict) or signature.get("verifier_key") != verifier_key:
        raise BadSignature("document is not signed by that key", field="signature")
    _, public = note.parse_verifier_key(verifier_key)
    body = {name: value for name, value in document.items() if name != "signature"}
    try:
        value = signing.b64decode(signature.get("value"), "signature.value", signing.SIGNATURE_BYTES)
    except InvalidInput as error:
        raise BadSignature(str(error), field="signature.value") from error
    signing.verify(public, value, CONTEXT + canonical_bytes(body))
