"""validate_table: the clean/quarantine split, reasons, counts, and GE results without values."""

from __future__ import annotations

import json

import pytest
from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from realname_guard.core.config import ExpectationSpec
from realname_guard.quality.expectations import UNIQUE, ExpectationConfigError, reason_text
from realname_guard.quality.validate import REASONS, new_context, validate_table
from tests.quality.conftest import Validated
from tests.quality.data import BANK_CASES, BANK_DDL, PII_STRINGS, SIM_CASES, SIM_DDL
from tests.quality.test_expectations import predicate_counts

CASES = {"sim_registrations": (SIM_CASES, SIM_DDL), "bank_accounts": (BANK_CASES, BANK_DDL)}


@pytest.mark.parametrize("table", sorted(CASES))
def test_split_and_reasons_are_exact(spark: SparkSession, validated: Validated, table: str) -> None:
    cases, ddl = CASES[table]
    quality = validated.results[table]
    expected_clean = spark.createDataFrame([row for row, reasons in cases if not reasons], ddl)
    expected_quarantine = spark.createDataFrame(
        [(*row, reasons) for row, reasons in cases if reasons], f"{ddl}, {REASONS} ARRAY<STRING>"
    )
    assertDataFrameEqual(quality.clean, expected_clean)
    assertDataFrameEqual(quality.quarantine, expected_quarantine)
    # clean + quarantine = input, row for row
    assertDataFrameEqual(quality.clean.unionByName(quality.quarantine.drop(REASONS)), validated.inputs[table])
    assert quality.clean.columns == validated.inputs[table].columns


@pytest.mark.parametrize("table", sorted(CASES))
def test_counts(validated: Validated, table: str) -> None:
    cases, _ = CASES[table]
    quality = validated.results[table]
    bad = [reasons for _, reasons in cases if reasons]
    assert (quality.rows_in, quality.rows_clean, quality.rows_quarantined) == (
        len(cases), len(cases) - len(bad), len(bad)
    )
    assert quality.bad_row_share == pytest.approx(len(bad) / len(cases))
    expected = {reason_text(s): 0 for s in validated.config.tables[table] if s.level == "row"}
    for reasons in bad:
        for reason in reasons:
            expected[reason] += 1
    assert quality.reason_counts == expected


@pytest.mark.parametrize("table", sorted(CASES))
def test_ge_counts_agree_with_predicates_for_shipped_specs(validated: Validated, table: str) -> None:
    specs = validated.config.tables[table]
    quality = validated.results[table]
    ge = [e for e in quality.expectations if e["level"] == "row"]
    ours = predicate_counts(validated.inputs[table], specs, table)
    assert [e["unexpected_count"] for e in ge] == ours
    row_specs = [s for s in specs if s.level == "row"]
    for spec, entry in zip(row_specs, ge, strict=True):
        assert (entry["type"], entry["column"]) == (spec.type, spec.column)
        assert entry["success"] is (entry["unexpected_count"] == 0)
        if spec.type != UNIQUE:
            assert quality.reason_counts[reason_text(spec)] == entry["unexpected_count"]
        else:  # GE flags both rows of the single duplicated pair; the quarantine one of them
            assert (entry["unexpected_count"], quality.reason_counts[reason_text(spec)]) in ((2, 1), (4, 2))
    (row_count,) = [e for e in quality.expectations if e["level"] == "table"]
    assert row_count["success"] is True and row_count["observed_value"] == quality.rows_in
    assert quality.ge_success is False  # the literal data breaks several expectations


def test_results_hold_counts_only(validated: Validated) -> None:
    allowed = {
        "type", "column", "level", "row_condition", "reason", "success",
        "element_count", "unexpected_count", "unexpected_percent", "missing_count", "observed_value",
    }
    for quality in validated.results.values():
        summary = quality.summary()
        for entry in summary["expectations"]:
            assert set(entry) == allowed
        text = json.dumps(summary, ensure_ascii=False)
        assert not [s for s in PII_STRINGS if s in text]
    # nor in what GE stored for Data Docs
    store = validated.context.validation_results_store
    stored = json.dumps([store.get(k).to_json_dict() for k in store.list_keys()], ensure_ascii=False)
    assert "partial_unexpected" not in stored and "unexpected_list" not in stored
    assert not [s for s in PII_STRINGS if s in stored]


def test_unknown_column_fails_naming_table_and_column(spark: SparkSession) -> None:
    df = spark.createDataFrame([("1",)], "a STRING")
    spec = ExpectationSpec(type="expect_column_values_to_not_be_null", column="msisdn")
    with pytest.raises(ExpectationConfigError, match="'sim_activity'.*'msisdn'"):
        validate_table(df, "sim_activity", (spec,), new_context())
    cond = ExpectationSpec(type="expect_column_values_to_not_be_null", column="a", row_condition="nope = 1")
    with pytest.raises(ExpectationConfigError, match="'sim_activity'.*row_condition 'nope = 1'"):
        validate_table(df, "sim_activity", (cond,), new_context())
