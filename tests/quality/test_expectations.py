"""Specs -> GE expectations and Spark predicates; the predicates agree with GE's counts."""

from __future__ import annotations

import datetime as dt
import warnings
from decimal import Decimal

import great_expectations.expectations as gxe
import pytest
from great_expectations.expectations.row_conditions import PassThroughCondition
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from realname_guard.core.config import ExpectationSpec, QualityConfig
from realname_guard.core.contract import TABLES
from realname_guard.quality.expectations import (
    ROW_RULES,
    UNIQUE,
    ExpectationConfigError,
    build_expectation,
    check_specs,
    reason_text,
    reject_condition,
    unexpected_condition,
)
from realname_guard.quality.validate import new_context, validate_table


def test_shipped_config_covers_every_table_and_every_spec_builds(shipped: QualityConfig) -> None:
    assert set(shipped.tables) == set(TABLES)
    assert shipped.max_bad_row_share == 0.05 and shipped.data_docs is True
    check_specs(shipped)
    for table, specs in shipped.tables.items():
        for spec in specs:
            built = build_expectation(spec, table)
            assert built.expectation_type == spec.type
            assert getattr(built, "column", None) == spec.column
    required = {t for t, c in TABLES.items() if c.required}
    with_row_count = {
        t for t, specs in shipped.tables.items()
        for s in specs if s.type == "expect_table_row_count_to_be_between" and s.level == "table"
    }
    assert with_row_count == required


def test_shipped_predicates_build(spark: SparkSession, shipped: QualityConfig) -> None:
    for table, specs in shipped.tables.items():
        for spec in specs:
            if spec.level == "row":
                assert unexpected_condition(spec, table) is not None
                assert reject_condition(spec, table, [F.col(spec.column or "x")]) is not None


@pytest.mark.parametrize("bad_type", ["expect_colum_values_to_be_nul", "not_a_type", "Expect"])
def test_unknown_type_fails_naming_table_and_type(bad_type: str) -> None:
    spec = ExpectationSpec(type=bad_type, column="msisdn")
    with pytest.raises(ExpectationConfigError, match=f"'sim_registrations'.*'{bad_type}'"):
        build_expectation(spec, "sim_registrations")
    with pytest.raises(ExpectationConfigError, match="sim_registrations"):
        check_specs(QualityConfig(tables={"sim_registrations": (spec,)}))


def test_type_without_row_predicate_must_be_table_level() -> None:
    spec = ExpectationSpec(type="expect_column_mean_to_be_between", column="amount", kwargs={"min_value": 0})
    with pytest.raises(ExpectationConfigError, match="'bank_transactions'.*cannot quarantine rows"):
        build_expectation(spec, "bank_transactions")
    table_level = ExpectationSpec(
        type="expect_column_mean_to_be_between", column="amount", kwargs={"min_value": 0}, level="table"
    )
    assert isinstance(build_expectation(table_level, "bank_transactions"), gxe.ExpectColumnMeanToBeBetween)


def test_bad_kwargs_fail_naming_table_type_and_column() -> None:
    spec = ExpectationSpec(type="expect_column_values_to_match_regex", column="msisdn", kwargs={"regexp": "x"})
    with pytest.raises(ExpectationConfigError, match="'labels'.*match_regex.*'msisdn'"):
        build_expectation(spec, "labels")


def test_row_condition_goes_to_ge_as_spark_sql_without_deprecation() -> None:
    spec = ExpectationSpec(
        type="expect_column_values_to_be_null", column="cancel_time", row_condition="status <> 'CANCELLED'"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        built = build_expectation(spec, "sim_registrations")
    assert built.row_condition == PassThroughCondition(pass_through_filter="status <> 'CANCELLED'")
    assert built.meta["reason"] == "cancel_time: is not null (where status <> 'CANCELLED')"


def test_reason_text() -> None:
    def r(type_: str, **kw: object) -> str:
        return reason_text(ExpectationSpec(type=type_, column="c", kwargs=kw))

    assert r("expect_column_values_to_not_be_null") == "c: is null"
    assert r("expect_column_values_to_be_in_set", value_set=["A", "B"]) == "c: not in {A, B}"
    assert r("expect_column_values_to_match_regex", regex="^x$") == "c: does not match ^x$"
    assert r("expect_column_values_to_be_between", min_value=0, strict_min=True) == "c: not > 0"
    assert r("expect_column_values_to_be_between", min_value=1, max_value=5) == "c: not >= 1 and <= 5"
    assert r("expect_column_values_to_be_unique") == "duplicate c"
    assert reason_text(ExpectationSpec(type=UNIQUE, column="c", reason="dup!")) == "dup!"
    assert reason_text(ExpectationSpec(type="expect_table_row_count_to_be_between", level="table")) == (
        "table row count to be between"
    )


# --- predicates vs GE ------------------------------------------------------------------------

PARITY_DDL = "k STRING, s STRING, n INT, d DECIMAL(18,2), x DOUBLE, b BOOLEAN, grp STRING, t TIMESTAMP"
_T = dt.datetime(2026, 1, 1)
PARITY_ROWS = [
    ("k1", "x", 0, Decimal("0.01"), 0.0, True, "A", _T),
    ("k1", "y", 10, Decimal("0.00"), -0.5, False, "A", None),
    ("k1", "zz", 11, Decimal("-1.00"), None, None, "B", _T),
    ("k2", None, None, None, float("nan"), True, None, _T),
    ("k2", "", -1, Decimal("5.00"), 1e9, True, "B", None),
    (None, "z", 5, Decimal("1.50"), 2.0, False, "A", _T),
    (None, "Y", 6, Decimal("100.00"), 3.0, True, None, None),
    ("k3", "yx", 4, Decimal("0.10"), 4.0, True, "A", _T),
    ("k4", "x", 5, Decimal("0.10"), 4.0, True, "C", _T),
    ("k4", "x", 5, Decimal("0.10"), 4.0, True, "A", _T),
]

PARITY_SPECS = (
    ExpectationSpec(type="expect_column_values_to_not_be_null", column="s"),
    ExpectationSpec(type="expect_column_values_to_not_be_null", column="t", row_condition="grp = 'A'"),
    ExpectationSpec(type="expect_column_values_to_be_null", column="t"),
    ExpectationSpec(type="expect_column_values_to_be_null", column="n", row_condition="NOT (grp <=> 'A')"),
    ExpectationSpec(type="expect_column_values_to_be_in_set", column="s", kwargs={"value_set": ["x", "y"], "mostly": 0.1}),
    ExpectationSpec(type="expect_column_values_to_be_in_set", column="b", kwargs={"value_set": [True]}),
    ExpectationSpec(type="expect_column_values_to_be_in_set", column="n", kwargs={"value_set": [0, 5]}, row_condition="s <> 'x'"),
    ExpectationSpec(type="expect_column_values_to_not_be_in_set", column="s", kwargs={"value_set": ["z", ""]}),
    ExpectationSpec(type="expect_column_values_to_match_regex", column="s", kwargs={"regex": "^[xy]$"}),
    ExpectationSpec(type="expect_column_values_to_match_regex", column="s", kwargs={"regex": "y"}),  # unanchored: search
    ExpectationSpec(type="expect_column_values_to_not_match_regex", column="s", kwargs={"regex": "^z"}),
    ExpectationSpec(type="expect_column_values_to_be_between", column="n", kwargs={"min_value": 0, "max_value": 10}),
    ExpectationSpec(type="expect_column_values_to_be_between", column="d", kwargs={"min_value": 0, "strict_min": True}),
    ExpectationSpec(type="expect_column_values_to_be_between", column="n", kwargs={"max_value": 5, "strict_max": True}),
    ExpectationSpec(type="expect_column_values_to_be_between", column="x", kwargs={"min_value": 0, "max_value": 100}),
    ExpectationSpec(type="expect_column_value_lengths_to_equal", column="s", kwargs={"value": 1}),
    ExpectationSpec(type="expect_column_value_lengths_to_be_between", column="s", kwargs={"min_value": 1, "max_value": 1}),
    ExpectationSpec(type=UNIQUE, column="k"),
    ExpectationSpec(type=UNIQUE, column="k", row_condition="grp = 'A'", reason="duplicate k in A"),
    ExpectationSpec(type="expect_table_row_count_to_be_between", level="table", kwargs={"min_value": 1}),
)


def predicate_counts(df: DataFrame, specs: tuple[ExpectationSpec, ...], table: str) -> list[int]:
    """Per row spec, how many rows its GE-semantics predicate flags (window first, then sum)."""
    row_specs = [s for s in specs if s.level == "row"]
    flags = df.select(*[unexpected_condition(s, table).cast("int").alias(f"c{i}") for i, s in enumerate(row_specs)])
    got = flags.agg(*[F.sum(f"c{i}").alias(f"c{i}") for i in range(len(row_specs))]).first()
    assert got is not None
    return [int(got[f"c{i}"]) for i in range(len(row_specs))]


def test_every_row_type_is_covered_by_the_parity_specs() -> None:
    assert {s.type for s in PARITY_SPECS if s.level == "row"} == set(ROW_RULES)


def test_predicates_agree_with_ge_unexpected_counts(spark: SparkSession) -> None:
    df = spark.createDataFrame(PARITY_ROWS, PARITY_DDL)
    quality = validate_table(df, "parity", PARITY_SPECS, new_context())
    ge_counts = [e["unexpected_count"] for e in quality.expectations if e["level"] == "row"]
    ours = predicate_counts(df, PARITY_SPECS, "parity")
    detail = [(s.type, s.column, s.row_condition, g, o) for s, g, o in zip(PARITY_SPECS, ge_counts, ours, strict=False)]
    assert ours == ge_counts, detail
    # the data exercises every spec: nothing trivially zero, nothing trivially everything
    assert all(0 < c < len(PARITY_ROWS) for c in ours), detail
    assert quality.expectations[-1]["success"] is True and quality.expectations[-1]["observed_value"] == 10

    # Quarantine differs from GE for unique only: one row per duplicated key is kept.
    # k: k1 x3, k2 x2, k4 x2 -> GE 7 unexpected, quarantine 4; in grp A: k1 x2, k4 x1 -> 2 vs 1
    by_reason = quality.reason_counts
    assert by_reason["duplicate k"] == 4 and ge_counts[-2] == 7
    assert by_reason["duplicate k in A"] == 1 and ge_counts[-1] == 2
    for spec, ge in zip(PARITY_SPECS[:-3], ge_counts[:-2], strict=True):
        assert by_reason[reason_text(spec)] == ge, spec
    # mostly decides success only
    in_set = quality.expectations[4]
    assert in_set["unexpected_count"] > 0 and in_set["success"] is True
    quality.unpersist()
