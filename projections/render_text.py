"""Text on a rendered document: rupiah written one way per language, and any text made printable
in the font at hand (see projections/render.py)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from projections.formatting import rupiah as _format_rupiah

LANGUAGES = ("id", "en")


def rupiah(amount: int, language: str) -> str:
    """Whole rupiah as people write it: "id" -> Rp42.000.000, "en" -> Rp42,000,000; -Rp1.000."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"rupiah are whole integers, not {type(amount).__name__}")
    return _format_rupiah(amount, language)


# ---------------------------------------------------------------------------------------------
# Text that any font can print

_FALLBACKS = {"\u2014": "-", "\u2013": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-", "\u2018": "'", "\u2019": "'",
              "\u201a": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2026": "...", "\u2022": "*", "\u2265": ">=",
              "\u2264": "<=", "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u00b7": "-"}
_LATIN1_PRINTABLE = frozenset(chr(code) for code in [*range(0x20, 0x7F), *range(0xA0, 0x100)])


def printable(text: str, supported: Callable[[str], bool], keep_newlines: bool = True) -> str:
    """`text` with every character `supported` cannot print replaced by a plain equivalent
    (punctuation table, then NFKD without combining accents) or "?"; format characters such as
    zero-width joiners and variation selectors are dropped."""
    out: list[str] = []
    for char in str(text):
        if unicodedata.category(char) == "Cs":  # a lone surrogate cannot be encoded at all
            continue
        if char == "\n" and keep_newlines:
            out.append(char)
        elif char in "\r\n\t\v\f":
            out.append(" ")
        elif supported(char):
            out.append(char)
        elif unicodedata.category(char) in ("Cf", "Mn", "Me", "Cc") or 0xFE00 <= ord(char) <= 0xFE0F:
            continue
        else:
            for candidate in (_FALLBACKS.get(char, ""), "".join(
                    c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))):
                if candidate and candidate != char and all(supported(c) for c in candidate):
                    out.append(candidate)
                    break
            else:
                out.append("?")
    return "".join(out)
