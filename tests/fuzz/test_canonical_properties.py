"""Properties of the canonical encoding (ledger/canonical.py) beyond the fast path's equality with
RFC 8785 (tests/unit/test_canonical_fast_path.py): round trips through the strict parser over all
of Unicode, refusals that name the value for numbers past 2**53, floats, lone surrogates and deep
nesting, and a strict parser that refuses duplicate keys and never fails any other way."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.canonical import (
    MAX_DEPTH, MAX_SAFE_INTEGER, MAX_STRING_LENGTH, canonical_bytes, canonical_bytes_checked_domain,
    parse_json_strict,
)
from ledger.errors import CanonicalisationError
from tests.fuzz.test_parser_properties import pledge_document, refused

PROPERTY = settings(max_examples=400, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))
# Every code point but the surrogates: NUL, controls, right-to-left marks, combining marks, astral.
any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30) | st.sampled_from(
    ["\x00", "\u202e\u05d0\u05d1", "e\u0301\u0302", "\U0001f600\U0001f1ee\U0001f1e9", "\ufeff", "\u2028\u2029"])
in_domain = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=25)


@PROPERTY
@given(in_domain)
def test_canonical_bytes_round_trip_through_the_strict_parser(value):
    encoded = canonical_bytes(value)
    assert parse_json_strict(encoded) == value
    assert canonical_bytes(parse_json_strict(encoded)) == encoded
    assert encoded.decode("utf-8")  # always valid UTF-8


@PROPERTY
@given(st.dictionaries(any_text, st.integers(0, 9), min_size=2, max_size=8))
def test_members_are_ordered_by_utf16_code_units(value):
    """RFC 8785 section 3.2.3: astral characters sort by their surrogates, before U+E000..U+FFFF."""
    names = list(parse_json_strict(canonical_bytes(value)))
    assert names == sorted(value, key=lambda name: name.encode("utf-16-be"))


def place(value: object, path: list) -> dict:
    """`value` placed at `path` under "x": ["a", 0] gives {"x": {"a": [value]}}."""
    for step in reversed(path):
        value = {step: value} if isinstance(step, str) else [value]
    return {"x": value}


paths = st.lists(st.sampled_from(["a", "b", 0]), max_size=4)
outside = (st.integers(MAX_SAFE_INTEGER + 1, 2**80) | st.integers(-(2**80), -MAX_SAFE_INTEGER - 1)
           | st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([-0.0, 0.0, 1.0, 1e400, 5e-324]))


@PROPERTY
@given(bad=outside | st.sampled_from(["\ud800", "a\udfffb", "x" * (MAX_STRING_LENGTH + 1)]), path=paths)
def test_values_outside_the_domain_are_refused_naming_them(bad, path):
    document = place(bad, path)
    expected = "$.x" + "".join(f".{step}" if isinstance(step, str) else "[0]" for step in path)
    with pytest.raises(CanonicalisationError) as caught:
        canonical_bytes(document)
    assert caught.value.field == expected


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1_000, 10_000])
def test_deep_nesting_is_a_named_error_never_a_recursion_error(depth):
    value: object = 1
    for _ in range(depth):
        value = [value]
    # The fast path trusts its caller on depth (event types bound every field), but past what the
    # encoder can recurse it must still fail by name.
    for encode in (canonical_bytes, canonical_bytes_checked_domain) if depth == 10_000 else (canonical_bytes,):
        with pytest.raises(CanonicalisationError) as caught:
            encode(value)
        assert "deeper" in str(caught.value)
    text = "[" * depth + "1" + "]" * depth
    try:
        assert parse_json_strict(text) == value  # within what the parser reads
    except CanonicalisationError as error:
        assert "not valid JSON" in str(error)


@PROPERTY
@given(st.binary(max_size=60) | st.text(max_size=60).map(str.encode))
def test_the_strict_parser_parses_or_refuses_any_bytes(data):
    try:
        parse_json_strict(data)
    except CanonicalisationError:
        pass


@PROPERTY
@given(value=in_domain, position=st.integers(0, 10**6), byte=st.integers(0, 255))
def test_a_changed_byte_of_canonical_json_is_parsed_or_refused_never_crashes(value, position, byte):
    encoded = bytearray(canonical_bytes(value))
    encoded[position % len(encoded)] = byte
    try:
        parsed = parse_json_strict(bytes(encoded))
    except CanonicalisationError:
        return
    try:
        canonical_bytes(parsed)
    except CanonicalisationError:
        pass  # a float or non-finite number that the changed byte made: refused by name


@PROPERTY
@given(value=st.dictionaries(any_text, in_domain, min_size=1, max_size=5), path=paths, data=st.data())
def test_a_duplicate_key_anywhere_is_refused_naming_it(value, path, data):
    name = data.draw(st.sampled_from(sorted(value)))
    inner = json.dumps(value)
    member = json.dumps(name) + ": " + json.dumps(value[name])
    duplicated = "{" + member + ", " + inner[1:]
    text = json.dumps(place(None, path)).replace("null", duplicated, 1) if path else duplicated
    with pytest.raises(CanonicalisationError) as caught:
        parse_json_strict(text)
    assert caught.value.field == name and "duplicate key" in str(caught.value)


@PROPERTY
@given(path=paths, constant=st.sampled_from([float("nan"), float("inf"), float("-inf")]))
def test_nan_and_infinity_are_refused_naming_where_they_are(path, constant):
    document = place(constant, path)
    text = json.dumps(document)  # spelled NaN, Infinity or -Infinity, which JSON does not have
    with pytest.raises(CanonicalisationError) as caught:
        parse_json_strict(text)
    assert caught.value.field == "x" + "".join(f".{step}" if isinstance(step, str) else "[0]" for step in path)


@PROPERTY
@given(name=st.text(min_size=1, max_size=12).filter(lambda name: name not in {
    "programme", "pledge", "amount_rupiah", "fund_type", "pledged_on"}), value=in_domain)
def test_only_known_ascii_member_names_reach_the_fast_path(name, value):
    """The fast path orders members by code point, which equals RFC 8785's order only for ASCII
    names: every other name is refused by the event type before encoding."""
    document = pledge_document()
    document["envelopes"][0]["payload"][name] = value
    assert refused(document) is not None
