"""Registration behaviour and outlets (features/outlets.py) on the extended literal world."""

from __future__ import annotations

import dataclasses

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from tests.features.catalogue_literal import CTX, run_group


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
