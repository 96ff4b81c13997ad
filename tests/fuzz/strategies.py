"""Hypothesis strategies for hostile JSON: numbers past every bound, strings with surrogates, NUL,
right-to-left marks and combining characters, and nesting."""

from __future__ import annotations

from hypothesis import strategies as st

TRICKY_STRINGS = ["", " ", "\x00", "a\x00b", "\u202eevil", "\u200f\u05d0", "e\u0301", "\ud800", "\udfff",
                  "\ufeff", "😀", "\u2028", "0", "-0", "1e400", "NaN", "null", "a" * 5000, "pt-maju-bersama",
                  "sertakan-jakut-2025", "2025-02-30", "２０２５-03-01", "٢٠٢٥-٠٣-٠١", "3172000000000000"]
TRICKY_NUMBERS = [0, -1, 1, 2**31, 2**53 - 1, 2**53, 2**53 + 1, -(2**53), 2**63 - 1, 2**63, 2**64, -(2**63) - 1,
                  10**12, 10**15 + 1, 10**30, 0.0, -0.0, 0.5, 1e308, 1e-320, float("inf"), float("-inf"),
                  float("nan")]

strings = st.sampled_from(TRICKY_STRINGS) | st.text(max_size=30)  # st.text includes lone surrogates
numbers = (st.sampled_from(TRICKY_NUMBERS) | st.integers(-(2**70), 2**70)
           | st.floats(allow_nan=True, allow_infinity=True))
scalars = st.none() | st.booleans() | numbers | strings
json_values = st.recursive(scalars, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(strings, children, max_size=4), max_leaves=12)
