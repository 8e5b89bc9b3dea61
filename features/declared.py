"""Model inputs a labelled table's own columns imply, as its declaration states them.

Each ``derived`` entry of a dataset declaration (core/datasets.py) becomes one Spark Column of the
declared columns: no code per table. Nulls are missing values: a mean, spread or slope is taken
over the values present (null when too few are), a ratio with a zero or missing denominator is
null, and ``is_null`` / ``count_null`` turn absence itself into an input (a number whose latest
month of spend is missing).
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column
from pyspark.sql import functions as F

from realname_guard.core.datasets import Derived


def _present(col: str) -> Column:
    return F.col(col).isNotNull() & ~F.isnan(F.col(col))


def _value(col: str) -> Column:
    return F.when(_present(col), F.col(col).cast("double"))


def _sum(cols: Sequence[str], term: object) -> Column:
    parts = [F.coalesce(term(c), F.lit(0.0)) for c in cols]  # type: ignore[operator]
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def _count(cols: Sequence[str]) -> Column:
    return _sum(cols, lambda c: F.when(_present(c), F.lit(1.0)))


def mean(cols: Sequence[str]) -> Column:
    n = _count(cols)
    return F.when(n > 0, _sum(cols, _value) / n)


def stddev(cols: Sequence[str]) -> Column:
    """Sample standard deviation of the values present (null with fewer than two)."""
    n = _count(cols)
    m = _sum(cols, _value) / n
    squares = _sum(cols, lambda c: F.pow(_value(c) - m, 2))
    return F.when(n > 1, F.sqrt(squares / (n - 1)))


def slope(cols: Sequence[str]) -> Column:
    """Least-squares slope of the values present against their positions 0, 1, ... (the trend
    per step of a monthly series, oldest first); null with fewer than two values."""
    n = _count(cols)
    pos = {c: float(i) for i, c in enumerate(cols)}
    sx = _sum(cols, lambda c: F.when(_present(c), F.lit(pos[c])))
    sy = _sum(cols, _value)
    sxx = _sum(cols, lambda c: F.when(_present(c), F.lit(pos[c] ** 2)))
    sxy = _sum(cols, lambda c: _value(c) * F.lit(pos[c]))
    denominator = n * sxx - sx * sx
    return F.when((n > 1) & (denominator != 0), (n * sxy - sx * sy) / denominator)


def derived_column(d: Derived) -> Column:
    """The Spark Column of one declared transformation, named for it."""
    cols = list(d.columns)
    if d.op == "ratio":
        out = F.when(_value(cols[1]) != 0, _value(cols[0]) / _value(cols[1]))
    elif d.op == "difference":
        out = _value(cols[0]) - _value(cols[1])
    elif d.op == "mean":
        out = mean(cols)
    elif d.op == "stddev":
        out = stddev(cols)
    elif d.op == "slope":
        out = slope(cols)
    elif d.op == "is_null":
        out = F.when(_present(cols[0]), F.lit(0.0)).otherwise(F.lit(1.0))
    elif d.op == "count_null":
        out = F.lit(float(len(cols))) - _count(cols)
    else:  # pragma: no cover - the declaration's Literal type admits no other op
        raise ValueError(f"unknown derived op {d.op!r}")
    return out.cast("double").alias(d.name)


def derived_columns(derived: Sequence[Derived]) -> list[Column]:
    return [derived_column(d) for d in derived]
