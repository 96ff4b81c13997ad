"""Small, strict payload field checks for event types (the domain imports no schema library)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date

from ledger import signing
from ledger.errors import InvalidInput

Check = Callable[[object, str], object]
IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
ORGANISATION_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,63}")
# Unicode's Bidi_Control characters: they reorder how the text around them is shown, so a name
# holding one can display as another name (U+202E turns "PT Aman\u202eaT" around).
BIDI_CONTROL = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"})  # controls, format, spaces, marks


def check_payload(payload: dict, where: str, spec: dict[str, Check], optional: dict[str, Check] | None = None) -> None:
    """Every field in `spec` present and valid, `optional` ones valid when present, no others."""
    for name, check in spec.items():
        if name not in payload:
            raise InvalidInput("is required", field=f"{where}.{name}")
        check(payload[name], f"{where}.{name}")
    if len(payload) == len(spec):  # every field is one of spec's: nothing optional, nothing unknown
        return
    optional = optional or {}
    for name, check in optional.items():
        if name in payload:
            check(payload[name], f"{where}.{name}")
    unknown = sorted(set(payload) - set(spec) - set(optional))
    if unknown:
        raise InvalidInput("is not a field of this event type", field=f"{where}.{unknown[0]}")


def text(max_length: int = 200, pattern: re.Pattern | None = None, message: str = "") -> Check:
    """A non-empty string of bounded length, optionally matching `pattern`."""
    passed: set[str] = set()  # strings this check passed: a batch's lines repeat most of theirs

    def check(value: object, field: str) -> object:
        if type(value) is str and value in passed:
            return value
        if not isinstance(value, str) or not value.strip() or len(value) > max_length:
            raise InvalidInput(f"must be a non-empty string of at most {max_length} characters", field=field)
        if "\x00" in value:  # PostgreSQL text cannot hold it, so the views could not show the entry
            raise InvalidInput("must not contain the NUL character (U+0000)", field=field)
        if pattern is None:  # free text (names, reasons): patterns allow only visible ASCII anyway
            _check_visible(value, field)
        if pattern is not None and not pattern.fullmatch(value):
            raise InvalidInput(message or f"must match {pattern.pattern}", field=field)
        _remember(passed, value)
        return value

    return check


PASSED_LIMIT = 4096  # values a check remembers as passed, then it starts again


def _remember(passed: set | dict, value: str, result: object = None) -> None:
    if len(passed) >= PASSED_LIMIT:
        passed.clear()
    if isinstance(passed, dict):
        passed[value] = result
    else:
        passed.add(value)


def _check_visible(value: str, field: str) -> None:
    """Free text must show as what it is: no bidi controls, and not only invisible characters."""
    bidi = BIDI_CONTROL.search(value)
    if bidi is not None:
        raise InvalidInput(f"must not contain bidirectional control characters (U+{ord(bidi.group()):04X})",
                           field=field)
    if all(unicodedata.category(character) in INVISIBLE_CATEGORIES for character in value):
        raise InvalidInput("must contain a visible character", field=field)


identifier = text(128, IDENTIFIER, "must be 1-128 of A-Z a-z 0-9 . _ : - starting with a letter or digit")
organisation_id = text(64, ORGANISATION_ID, "must be 2-64 of a-z 0-9 - (an organisation id)")


def integer(minimum: int, maximum: int, unit: str = "") -> Check:
    """A whole number (not a bool, not a float) within [minimum, maximum]."""

    def check(value: object, field: str) -> object:
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidInput(f"must be a whole number{unit}", field=field)
        if not minimum <= value <= maximum:
            raise InvalidInput(f"must be between {minimum:,} and {maximum:,}{unit}", field=field)
        return value

    return check


def one_of(*choices: str) -> Check:
    """One of a fixed set of strings."""

    def check(value: object, field: str) -> object:
        if value not in choices:
            raise InvalidInput(f"must be one of {', '.join(choices)}", field=field)
        return value

    return check


def public_key(value: object, field: str) -> object:
    """Base64 of a raw 32-byte Ed25519 public key."""
    return signing.b64decode(value, field, signing.PUBLIC_KEY_BYTES)


def key_id(value: object, field: str) -> object:
    """An organisation key id: 32 lowercase hex digits."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{32}", value):
        raise InvalidInput("must be 32 lowercase hex digits", field=field)
    return value


_DATES_PASSED: dict[str, date] = {}


def calendar_date(value: object, field: str) -> date:
    """An ISO date, YYYY-MM-DD."""
    if type(value) is str:
        known = _DATES_PASSED.get(value)
        if known is not None:
            return known
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise InvalidInput("must be a date like 2025-03-31", field=field)
    try:
        day = date.fromisoformat(value)
    except ValueError as error:
        raise InvalidInput("is not a real date", field=field) from error
    _remember(_DATES_PASSED, value, day)
    return day
