"""Declared transformations of a labelled table's columns, on literal rows with nulls."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from realname_guard.core.datasets import Derived
from realname_guard.features.declared import derived_columns


def test_every_op_on_literal_rows(spark: SparkSession) -> None:
    rows = [
        ("a", 1.0, 2.0, 3.0, 4.0),  # a clean rising series
        ("b", 6.0, None, 2.0, 0.0),  # a missing month; a zero denominator
        ("c", None, None, 5.0, None),  # one value only
        ("d", None, None, None, None),
    ]
    df = spark.createDataFrame(rows, "k string, m1 double, m2 double, m3 double, m4 double")
    derived = [
        Derived(name="r", op="ratio", columns=("m3", "m4")),
        Derived(name="d", op="difference", columns=("m3", "m1")),
        Derived(name="mean", op="mean", columns=("m1", "m2", "m3")),
        Derived(name="sd", op="stddev", columns=("m1", "m2", "m3")),
        Derived(name="slope", op="slope", columns=("m1", "m2", "m3")),
        Derived(name="last_missing", op="is_null", columns=("m4",)),
        Derived(name="missing", op="count_null", columns=("m1", "m2", "m3", "m4")),
    ]
    got = df.select("k", *derived_columns(derived))
    expected = spark.createDataFrame(
        [
            ("a", 0.75, 2.0, 2.0, 1.0, 1.0, 0.0, 0.0),
            # m1=6 at 0, m3=2 at 2: mean 4, sample sd sqrt(8), slope -2 per step
            ("b", None, -4.0, 4.0, 8.0**0.5, -2.0, 0.0, 1.0),
            ("c", None, None, 5.0, None, None, 1.0, 3.0),
            ("d", None, None, None, None, None, 1.0, 4.0),
        ],
        "k string, r double, d double, mean double, sd double, slope double, last_missing double, missing double",
    )
    assertDataFrameEqual(got, expected, checkRowOrder=False, rtol=1e-9)
