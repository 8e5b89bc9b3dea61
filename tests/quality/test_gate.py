"""The quality gate: past the (per-table) threshold, or a failed table-level expectation, stops the run."""

from __future__ import annotations

from typing import Any, cast

import pytest

from realname_guard.core.config import QualityConfig
from realname_guard.quality.gate import DataQualityError, check_quality, threshold_for
from realname_guard.quality.validate import TableQuality


def tq(table: str, rows_in: int, bad: int, reasons: dict[str, int], table_ok: bool = True) -> TableQuality:
    """A TableQuality with counts only (the gate never touches the frames)."""
    expectations = [
        {"type": "expect_table_row_count_to_be_between", "column": None, "level": "table",
         "reason": f"{table} is empty", "success": table_ok, "observed_value": rows_in},
    ]
    frame = cast(Any, None)
    return TableQuality(table, frame, frame, rows_in, rows_in - bad, bad, reasons, expectations, bad == 0)


CONFIG = QualityConfig(max_bad_row_share=0.05, max_bad_row_share_per_table={"sim_activity": 0.2})


def test_within_threshold_passes() -> None:
    check_quality(
        {
            "sim_registrations": tq("sim_registrations", 100, 5, {"duplicate msisdn": 5}),  # exactly 5 %
            "sim_activity": tq("sim_activity", 10, 2, {"msisdn: is null": 2}),  # 20 % allowed here
            "labels": tq("labels", 0, 0, {}),  # optional table, empty: share 0
        },
        CONFIG,
    )
    check_quality([], CONFIG)


def test_past_threshold_raises_naming_table_share_and_top_reasons() -> None:
    reasons = {"msisdn: is null": 3, "duplicate msisdn": 7, "status: is null": 1, "operator: bad": 2, "x": 0}
    with pytest.raises(DataQualityError) as err:
        check_quality([tq("sim_registrations", 100, 12, reasons), tq("bank_accounts", 10, 0, {})], CONFIG)
    message = str(err.value)
    assert "'sim_registrations'" in message and "12.00%" in message and "5.00%" in message
    assert "top reasons: duplicate msisdn (7); msisdn: is null (3); operator: bad (2)" in message
    assert "status: is null" not in message and "bank_accounts" not in message


def test_per_table_override_and_all_failures_in_one_message() -> None:
    assert threshold_for("sim_activity", CONFIG) == 0.2 and threshold_for("labels", CONFIG) == 0.05
    with pytest.raises(DataQualityError) as err:
        check_quality(
            [tq("sim_activity", 10, 3, {"day: is null": 3}), tq("labels", 10, 1, {"label: not in {0, 1}": 1})],
            CONFIG,
        )
    assert "'sim_activity': 30.00%" in str(err.value) and "'labels': 10.00%" in str(err.value)


def test_failed_table_expectation_raises() -> None:
    with pytest.raises(DataQualityError, match="'bank_accounts'.*bank_accounts is empty.*observed 0"):
        check_quality([tq("bank_accounts", 0, 0, {}, table_ok=False)], CONFIG)


def test_empty_required_table_fails_the_gate_end_to_end(spark: Any) -> None:
    from realname_guard.core.config import ExpectationSpec
    from realname_guard.quality.validate import new_context, validate_table
    from tests.quality.data import BANK_DDL

    specs = (
        ExpectationSpec(type="expect_column_values_to_not_be_null", column="account_id"),
        ExpectationSpec(type="expect_column_values_to_be_unique", column="account_id"),
        ExpectationSpec(
            type="expect_table_row_count_to_be_between", level="table", kwargs={"min_value": 1},
            reason="bank_accounts is empty",
        ),
    )
    quality = validate_table(spark.createDataFrame([], BANK_DDL), "bank_accounts", specs, new_context())
    assert (quality.rows_in, quality.rows_quarantined, quality.bad_row_share) == (0, 0, 0.0)
    assert quality.reason_counts == {"account_id: is null": 0, "duplicate account_id": 0}
    with pytest.raises(DataQualityError, match="'bank_accounts': table-level expectation failed: bank_accounts is empty"):
        check_quality([quality], CONFIG)
