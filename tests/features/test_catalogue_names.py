"""Name matching across registries (features/names.py) on the extended literal world."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from tests.features.catalogue_literal import run_group


def test_registry_name_detail(spark: SparkSession) -> None:
    same = (0, 0, 0)
    expected = spark.createDataFrame(
        [
            ("SIM", "13800000001", *same),
            ("SIM", "13800000002", *same),
            ("ACCOUNT", "acc-A1", *same),
            ("SIM", "13900000001", *same),
            ("SIM", "13900000002", *same),
            ("ACCOUNT", "acc-B1", *same),
            ("ACCOUNT", "acc-B2", 1, 0, 1),  # 李那 vs 李娜
            ("SIM", "13700000001", *same),
            ("ACCOUNT", "acc-C1", 0, 1, 1),  # 赵芳 vs 王芳: another surname, also one character
            ("SIM", "13600000001", *same),  # registered as 陳 靜: traditional and a space, honestly 陈静
            ("SIM", "13600000002", *same),
            ("ACCOUNT", "acc-D1", 1, 0, 1),  # 陈敬 vs 陈静
            ("SIM", "13500000001", None, None, None),  # no name, no registry record
        ],
        "entity_type STRING, entity_id STRING, name_given_differs_registry INT, name_surname_differs_registry INT, "
        "name_one_char_off_registry INT",
    )
    assertDataFrameEqual(run_group(spark, "registry_name_detail"), expected)


def test_cross_registry_names(spark: SparkSession) -> None:
    # E has no name and no account: no row (unknown). The traditional 陳 靜 matches 陈静 elsewhere.
    expected = spark.createDataFrame(
        [
            ("SIM", "13800000001", 0.0, 0),
            ("SIM", "13800000002", 0.0, 0),
            ("ACCOUNT", "acc-A1", 0.0, 0),
            ("SIM", "13900000001", 0.5, 1),  # B's accounts: 李娜 and 李那
            ("SIM", "13900000002", 0.5, 1),
            ("ACCOUNT", "acc-B1", 0.0, 0),
            ("ACCOUNT", "acc-B2", 1.0, 1),
            ("SIM", "13700000001", 1.0, 1),
            ("ACCOUNT", "acc-C1", 1.0, 1),
            ("SIM", "13600000001", 1.0, 1),
            ("SIM", "13600000002", 1.0, 1),
            ("ACCOUNT", "acc-D1", 1.0, 1),
        ],
        "entity_type STRING, entity_id STRING, cross_registry_name_mismatch_share DOUBLE, "
        "cross_registry_one_char_off INT",
    )
    assertDataFrameEqual(run_group(spark, "cross_registry_names"), expected)
