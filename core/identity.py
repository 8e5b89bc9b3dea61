"""GB 11643-1999 resident ID numbers as Spark column functions: normalise, check, parse.

An 18-character number is 6 digits of region of issue (GB/T 2260), 8 of birth date, 3 of
sequence (odd = male) and an ISO 7064 MOD 11-2 check character (``X`` stands for 10).
"""

from __future__ import annotations

import re
from functools import reduce

from pyspark.sql import Column
from pyspark.sql import functions as F

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_FULL_WIDTH_DIGITS = "０１２３４５６７８９ｘＸ"
_HALF_WIDTH_DIGITS = "0123456789XX"
ID_PATTERN = r"^[0-9]{17}[0-9X]$"


def normalise_id(id_number: Column) -> Column:
    """Full-width digits to ASCII, lower-case x to X, all whitespace (incl. U+3000) removed."""
    cleaned = F.regexp_replace(F.translate(id_number, _FULL_WIDTH_DIGITS, _HALF_WIDTH_DIGITS), r"[\s\u3000]", "")
    return F.upper(cleaned)


def normalise_id_py(id_number: str) -> str:
    """:func:`normalise_id` for one string on the driver (a lookup by ID number)."""
    cleaned = id_number.translate(str.maketrans(_FULL_WIDTH_DIGITS, _HALF_WIDTH_DIGITS))
    return re.sub(r"[\s\u3000]", "", cleaned).upper()


def check_char(id17: Column) -> Column:
    """The check character owed by the first 17 digits (null unless they are 17 digits)."""
    digits = [F.substring(id17, i + 1, 1).try_cast("int") * w for i, w in enumerate(_WEIGHTS)]
    total = reduce(lambda a, b: a + b, digits)
    return F.when(id17.rlike(r"^[0-9]{17}"), F.substring(F.lit(_CHECK_CHARS), (total % 11) + 1, 1))


def id_birth_date(id_number: Column) -> Column:
    """Birth date from characters 7-14 of a (normalised) 18-character ID; null if not a real date."""
    text = F.substring(id_number, 7, 8)
    parsed = F.try_to_timestamp(text, F.lit("yyyyMMdd")).cast("date")
    # try_to_timestamp is lenient about some impossible dates; require a round trip.
    return F.when(F.date_format(parsed, "yyyyMMdd") == text, parsed)


def id_checksum_ok(id_number: Column) -> Column:
    """True iff an 18-character ID has the right check character and a real birth date."""
    shaped = id_number.rlike(ID_PATTERN)
    ok = (F.substring(id_number, 18, 1) == check_char(id_number)) & id_birth_date(id_number).isNotNull()
    return F.when(id_number.isNull(), F.lit(False)).when(shaped, ok).otherwise(F.lit(False))


def id_valid(id_type: Column, id_number: Column) -> Column:
    """Resident IDs must pass the GB 11643 check; other ID types need only be non-empty."""
    return F.when(id_type == "RESIDENT_ID", id_checksum_ok(id_number)).otherwise(
        F.coalesce(F.length(id_number) > 0, F.lit(False))
    )


def id_gender(id_number: Column) -> Column:
    """``M`` when the 17th character (sequence) is odd, ``F`` when even."""
    seq = F.substring(id_number, 17, 1).try_cast("int")
    return F.when(seq.isNull(), F.lit(None).cast("string")).when(seq % 2 == 1, F.lit("M")).otherwise(F.lit("F"))


def id_region(id_number: Column) -> Column:
    """Region of issue: the first six digits (GB/T 2260 county code)."""
    return F.when(id_number.rlike(r"^[0-9]{6}"), F.substring(id_number, 1, 6))


def province(region: Column) -> Column:
    """Two-digit province prefix of a region code; null for ``ABROAD`` and malformed codes."""
    return F.when(region.rlike(r"^[0-9]{6}$"), F.substring(region, 1, 2))


def age_on(birth_date: Column, on: Column) -> Column:
    """Whole years between a birth date and a date (or timestamp)."""
    return F.floor(F.months_between(F.to_date(on), birth_date) / 12).cast("int")
