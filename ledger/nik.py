"""The structure of a NIK (Nomor Induk Kependudukan), as Dukcapil publishes it: 16 digits, the
province, regency/city and district where it was first registered (2 + 2 + 2), the birth date as
DDMMYY with 40 added to the day for women, and a serial number from 0001 (docs/domain.md)."""

from __future__ import annotations

import re
from datetime import date

from ledger.errors import InvalidInput

NIK_DIGITS = re.compile(r"[0-9]{16}")  # ASCII digits only: str.isdigit() also takes other scripts
WOMEN_DAY_OFFSET = 40

# Kemendagri province codes (the first two digits). 91 to 96 cover Papua before and after the
# 2022 split (Papua, Papua Barat, Papua Selatan, Papua Tengah, Papua Pegunungan, Papua Barat Daya).
PROVINCE_CODES = frozenset({
    "11", "12", "13", "14", "15", "16", "17", "18", "19", "21",
    "31", "32", "33", "34", "35", "36",
    "51", "52", "53",
    "61", "62", "63", "64", "65",
    "71", "72", "73", "74", "75", "76",
    "81", "82",
    "91", "92", "93", "94", "95", "96",
})


def check_nik(nik: object, field: str) -> str:
    """A NIK whose structure could be real, or InvalidInput naming `field` and what is wrong."""
    if not isinstance(nik, str) or not NIK_DIGITS.fullmatch(nik):
        raise InvalidInput("must be 16 digits (0-9)", field=field)
    if nik[:2] not in PROVINCE_CODES:
        raise InvalidInput(f"starts with {nik[:2]}, which is not an Indonesian province code", field=field)
    if nik[2:4] == "00" or nik[4:6] == "00":
        raise InvalidInput(f"digits 3 to 6 ({nik[2:6]}) must name a regency or city and a district, "
                           "neither 00", field=field)
    if birth_date(nik) is None:
        raise InvalidInput(f"digits 7 to 12 ({nik[6:12]}) are not a birth date DDMMYY (women: day + 40)",
                           field=field)
    if nik[12:] == "0000":
        raise InvalidInput("the serial number (last 4 digits) starts at 0001", field=field)
    return nik


def birth_date(nik: str) -> date | None:
    """The birth date a NIK encodes (the century is not encoded: 19YY unless only 20YY exists,
    as for 29 February 2000), or None when digits 7 to 12 are no date."""
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    if day > WOMEN_DAY_OFFSET:
        day -= WOMEN_DAY_OFFSET
    for century in (1900, 2000):
        try:
            return date(century + year, month, day)
        except ValueError:
            continue
    return None

