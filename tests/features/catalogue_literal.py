"""The literal world of tests/features/literal.py, extended for the catalogue groups (issue 4).

Added, on top of holders A, B and C:

- C also holds an old counter account under a name with another surname (赵芳 vs 王芳).
- D (Yunnan, born 1990-07-15, a woman by the ID number): the registry disagrees on birth date and
  gender and says ``expired`` (dirty lower case). An old SIM at home, used in two counties; a new
  SIM at B's agent outlet o9, registered as 陳 靜 (traditional and a space: honestly 陈静), roaming
  in Cambodia (``kh``, dirty lower case) in B's SIM box five days later; an account opened in
  Guangdong under 陈敬 (one character off) on B's device, reserving B's second SIM, confirmed misuse.
- E: a passport holder (nothing parsed, not in the registry, no name), one online SIM in the SIM
  box in Thailand and a malformed cell region; E is confirmed misuse as a PERSON.
- Labels: D's old SIM confirmed then cleared (the latest, a 0, wins); one label after the as-of date.

Names are given raw and normalised with ``normalise_name``, as ingest does.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from realname_guard.core.names import normalise_name
from realname_guard.core.tables import Tables
from realname_guard.features.common import as_of_view
from realname_guard.features.registry import FeatureContext, registry
from tests.features.literal import (
    ACCOUNTS_DDL,
    ACTIVITY_DDL,
    AS_OF,
    LABELS_DDL,
    REGISTRY_DDL,
    SIMS_DDL,
    TXNS_DDL,
    d,
    ts,
    world,
)

BORN_D = dt.date(1990, 7, 15)


def _normalised(spark: SparkSession, rows: list[tuple[Any, ...]], ddl: str) -> DataFrame:
    df = spark.createDataFrame(rows, ddl)
    return df.withColumn("name_norm", normalise_name(F.col("name_norm")))


def extra_sims(spark: SparkSession) -> DataFrame:
    return _normalised(
        spark,
        [
            ("13600000001", "MVNO01", "RESIDENT_ID", "D", "5301**44", BORN_D, "F", "530102", "陳 靜", ts(22),
             "AGENT", "o9", "530102", False, "ACTIVE", None),
            ("13600000002", "MVNO01", "RESIDENT_ID", "D", "5301**44", BORN_D, "F", "530102", "陈静",
             dt.datetime(2025, 11, 1, 10), "STORE", "o3", "530102", True, "ACTIVE", None),
            ("13500000001", "MVNO01", "PASSPORT", "E", "E1******", None, None, None, None, ts(10),
             "ONLINE", None, "310101", True, "ACTIVE", None),
        ],
        SIMS_DDL,
    )


def extended_world(spark: SparkSession) -> Tables:
    t = world(spark)
    accounts = _normalised(
        spark,
        [
            ("acc-C1", "PSBC", "RESIDENT_ID", "C", "3201**33", dt.date(1950, 1, 1), "M", "320102", "赵芳",
             dt.datetime(2025, 3, 1, 10), "b7", "320102", "COUNTER", "I", None, None, "ACTIVE", None),
            ("acc-D1", "CCB", "RESIDENT_ID", "D", "5301**44", BORN_D, "F", "530102", "陈敬", ts(23),
             "b9", "440106", "AGENT", "II", "13900000002", "dev1", "ACTIVE", None),
        ],
        ACCOUNTS_DDL,
    )
    activity = spark.createDataFrame(
        [
            ("13600000001", d(27), "box1", "ABROAD", "kh", 50, 0, 1400, 48, 0, 0, 0.0),
            ("13600000002", d(27), "imeiD", "530102", None, 3, 4, 300, 3, 1, 1, 200.0),
            ("13600000002", d(28), "imeiD", "530103", None, 2, 2, 200, 2, 0, 1, 100.0),
            ("13600000002", d(29), "imeiD", "530103", None, 1, 3, 100, 1, 2, 0, 300.0),
            ("13500000001", d(26), None, "3101", None, 0, 1, 0, 0, 0, 0, 5.0),
            ("13500000001", d(27), "box1", "ABROAD", "TH", 30, 0, 900, 30, 0, 0, 0.0),
        ],
        ACTIVITY_DDL,
    )
    txns = spark.createDataFrame(
        [
            ("t6", "acc-D1", ts(24, 1), Decimal("1000"), "IN", "x6", "MOBILE", "dev1", "ABROAD"),
            ("t7", "acc-D1", ts(24, 3), Decimal("990"), "OUT", "x7", "MOBILE", "dev1", None),
        ],
        TXNS_DDL,
    )
    registry = _normalised(spark, [("D", "陈静", dt.date(1990, 7, 16), "m", "530102", "expired")], REGISTRY_DDL)
    labels = spark.createDataFrame(
        [
            ("ACCOUNT", "acc-D1", 1, ts(28), "COMPLAINT"),
            ("PERSON", "E", 1, ts(29), "POLICE_NOTICE"),
            ("SIM", "13600000002", 1, ts(10), "COMPLAINT"),
            ("SIM", "13600000002", 0, ts(20), "REVERIFY_PASSED"),
            ("SIM", "13600000001", 1, ts(3, month=7), "POLICE_NOTICE"),
        ],
        LABELS_DDL,
    )
    return Tables(
        sims=t.sims.unionByName(extra_sims(spark)),
        accounts=t.accounts.unionByName(accounts),
        activity=t.get("activity").unionByName(activity),
        transactions=t.get("transactions").unionByName(txns),
        registry=t.get("registry").unionByName(registry),
        labels=t.get("labels").unionByName(labels),
    )


CTX = FeatureContext(as_of=AS_OF, activity_window_days=30)


def run_group(spark: SparkSession, name: str, ctx: FeatureContext = CTX, **params: Any) -> DataFrame:
    """One registered group on the as-of view of the extended world."""
    return registry()[name].fn(as_of_view(extended_world(spark), ctx), ctx, **params)
