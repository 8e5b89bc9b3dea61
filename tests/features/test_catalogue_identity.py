"""Identity checks (features/identity_checks.py) on the extended literal world, whole results."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from tests.features.catalogue_literal import run_group


def test_registry_checks(spark: SparkSession) -> None:
    ok = (0, 0, 0, 0, 0, 0)
    expected = spark.createDataFrame(
        [
            ("SIM", "13800000001", *ok),  # opened 1 January, within the 180 days, but the ID is valid
            ("SIM", "13800000002", *ok),
            ("ACCOUNT", "acc-A1", *ok),
            ("SIM", "13900000001", *ok),
            ("SIM", "13900000002", *ok),
            ("ACCOUNT", "acc-B1", *ok),
            ("ACCOUNT", "acc-B2", *ok),
            ("SIM", "13700000001", 1, 0, 0, 0, 0, 1),  # reported lost, opened five days ago
            ("ACCOUNT", "acc-C1", 1, 0, 0, 0, 0, 0),  # lost, but opened long ago
            # D: status 'expired' (dirty case), registry birth date and gender ('m') disagree with the ID
            ("SIM", "13600000001", 0, 0, 1, 1, 1, 1),
            ("SIM", "13600000002", 0, 0, 1, 1, 1, 0),
            ("ACCOUNT", "acc-D1", 0, 0, 1, 1, 1, 1),
            ("SIM", "13500000001", None, None, None, None, None, None),  # not in the registry: unknown
        ],
        "entity_type STRING, entity_id STRING, id_reported_lost INT, id_holder_deceased INT, id_expired INT, "
        "id_birth_mismatch_registry INT, id_gender_mismatch_registry INT, opened_recently_on_invalid_id INT",
    )
    assertDataFrameEqual(run_group(spark, "registry_checks"), expected)
    # A shorter look-back: C's SIM (5 days) still counts, D's new cards (7-8 days) no longer.
    short = run_group(spark, "registry_checks", recent_days=6).select("entity_id", "opened_recently_on_invalid_id")
    assertDataFrameEqual(
        short.where("opened_recently_on_invalid_id = 1"),
        spark.createDataFrame([("13700000001", 1)], "entity_id STRING, opened_recently_on_invalid_id INT"),
    )


def test_id_profile(spark: SparkSession) -> None:
    expected = spark.createDataFrame(
        [
            ("A", 1, 11),
            ("B", 0, 44),
            ("C", 1, 32),
            ("D", 1, 53),  # the registry's 'm' wins over the ID's even sequence digit
            ("E", None, None),  # passport: nothing to parse
        ],
        "id_hash STRING, holder_is_male INT, id_province INT",
    )
    assertDataFrameEqual(run_group(spark, "id_profile"), expected)


def test_usage_vs_id_region(spark: SparkSession) -> None:
    # Only SIMs with domestic traffic: B's and D's new SIMs roam abroad, E's region '3101' is malformed.
    expected = spark.createDataFrame(
        [
            ("SIM", "13800000001", 0, 0),  # a one-day tie between two counties goes to the lower code
            ("SIM", "13700000001", 1, 1),  # C's Jiangsu SIM used in Yunnan
            ("SIM", "13600000002", 0, 1),  # D's home SIM mostly in the next county (530103)
        ],
        "entity_type STRING, entity_id STRING, main_usage_province_not_id INT, main_usage_county_not_outlet INT",
    )
    assertDataFrameEqual(run_group(spark, "usage_vs_id_region"), expected)
