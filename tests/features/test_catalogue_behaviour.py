"""Behaviour against profile and bank devices (features/flows_extra.py) on the extended literal world."""

from __future__ import annotations

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
    expected = spark.createDataFrame(
        [
            ("SIM", "13800000001", 1.0, 1.0, 1.0),
            ("SIM", "13900000001", 61 / 41, 1.0, 1.0),
            ("SIM", "13900000002", 1.0, 1.0, 1.0),
            ("SIM", "13700000001", 1.0, 1.0, 1.0),
            ("SIM", "13600000001", 17.0, 1.0, 1.0),  # 50 calls a day against the band's 2
            ("SIM", "13600000002", 1.0, 2.0, 201.0),
        ],
        "entity_type STRING, entity_id STRING, calls_out_vs_age_band DOUBLE, sms_out_vs_age_band DOUBLE, "
        "data_mb_vs_age_band DOUBLE",
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
