"""Behaviour against profile and bank devices (features/flows_extra.py) on the extended literal world."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from tests.features.catalogue_literal import run_group

ROAM_DDL = "entity_type STRING, entity_id STRING, border_roaming_days_after_reg LONG, days_reg_to_abroad INT"


def test_border_roaming(spark: SparkSession) -> None:
    expected = spark.createDataFrame(
        [
            ("SIM", "13800000001", 0, None),
            ("SIM", "13900000001", 1, 8),  # Myanmar 8 days after registration
            ("SIM", "13900000002", 1, 7),
            ("SIM", "13700000001", 0, None),
            ("SIM", "13600000001", 1, 5),  # 'kh' in lower case is Cambodia
            ("SIM", "13600000002", 0, None),
            ("SIM", "13500000001", 1, 17),  # Thailand; the malformed region '3101' is not abroad
        ],
        ROAM_DDL,
    )
    assertDataFrameEqual(run_group(spark, "border_roaming"), expected)
    narrow = spark.createDataFrame(
        [
            ("SIM", "13800000001", 0, None),
            ("SIM", "13900000001", 0, 8),
            ("SIM", "13900000002", 1, 7),
            ("SIM", "13700000001", 0, None),
            ("SIM", "13600000001", 0, 5),
            ("SIM", "13600000002", 0, None),
            ("SIM", "13500000001", 0, 17),
        ],
        ROAM_DDL,
    )
    got = run_group(spark, "border_roaming", days_after_registration=7, countries=["mm"])
    assertDataFrameEqual(got, narrow)


def test_age_intensity(spark: SparkSession) -> None:
    # Bands on the run date: A 60s, B 20s, C 70s, D 30s (registry birth date); E has no age: no row.
    # A band's median is an element of the band (the lower one of two), smoothed as (x+1)/(median+1).
    # Away from home: B's two SIMs abroad (neither is farther than the other), C's in Yunnan against a
    # Jiangsu home (alone in its band), D's new SIM in Cambodia (farther than 1 of D's band's 2); at home: 0.
    expected = spark.createDataFrame(
        [
            ("SIM", "13800000001", 1.0, 1.0, 1.0, 0.0),
            ("SIM", "13900000001", 61 / 41, 1.0, 1.0, 0.0),
            ("SIM", "13900000002", 1.0, 1.0, 1.0, 0.0),
            ("SIM", "13700000001", 1.0, 1.0, 1.0, 0.0),
            ("SIM", "13600000001", 17.0, 1.0, 1.0, 0.5),  # 50 calls a day against the band's 2
            ("SIM", "13600000002", 1.0, 2.0, 201.0, 0.0),
        ],
        "entity_type STRING, entity_id STRING, calls_out_vs_age_band DOUBLE, sms_out_vs_age_band DOUBLE, "
        "data_mb_vs_age_band DOUBLE, away_vs_age_band DOUBLE",
    )
    assertDataFrameEqual(run_group(spark, "age_intensity"), expected)


def test_txn_devices(spark: SparkSession) -> None:
    expected = spark.createDataFrame(
        [
            ("ACCOUNT", "acc-A1", None, None, 0),  # no device, no IP region: unknown, not zero
            ("ACCOUNT", "acc-B1", 2, 0.0, 0),  # dev1 also opened and moved money for D
            ("ACCOUNT", "acc-D1", 2, 1.0, 1),  # one of two IP regions known, and it is abroad
        ],
        "entity_type STRING, entity_id STRING, txn_device_max_ids LONG, txn_abroad_share DOUBLE, "
        "txn_abroad_days LONG",
    )
    assertDataFrameEqual(run_group(spark, "txn_devices"), expected)


@pytest.mark.parametrize("own_phone", [False, True])
def test_holder_devices(spark: SparkSession, own_phone: bool) -> None:
    from realname_guard.features.common import as_of_view
    from realname_guard.features.registry import registry
    from tests.features.catalogue_literal import CTX, extended_world
    from tests.features.literal import TXNS_DDL, ts

    t = extended_world(spark)
    # B's accounts were both opened on dev1, which also opened and moves money for D: dev1 is nobody's
    # own. B2 now moves money from dev9 (twice) and dev1 (once); C's one account uses dev7.
    rows = [
        ("t8", "acc-B2", ts(26, 1), Decimal("800"), "IN", "x8", "MOBILE", "dev9", "440106"),
        ("t9", "acc-B2", ts(26, 2), Decimal("790"), "OUT", "x9", "MOBILE", "dev9", "440106"),
        ("t10", "acc-B2", ts(26, 3), Decimal("5"), "OUT", "x10", "MOBILE", "dev1", "440106"),
        ("t11", "acc-C1", ts(26, 3), Decimal("5"), "OUT", "x11", "MOBILE", "dev7", "320102"),
    ]
    if own_phone:  # B's own phone dev5 moves money for both of B's accounts and for nobody else
        rows += [
            ("t12", "acc-B1", ts(27, 1), Decimal("6"), "OUT", "x12", "MOBILE", "dev5", "440106"),
            ("t13", "acc-B2", ts(27, 2), Decimal("7"), "OUT", "x13", "MOBILE", "dev5", "440106"),
        ]
    t = t.with_(transactions=t.get("transactions").unionByName(spark.createDataFrame(rows, TXNS_DDL)))
    got = registry()["holder_devices"].fn(as_of_view(t, CTX), CTX)
    expected = spark.createDataFrame(
        [
            # Without dev5, B has no device of their own: dev9 against dev1 says nothing about which of
            # the two accounts is the odd one (both would look foreign to each other).
            ("ACCOUNT", "acc-B1", 4 / 5 if own_phone else None),  # four on dev1 (D's too), one on dev5
            ("ACCOUNT", "acc-B2", 3 / 4 if own_phone else None),  # dev9 twice, dev1 once, dev5 once
            ("ACCOUNT", "acc-C1", None),  # C has one account: no device on two of C's accounts
            ("ACCOUNT", "acc-D1", None),  # D has one account, on dev1, which B uses too
        ],
        "entity_type STRING, entity_id STRING, txn_device_not_own_share DOUBLE",
    )
    assertDataFrameEqual(got, expected)
