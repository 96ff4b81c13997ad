"""Each event type's payload declared once: a frozen, slotted dataclass whose fields carry their
checks (ledger/fields.py). The type's payload check is derived from the declaration, so the
fields checked and the fields read are the same list, and an entry's payload is decoded into
the typed value once, after it was checked (`LogEntry.values`).

    @payload_type
    class PledgeMade:
        programme: str = required(fields.identifier)
        fund_type: str | None = optional(fund_type)  # None when the payload leaves it out

A field's `decode` turns its checked JSON into the value: `items(ItemType)` decodes a list of
objects into a tuple of ItemType values (ItemType itself a declaration).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import Any

from ledger import fields
from ledger.fields import Check

_CHECK, _OPTIONAL, _DECODE = "check", "optional", "decode"


def required(check: Check, decode: Callable[[Any], Any] | None = None) -> Any:
    """A field the payload must hold, checked by `check`; `decode` turns its JSON into the value."""
    return dataclasses.field(metadata={_CHECK: check, _OPTIONAL: False, _DECODE: decode})


def optional(check: Check, decode: Callable[[Any], Any] | None = None) -> Any:
    """A field the payload may leave out (then None), checked by `check` when present."""
    return dataclasses.field(default=None, metadata={_CHECK: check, _OPTIONAL: True, _DECODE: decode})


def payload_type(cls: type) -> type:
    """Make `cls` a frozen, slotted, keyword-only dataclass and derive its payload check."""
    declared = dataclasses.dataclass(frozen=True, slots=True, kw_only=True)(cls)
    members = dataclasses.fields(declared)
    spec = {member.name: member.metadata[_CHECK] for member in members if not member.metadata[_OPTIONAL]}
    optional_spec = {member.name: member.metadata[_CHECK] for member in members if member.metadata[_OPTIONAL]}
    _CHECKS[declared] = partial(fields.check_payload, spec=spec, optional=optional_spec or None)
    _DECODERS[declared] = _decoder(declared, members)
    return declared


_CHECKS: dict[type, Callable[[dict, str], None]] = {}
_DECODERS: dict[type, Callable[[dict], Any]] = {}


def _decoder(declared: type, members: tuple[dataclasses.Field, ...]) -> Callable[[dict], Any]:
    """A function from a checked payload to the value, setting each slot directly: the frozen
    dataclass's own __init__ (object.__setattr__ per field) costs about twice as much, and
    every entry of a typed event type is decoded once."""
    namespace: dict[str, Any] = {"new": object.__new__, "declared": declared}
    lines = ["def decode(payload):", "    value = new(declared)"]
    for member in members:
        name, decode_member = member.name, member.metadata[_DECODE]
        namespace[f"set_{name}"] = declared.__dict__[name].__set__  # the slot's own descriptor
        read = f"payload[{name!r}]" if not member.metadata[_OPTIONAL] else f"payload.get({name!r})"
        if decode_member is not None:
            namespace[f"decode_{name}"] = decode_member
            read = f"decode_{name}({read})" if not member.metadata[_OPTIONAL] else \
                f"(None if {read} is None else decode_{name}({read}))"
        lines.append(f"    set_{name}(value, {read})")
    lines.append("    return value")
    exec("\n".join(lines), namespace)  # noqa: S102  (code built from the declaration's own field names)
    return namespace["decode"]


def check_of(declared: type) -> Callable[[dict, str], None]:
    """The payload check derived from a declaration: `check(payload, where)` raises InvalidInput
    naming the field (a `functools.partial` of fields.check_payload, whose spec the docs test reads)."""
    return _CHECKS[declared]


def specs_of(declared: type) -> tuple[dict[str, Check], dict[str, Check] | None]:
    """(required, optional) checks by field name, as fields.check_payload takes them."""
    keywords = _CHECKS[declared].keywords
    return keywords["spec"], keywords["optional"]


def decode(declared: type, payload: dict) -> Any:
    """The typed value of a payload that passed `check_of(declared)`."""
    return _DECODERS[declared](payload)


def items(item_type: type) -> Callable[[list], tuple]:
    """The decoder of a list of objects declared by `item_type`: a tuple of its values."""
    return lambda values: tuple(decode(item_type, value) for value in values)
