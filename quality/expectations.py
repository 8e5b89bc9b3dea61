"""Expectation specs from config -> Great Expectations objects and Spark row predicates.

Each ``level: row`` spec yields two things that must agree: the GE expectation (which
produces the counts for the run summary and Data Docs) and a Spark ``Column`` that is true
for exactly the rows GE counts as unexpected (which drives the quarantine). GE's Spark
semantics (great_expectations 1.24, ``column_condition_partial``) reproduced here:

* column-map expectations ignore null values, except ``..._to_not_be_null`` / ``..._to_be_null``;
* ``row_condition`` (Spark SQL) restricts the rows looked at; a row whose condition is
  null counts as outside it (``DataFrame.filter`` semantics);
* ``mostly`` only decides GE's success, never which rows are unexpected;
* ``..._to_be_unique`` counts *every* row of a duplicated key as unexpected. The quarantine
  instead keeps one row per key (see :func:`reject_condition`), so its count for a unique
  spec is GE's count minus the number of duplicated keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import great_expectations.expectations as gxe
from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.row_conditions import PassThroughCondition
from pyspark.sql import Column, Window
from pyspark.sql import functions as F

from realname_guard.core.config import ExpectationSpec, QualityConfig

UNIQUE = "expect_column_values_to_be_unique"


class ExpectationConfigError(ValueError):
    """An expectation spec cannot be built; the message names the table and the type."""


@dataclass(frozen=True)
class _RowRule:
    """How one column-map expectation type judges a single non-null value."""

    expected: Callable[[Column, Mapping[str, Any]], Column]  # true where the value is fine
    describe: Callable[[str, Mapping[str, Any]], str]  # default reason text
    ignores_nulls: bool = True


def _between(column: Column, kw: Mapping[str, Any]) -> Column:
    """GE's ColumnValuesBetween._spark: inclusive bounds unless strict_min/strict_max."""
    lo, hi = kw.get("min_value"), kw.get("max_value")
    conds: list[Column] = []
    if lo is not None:
        conds.append(column > F.lit(lo) if kw.get("strict_min") else column >= F.lit(lo))
    if hi is not None:
        conds.append(column < F.lit(hi) if kw.get("strict_max") else column <= F.lit(hi))
    out = conds[0]
    for cond in conds[1:]:
        out = out & cond
    return out


def _describe_between(what: str, kw: Mapping[str, Any]) -> str:
    lo, hi = kw.get("min_value"), kw.get("max_value")
    parts = []
    if lo is not None:
        parts.append(f"{'>' if kw.get('strict_min') else '>='} {lo}")
    if hi is not None:
        parts.append(f"{'<' if kw.get('strict_max') else '<='} {hi}")
    return f"{what} not {' and '.join(parts)}"


def _fmt_set(values: Iterable[Any]) -> str:
    return "{" + ", ".join(str(v) for v in values) + "}"


# The registry of row-level expectation types: GE snake_case name -> rule.
ROW_RULES: dict[str, _RowRule] = {
    "expect_column_values_to_not_be_null": _RowRule(
        expected=lambda c, kw: c.isNotNull(),
        describe=lambda col, kw: f"{col}: is null",
        ignores_nulls=False,
    ),
    "expect_column_values_to_be_null": _RowRule(
        expected=lambda c, kw: c.isNull(),
        describe=lambda col, kw: f"{col}: is not null",
        ignores_nulls=False,
    ),
    "expect_column_values_to_be_in_set": _RowRule(
        # GE: a missing value_set is vacuously met
        expected=lambda c, kw: F.lit(True) if kw.get("value_set") is None else c.isin(list(kw["value_set"])),
        describe=lambda col, kw: f"{col}: not in {_fmt_set(kw.get('value_set') or ())}",
    ),
    "expect_column_values_to_not_be_in_set": _RowRule(
        expected=lambda c, kw: ~c.isin(list(kw["value_set"])),
        describe=lambda col, kw: f"{col}: in {_fmt_set(kw.get('value_set') or ())}",
    ),
    "expect_column_values_to_match_regex": _RowRule(
        expected=lambda c, kw: c.rlike(kw["regex"]),
        describe=lambda col, kw: f"{col}: does not match {kw['regex']}",
    ),
    "expect_column_values_to_not_match_regex": _RowRule(
        expected=lambda c, kw: ~c.rlike(kw["regex"]),
        describe=lambda col, kw: f"{col}: matches {kw['regex']}",
    ),
    "expect_column_values_to_be_between": _RowRule(
        expected=_between,
        describe=lambda col, kw: _describe_between(f"{col}:", kw),
    ),
    "expect_column_value_lengths_to_equal": _RowRule(
        expected=lambda c, kw: F.length(c) == F.lit(kw["value"]),
        describe=lambda col, kw: f"{col}: length is not {kw['value']}",
    ),
    "expect_column_value_lengths_to_be_between": _RowRule(
        expected=lambda c, kw: _between(F.length(c), kw),
        describe=lambda col, kw: _describe_between(f"{col}: length", kw),
    ),
    # Expected-ness of a unique value depends on other rows: handled apart (window).
    UNIQUE: _RowRule(
        expected=lambda c, kw: F.lit(True),
        describe=lambda col, kw: f"duplicate {col}",
    ),
}


_BETWEEN_TYPES = ("expect_column_values_to_be_between", "expect_column_value_lengths_to_be_between")


def _snake_to_class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def expectation_class(spec: ExpectationSpec, table: str) -> type[Expectation]:
    """The GE class named by ``spec.type`` (snake_case); unknown names fail naming table and type."""
    if not re.fullmatch(r"expect_[a-z0-9_]+", spec.type):
        raise ExpectationConfigError(
            f"table {table!r}: unknown expectation type {spec.type!r} (expected a GE snake_case "
            "name such as expect_column_values_to_not_be_null)"
        )
    cls = getattr(gxe, _snake_to_class_name(spec.type), None)
    if not (isinstance(cls, type) and issubclass(cls, Expectation)):
        raise ExpectationConfigError(
            f"table {table!r}: unknown expectation type {spec.type!r} "
            "(no such class in great_expectations.expectations)"
        )
    if spec.level == "row" and spec.type not in ROW_RULES:
        raise ExpectationConfigError(
            f"table {table!r}: expectation type {spec.type!r} cannot quarantine rows; "
            f"use level: table, or one of: {', '.join(sorted(ROW_RULES))}"
        )
    if spec.level == "row" and not spec.column:
        raise ExpectationConfigError(f"table {table!r}: row-level {spec.type!r} needs a column")
    return cls


def build_expectation(spec: ExpectationSpec, table: str) -> Expectation:
    """The GE expectation for a spec; row_condition goes to GE verbatim as Spark SQL.

    GE 1.9+ deprecates string row conditions with ``condition_parser="spark"`` and turns them
    into a ``PassThroughCondition`` (``DataFrame.filter(<sql>)`` on Spark): we build that
    directly, which keeps the same semantics without the deprecation warning.
    """
    cls = expectation_class(spec, table)
    args: dict[str, Any] = dict(spec.kwargs)
    if spec.column is not None:
        args["column"] = spec.column
    if spec.row_condition:
        args["row_condition"] = PassThroughCondition(pass_through_filter=spec.row_condition)
    try:
        expectation = cls(**args)
    except Exception as exc:  # pydantic ValidationError, TypeError, ValueError from GE
        raise ExpectationConfigError(
            f"table {table!r}: expectation {spec.type!r}"
            f"{f' on column {spec.column!r}' if spec.column else ''} is invalid: {exc}"
        ) from exc
    if spec.type in _BETWEEN_TYPES and spec.kwargs.get("min_value") is None and spec.kwargs.get("max_value") is None:
        raise ExpectationConfigError(f"table {table!r}: {spec.type!r} on {spec.column!r} needs min_value or max_value")
    expectation.meta = {**(expectation.meta or {}), "reason": reason_text(spec), "level": spec.level}
    return expectation


def reason_text(spec: ExpectationSpec) -> str:
    """Words for the quarantine: ``spec.reason`` or one derived from type and kwargs."""
    if spec.reason:
        return spec.reason
    rule = ROW_RULES.get(spec.type)
    if rule is None or spec.column is None:
        text = spec.type.removeprefix("expect_").replace("_", " ")
        text = f"{spec.column}: {text}" if spec.column else text
    else:
        text = rule.describe(spec.column, spec.kwargs)
    if spec.row_condition:
        text += f" (where {spec.row_condition})"
    return text


def _in_condition(spec: ExpectationSpec) -> Column:
    """True where the row falls under the spec's row_condition (null counts as outside)."""
    if not spec.row_condition:
        return F.lit(True)
    return F.coalesce(F.expr(spec.row_condition), F.lit(False))


def unexpected_condition(spec: ExpectationSpec, table: str) -> Column:
    """True exactly for the rows GE counts as unexpected (never null).

    For ``..._to_be_unique`` that is every row whose non-null key occurs more than once
    among the rows under the row_condition. Contains a window for unique specs.
    """
    expectation_class(spec, table)
    assert spec.column is not None  # checked by expectation_class for row specs
    rule = ROW_RULES[spec.type]
    column = F.col(spec.column)
    within = _in_condition(spec)
    if spec.type == UNIQUE:
        in_scope = within & column.isNotNull()
        counted = F.count(F.when(in_scope, F.lit(1))).over(Window.partitionBy(column))
        return in_scope & (counted > 1)
    bad = ~rule.expected(column, spec.kwargs)
    if rule.ignores_nulls:
        bad = column.isNotNull() & bad
    return within & F.coalesce(bad, F.lit(False))


def reject_condition(spec: ExpectationSpec, table: str, order_by: Sequence[Column]) -> Column:
    """True for the rows the quarantine rejects for this spec (never null).

    Equal to :func:`unexpected_condition` except for ``..._to_be_unique``: of the rows sharing
    a key, the first by ``order_by`` is kept and the others are rejected, so a duplicated
    delivery still leaves one usable row. ``order_by`` must be a total, deterministic order
    (e.g. every column of the row) so reruns keep the same row.
    """
    if spec.type != UNIQUE:
        return unexpected_condition(spec, table)
    expectation_class(spec, table)
    assert spec.column is not None
    column = F.col(spec.column)
    in_scope = _in_condition(spec) & column.isNotNull()
    # Rows outside the scope get their own partition so they never take the first place.
    window = Window.partitionBy(column, in_scope).orderBy(*order_by)
    return in_scope & (F.row_number().over(window) > 1)


def check_specs(quality: QualityConfig) -> None:
    """Build every configured expectation once: a bad spec fails before Spark starts."""
    for table, specs in quality.tables.items():
        for spec in specs:
            build_expectation(spec, table)
