"""The standard-library fast path equals RFC 8785 (the `rfc8785` package) on our value domain."""

from __future__ import annotations

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.canonical import MAX_SAFE_INTEGER, canonical_bytes_checked_domain

ascii_keys = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12)
scalars = (st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
           | st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
values = st.recursive(scalars, lambda children: st.lists(children, max_size=5)
                      | st.dictionaries(ascii_keys, children, max_size=6), max_leaves=40)


@settings(max_examples=400, deadline=None)
@given(values)
def test_fast_path_equals_rfc8785(value):
    assert canonical_bytes_checked_domain(value) == rfc8785.dumps(value)


def test_control_characters_and_unicode_are_escaped_as_jcs_does():
    value = {"z": "\x00\x01\x08\t\n\x0b\x0c\r\x1f\x7f\"\\/é😀\u2028", "a": [1, -2, True, None]}
    assert canonical_bytes_checked_domain(value) == rfc8785.dumps(value)


def test_lone_surrogates_are_refused():
    import pytest

    from ledger.errors import CanonicalisationError

    with pytest.raises(CanonicalisationError):
        canonical_bytes_checked_domain({"name": "\ud800"})
