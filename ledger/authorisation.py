"""Who may sign what: the signer's key at an entry, the permission table and the genesis-key rule.

The writer (`Ledger`) and the offline verifier (`Verifier`) both call these functions, so a
submission the writer accepts is exactly one the verifier accepts. `where` prefixes each field
named in an error: the writer names `envelopes[0].actor`, the verifier an entry's `actor`.
"""

from __future__ import annotations

from ledger import signing
from ledger.errors import LedgerAlreadyInitialised, NotPermitted, RevokedKey, UnknownActor, UnknownKey
from ledger.event_types import lookup
from ledger.organisations import GENESIS_TYPE, KeyRecord, Organisation


def registered_key(signer: Organisation | None, actor: str, key_id: str, where: str = "") -> KeyRecord:
    """The signer's key, registered at any time (a retry of a stored submission may come after
    its key was revoked); whether it may sign an entry is `signer_key`'s question."""
    if signer is None:
        raise UnknownActor(f"{actor!r} is not a registered organisation", field=f"{where}actor")
    record = signer.keys.get(key_id)
    if record is None:
        raise UnknownKey(f"key {key_id} is not registered to {actor}", field=f"{where}key_id")
    return record


def signer_key(signer: Organisation | None, actor: str, key_id: str, index: int, where: str = "") -> KeyRecord:
    """The key that may sign entry `index`: registered to the actor and not revoked by then."""
    record = registered_key(signer, actor, key_id, where)
    if not record.valid_at(index):
        raise RevokedKey(f"key {key_id} of {actor} was revoked at entry {record.revoked_at}", field=f"{where}key_id")
    return record


def permit(kind: str | None, type_name: str, field: str) -> None:
    """Refuse an event type the signer's kind may not emit (each type's `emitters` is the table)."""
    event_type = lookup(type_name, field)
    if kind not in event_type.emitters:
        raise NotPermitted(f"a {kind} may not emit {event_type.name}", field=field)


def genesis_first(index: int, field: str) -> None:
    """Genesis is entry 0 and nothing else."""
    if index != 0:
        raise LedgerAlreadyInitialised("the ledger was created already", field=field)


def genesis_key(payload: dict, actor: str, key_id: str, where: str = "") -> bytes:
    """The public key genesis declares, which must be the registrar's it registers and must sign it."""
    if payload.get("organisation") != actor:
        raise NotPermitted("genesis is signed by the registrar it registers", field=f"{where}actor")
    public = signing.b64decode(payload.get("public_key"), f"{where}payload.public_key", 32)
    if signing.key_id(public) != key_id:
        raise UnknownKey("genesis must be signed with the registrar key it declares", field=f"{where}key_id")
    return public


def authorise(signer: Organisation | None, actor: str, key_id: str, index: int, envelopes: list[dict],
              where: str = "envelopes[0].") -> bytes:
    """The public key that must have signed these envelopes (the first at entry `index`), once
    the signer's key is valid there and its kind may emit every type; or a named refusal."""
    if any(envelope["type"] == GENESIS_TYPE for envelope in envelopes):
        genesis_first(index, f"{where}type")
        if len(envelopes) != 1:
            raise NotPermitted("genesis is a submission of its own", field="envelopes")
        return genesis_key(envelopes[0]["payload"], actor, key_id, where)
    key = signer_key(signer, actor, key_id, index, where)
    for position, envelope in enumerate(envelopes):
        permit(signer.kind, envelope["type"], f"envelopes[{position}].type")
    return key.public_key
