"""RFC 8785 (JCS) canonical JSON, with the bounds the ledger puts on every value.

JSON numbers are IEEE doubles in most languages, so an integer is only exact below 2**53;
`rfc8785` refuses larger ones, and we refuse floats altogether (money is whole rupiah).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from functools import lru_cache

import rfc8785

from ledger.errors import CanonicalisationError

MAX_SAFE_INTEGER = 2**53 - 1
MAX_DEPTH = 16
MAX_STRING_LENGTH = 4096


def canonical_bytes(value: object, *, check: bool = True) -> bytes:
    """The RFC 8785 bytes of `value`, after checking it holds only bounded JSON types.

    `check=False` skips the walk that names a bad field (rfc8785 still refuses unsafe integers
    and lone surrogates); the write path uses it for envelopes, whose every field is then
    checked by its event type's schema, which refuses floats with the field's name.
    """
    if check:
        check_value(value)
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, RecursionError) as error:
        check_value(value)  # names the field when it can
        raise CanonicalisationError(str(error)) from error


def canonical_bytes_checked_domain(value: object, path: str = "$") -> bytes:
    """RFC 8785 bytes of a value already known to lie in our domain, by the standard library.

    For objects with ASCII member names, integers within +-(2**53 - 1), no floats and valid
    strings, RFC 8785 and `json.dumps(sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)` produce the same bytes (same member order, the same escapes: the
    short forms for \\b \\t \\n \\f \\r, \\u00XX in lower case for the other control
    characters, nothing else escaped). A property test holds the two equal. Envelopes reach
    here only after their event type's schema has checked every field; the verifier uses it to
    test that a leaf is canonical and then checks every field itself, so a value outside the
    domain is still reported. The C encoder is several times faster than `rfc8785`. `path`
    names `value` in the refusal, e.g. `envelopes[3]`.
    """
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                          allow_nan=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError, TypeError, RecursionError) as error:
        check_value(value, path)
        raise CanonicalisationError(str(error)) from error


def check_value(value: object, path: str = "$", depth: int = 0) -> None:
    """Raise CanonicalisationError naming the first value that JCS cannot carry safely."""
    if depth > MAX_DEPTH:
        raise CanonicalisationError(f"nested deeper than {MAX_DEPTH} levels", field=path)
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CanonicalisationError("integer outside +-(2**53 - 1)", field=path)
        return
    if isinstance(value, float):
        raise CanonicalisationError("floats are not allowed; use whole integers", field=path)
    if isinstance(value, str):
        _check_string(value, path)
        return
    if isinstance(value, list):
        for position, item in enumerate(value):
            check_value(item, f"{path}[{position}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalisationError("object keys must be strings", field=path)
            _check_string(key, f"{path}.{key}")
            check_value(item, f"{path}.{key}", depth + 1)
        return
    raise CanonicalisationError(f"type {type(value).__name__} is not JSON", field=path)


def _check_string(text: str, path: str) -> None:
    if len(text) > MAX_STRING_LENGTH:
        raise CanonicalisationError(f"string longer than {MAX_STRING_LENGTH}", field=path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise CanonicalisationError("string holds a lone surrogate", field=path) from error


def join_members(members: Iterable[tuple[str, bytes]]) -> bytes:
    """Canonical bytes of an object whose member values are already canonical.

    JCS sorts members by the UTF-16 code units of their names; our member names are ASCII,
    where that equals byte order, so a plain sort is exact.
    """
    body = b",".join(_member_name(name) + value for name, value in sorted(members))
    return b"{" + body + b"}"


@lru_cache(maxsize=64)
def _member_name(name: str) -> bytes:
    """`"name":` as bytes; a log entry has four or five members, the same names every time."""
    assert name.isascii(), name
    return json.dumps(name).encode() + b":"


def parse_json_strict(data: bytes | str, what: str = "document") -> object:
    """Parse UTF-8 JSON, refusing duplicate object keys and non-finite numbers (naming where)."""
    constants: list[tuple[str, object]] = []

    def no_duplicates(pairs: list[tuple[str, object]]) -> dict:
        result: dict[str, object] = {}
        for key, item in pairs:
            if key in result:
                raise CanonicalisationError(f"duplicate key {key!r} in {what}", field=key)
            result[key] = item
        return result

    def no_constant(name: str) -> object:
        marker = object()  # parsing goes on, so that the refusal can name the field
        constants.append((name, marker))
        return marker

    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data  # RFC 8259: UTF-8 only
        value = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)
    except CanonicalisationError:
        raise
    except (ValueError, RecursionError) as error:
        raise CanonicalisationError(f"{what} is not valid JSON: {_json_problem(error)}") from error
    if constants:
        name, marker = constants[0]
        raise CanonicalisationError(f"{name} is not allowed in {what}", field=_path_to(value, marker))
    return value


def _json_problem(error: ValueError | RecursionError) -> str:
    """What is wrong, in the sender's terms rather than the parser's internals."""
    if isinstance(error, RecursionError):
        return "arrays and objects are nested too deeply"
    if isinstance(error, UnicodeDecodeError):
        return f"it is not UTF-8 (byte {error.start})"
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at line {error.lineno} column {error.colno}"
    if "integer string conversion" in str(error):
        return f"a number has more than {sys.get_int_max_str_digits()} digits"
    return "it cannot be parsed"


def _path_to(value: object, target: object) -> str:
    """Where `target` (by identity) stands in `value`, as `envelopes[0].payload.amount_rupiah`;
    iterative, because the value may be nested as deep as the parser allows."""
    stack = [("$", value)]
    while stack:
        path, item = stack.pop()
        if item is target:
            return path
        if isinstance(item, dict):
            stack.extend((key if path == "$" else f"{path}.{key}", child) for key, child in item.items())
        elif isinstance(item, list):
            stack.extend((f"{path}[{position}]", child) for position, child in enumerate(item))
    raise AssertionError("the marker is in the parsed value")
