"""Chinese personal names as Spark column functions: normalise, then compare natively.

Normalisation folds full-width forms to half-width, removes whitespace, unifies the middle dot
of minority names, and maps traditional to simplified characters with OpenCC's maintained
character table applied by ``translate`` (no Python per row), so that 張偉 and 张伟 are equal.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import opencc
from pyspark.sql import Column
from pyspark.sql import functions as F

_DOTS = "•・．.‧"


@lru_cache(maxsize=1)
def traditional_to_simplified() -> tuple[str, str]:
    """(from, to) strings for ``translate``: OpenCC TSCharacters, one code point to one."""
    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    src, dst = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) != 2:
            continue
        trad, simp = parts[0], parts[1].split(" ")[0]
        if len(trad) == 1 and len(simp) == 1 and trad != simp:
            src.append(trad)
            dst.append(simp)
    return "".join(src), "".join(dst)


def _full_to_half() -> tuple[str, str]:
    return "".join(chr(c) for c in range(0xFF01, 0xFF5F)), "".join(chr(c) for c in range(0x21, 0x7F))


def normalise_name(name: Column) -> Column:
    """Comparable form of a name: half-width, no spaces, one middle dot, simplified, upper-case."""
    fw_src, fw_dst = _full_to_half()
    ts_src, ts_dst = traditional_to_simplified()
    folded = F.translate(F.translate(name, fw_src, fw_dst), _DOTS, "·" * len(_DOTS))
    compact = F.regexp_replace(folded, r"[\s\u3000]", "")
    out = F.upper(F.translate(compact, ts_src, ts_dst))
    return F.when(F.length(out) > 0, out)


def surname(name: Column) -> Column:
    """First character of a normalised name (compound surnames are rare enough to ignore here)."""
    return F.substring(name, 1, 1)


def name_distance(a: Column, b: Column) -> Column:
    """Levenshtein distance between two normalised names; null when either is missing."""
    return F.when(a.isNotNull() & b.isNotNull(), F.levenshtein(a, b))
