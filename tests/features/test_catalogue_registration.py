"""Registration behaviour and outlets (features/outlets.py) on the extended literal world."""

from __future__ import annotations

import dataclasses
import datetime as dt

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from realname_guard.features.common import as_of_view
from realname_guard.features.registry import registry
from tests.features.catalogue_literal import CTX, extended_world, run_group
from tests.features.literal import ACCOUNTS_DDL, SIMS_DDL, ts


def test_registration_limits(spark: SparkSession) -> None:
    # MVNO01 allows one SIM per ID here, and one SIM in total: D (two MVNO01 SIMs) is over both.
    expected = spark.createDataFrame(
        [
            ("SIM", "13800000001", 0, 1, 0, 0),  # A's account a month later: 31 days, outside 30
            ("SIM", "13800000002", 0, 1, 0, 1),
            ("ACCOUNT", "acc-A1", None, None, 0, 1),
            ("SIM", "13900000001", 0, 1, 1, 3),  # exactly 24 h to the next SIM counts
            ("SIM", "13900000002", 0, 1, 2, 3),
            ("ACCOUNT", "acc-B1", None, None, 2, 3),
            ("ACCOUNT", "acc-B2", None, None, 1, 3),  # 26 h after B's second SIM
            ("SIM", "13700000001", 0, 0, 0, 0),
            ("ACCOUNT", "acc-C1", None, None, 0, 0),
            ("SIM", "13600000001", 1, 1, 1, 1),
            ("SIM", "13600000002", 1, 1, 0, 0),
            ("ACCOUNT", "acc-D1", None, None, 1, 1),
            ("SIM", "13500000001", 0, 0, 0, 0),
        ],
        "entity_type STRING, entity_id STRING, sims_over_operator_limit LONG, sims_over_total_limit LONG, "
        "cards_opened_within_1d LONG, cards_opened_within_30d LONG",
    )
    # The limits are the policy's, handed to every group in the feature context.
    limits = dataclasses.replace(CTX, sims_per_operator_limit_overrides={"MVNO01": 1}, sims_total_limit=1)
    got = run_group(spark, "registration_limits", limits)
    assertDataFrameEqual(got, expected)


def _holder_sims(spark: SparkSession, holder: str, operator: str, cancelled: list[dt.datetime | None]):  # type: ignore[no-untyped-def]
    """One SIM per entry of `cancelled` for `holder` at `operator`, cancelled then (None: active)."""
    rows = [
        (f"1{ord(holder):03d}{i:07d}", operator, "RESIDENT_ID", holder, "1101**", dt.date(1990, 1, 1), "M", "110105",
         "x", ts(1, month=2), "STORE", "o1", "110105", True, "ACTIVE" if c is None else "CANCELLED", c)
        for i, c in enumerate(cancelled)
    ]
    return spark.createDataFrame(rows, SIMS_DDL)


def test_a_cancelled_sim_no_longer_counts_toward_the_limit(spark: SparkSession) -> None:
    """一证五户 counts the numbers an ID holds: F had six at CMCC and cancelled two before the run date,
    one after it (still held then); G holds all six."""
    f = _holder_sims(spark, "F", "CMCC", [None, None, None, ts(1, month=5), ts(2, month=5), ts(3, month=7)])
    g = _holder_sims(spark, "G", "CMCC", [None] * 6)
    t = extended_world(spark)
    t = t.with_(sims=t.sims.unionByName(f).unionByName(g))
    got = registry()["registration_limits"].fn(as_of_view(t, CTX), CTX).where(F.col("entity_id").startswith("10"))
    over = {r["entity_id"]: (r["sims_over_operator_limit"], r["sims_over_total_limit"]) for r in got.collect()}
    assert {v for k, v in over.items() if k.startswith("1070")} == {(0, 0)}  # F: 4 held, at the limit of 5
    assert {v for k, v in over.items() if k.startswith("1071")} == {(1, 0)}  # G: 6 held, one over; 6 <= 10


def test_class_i_accounts_over_the_bank_limit(spark: SparkSession) -> None:
    """一人一行一类户: H holds two open Class-I accounts at ICBC (one over), a closed one there and a
    Class-II one (neither counts), and one Class-I account at another bank."""
    def account(aid: str, bank: str, cls: str, status: str = "ACTIVE", closed: dt.datetime | None = None) -> tuple:
        return (aid, bank, "RESIDENT_ID", "H", "1101**", dt.date(1990, 1, 1), "M", "110105", "x",
                ts(1, month=3), "b1", "110105", "COUNTER", cls, None, None, status, closed)

    extra = spark.createDataFrame(
        [account("h1", "ICBC", "I"), account("h2", "ICBC", "I"), account("h3", "ICBC", "I", "CLOSED", ts(1, month=4)),
         account("h4", "ICBC", "II"), account("h5", "CCB", "I")],
        ACCOUNTS_DDL,
    )
    t = extended_world(spark)
    t = t.with_(accounts=t.accounts.unionByName(extra))
    got = registry()["account_limits"].fn(as_of_view(t, CTX), CTX)
    expected = spark.createDataFrame(
        [("ACCOUNT", a, v) for a, v in (("h1", 1), ("h2", 1), ("h3", 1), ("h4", 0), ("h5", 0), ("acc-A1", 0),
                                        ("acc-B1", 0), ("acc-B2", 0), ("acc-C1", 0), ("acc-D1", 0))],
        "entity_type STRING, entity_id STRING, class_i_over_bank_limit LONG",
    )
    assertDataFrameEqual(got, expected, checkRowOrder=False)


def test_holder_channels(spark: SparkSession) -> None:
    expected = spark.createDataFrame(
        [("A", 0.0, 0.0), ("B", 1.0, 0.5), ("C", 1.0, 0.5), ("D", 0.5, 2 / 3), ("E", 0.0, 0.0)],
        "id_hash STRING, holder_noface_sim_share DOUBLE, holder_agent_card_share DOUBLE",
    )
    assertDataFrameEqual(run_group(spark, "holder_channels"), expected)


BATCH_DDL = (
    "entity_type STRING, entity_id STRING, site_window_ids LONG, site_window_noface_ids LONG, "
    "site_window_elderly_ids LONG"
)


def test_site_batches(spark: SparkSession) -> None:
    # Remote openings (B's accounts, E's online SIM) have no site and no row.
    rows = [
        ("SIM", "13800000001", 1, 0, 1),  # A is 65 at every opening
        ("SIM", "13800000002", 1, 0, 1),
        ("ACCOUNT", "acc-A1", 1, 0, 1),
        ("SIM", "13700000001", 1, 1, 1),  # face check unknown counts as none
        ("ACCOUNT", "acc-C1", 1, 0, 1),
        ("SIM", "13600000002", 1, 0, 0),
        ("ACCOUNT", "acc-D1", 1, 0, 0),
    ]
    # Outlet o9: B on 20 and 21 June, D on 22 June, all without face check.
    week = [("SIM", "13900000001", 2, 2, 0), ("SIM", "13900000002", 2, 2, 0), ("SIM", "13600000001", 2, 2, 0)]
    assertDataFrameEqual(run_group(spark, "site_batches"), spark.createDataFrame(rows + week, BATCH_DDL))
    day = [("SIM", "13900000001", 1, 1, 0), ("SIM", "13900000002", 2, 2, 0), ("SIM", "13600000001", 2, 2, 0)]
    assertDataFrameEqual(
        run_group(spark, "site_batches", window_days=1), spark.createDataFrame(rows + day, BATCH_DDL)
    )


def test_site_misuse_leaves_own_label_out(spark: SparkSession) -> None:
    # o9 holds B's confirmed SIM and two others; acc-D1's own confirmation does not count for its branch;
    # D's old SIM was confirmed and then cleared (latest wins); the 3 July label is not known yet.
    expected = spark.createDataFrame(
        [
            ("SIM", "13800000001", 0, None),
            ("SIM", "13800000002", 0, None),
            ("ACCOUNT", "acc-A1", 0, None),
            ("SIM", "13900000001", 0, 0.0),
            ("SIM", "13900000002", 1, 0.5),
            ("SIM", "13700000001", 0, None),
            ("ACCOUNT", "acc-C1", 0, None),
            ("SIM", "13600000001", 1, 0.5),
            ("SIM", "13600000002", 0, None),
            ("ACCOUNT", "acc-D1", 0, None),
        ],
        "entity_type STRING, entity_id STRING, site_confirmed_misuse LONG, site_misuse_share DOUBLE",
    )
    assertDataFrameEqual(run_group(spark, "site_misuse"), expected)


def test_site_vs_usage(spark: SparkSession) -> None:
    expected = spark.createDataFrame(
        [
            ("SIM", "13800000001", None),  # A's only used SIM is this one: nothing else to compare
            ("SIM", "13800000002", 0),
            ("ACCOUNT", "acc-A1", 0),
            ("SIM", "13900000001", None),  # B's SIMs are used abroad only
            ("SIM", "13900000002", None),
            ("ACCOUNT", "acc-B1", None),
            ("ACCOUNT", "acc-B2", None),
            ("SIM", "13700000001", None),
            ("ACCOUNT", "acc-C1", 1),  # C's SIM lives in Yunnan; the account is in Jiangsu
            ("SIM", "13600000001", 0),
            ("SIM", "13600000002", None),
            ("ACCOUNT", "acc-D1", 1),  # opened in Guangdong, D's own SIM lives in Yunnan
            ("SIM", "13500000001", None),
        ],
        "entity_type STRING, entity_id STRING, site_far_from_holder_usage INT",
    )
    assertDataFrameEqual(run_group(spark, "site_vs_usage"), expected)
