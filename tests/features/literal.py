"""Tiny literal tables in the post-ingest shape (de-identified), for feature and policy tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyspark.sql import SparkSession

from realname_guard.core.tables import Tables

SIMS_DDL = (
    "msisdn STRING, operator STRING, id_type STRING, id_hash STRING, id_masked STRING, id_birth_date DATE, "
    "id_gender STRING, id_region STRING, name_norm STRING, reg_time TIMESTAMP, channel STRING, outlet_id STRING, "
    "outlet_region STRING, face_verified BOOLEAN, status STRING, cancel_time TIMESTAMP"
)
ACCOUNTS_DDL = (
    "account_id STRING, bank_code STRING, id_type STRING, id_hash STRING, id_masked STRING, id_birth_date DATE, "
    "id_gender STRING, id_region STRING, name_norm STRING, open_time TIMESTAMP, branch_id STRING, "
    "branch_region STRING, channel STRING, account_class STRING, reserved_msisdn STRING, open_device_id STRING, "
    "status STRING, close_time TIMESTAMP"
)
ACTIVITY_DDL = (
    "msisdn STRING, day DATE, imei STRING, cell_region STRING, roam_country STRING, calls_out INT, calls_in INT, "
    "call_out_seconds BIGINT, distinct_callees INT, sms_out INT, sms_in INT, data_mb DOUBLE"
)
TXNS_DDL = (
    "txn_id STRING, account_id STRING, ts TIMESTAMP, amount DECIMAL(18,2), direction STRING, "
    "counterparty_account STRING, channel STRING, device_id STRING, ip_region STRING"
)
REGISTRY_DDL = "id_hash STRING, name_norm STRING, birth_date DATE, gender STRING, hukou_region STRING, id_status STRING"
LABELS_DDL = "entity_type STRING, entity_id STRING, label INT, label_time TIMESTAMP, source STRING"

AS_OF = dt.date(2026, 6, 30)


def ts(day: int, hour: int = 10, month: int = 6) -> dt.datetime:
    return dt.datetime(2026, month, day, hour)


def d(day: int, month: int = 6) -> dt.date:
    return dt.date(2026, month, day)


def world(spark: SparkSession) -> Tables:
    """Holder A (Beijing, 1960): two SIMs, one account. Holder B (Guangdong, 2001): farmer-like
    burst at an agent in Yunnan, no face check. Holder C: elderly (1950), registry says lost."""
    born_a, born_b, born_c = dt.date(1960, 5, 1), dt.date(2001, 2, 3), dt.date(1950, 1, 1)
    sims = spark.createDataFrame(
        [
            ("13800000001", "CMCC", "RESIDENT_ID", "A", "1101**2X", born_a, "M", "110105", "张伟", ts(1, month=1),
             "STORE", "o1", "110105", True, "ACTIVE", None),
            ("13800000002", "CUCC", "RESIDENT_ID", "A", "1101**2X", born_a, "M", "110105", "张伟", ts(1, month=3),
             "STORE", "o2", "110105", True, "ACTIVE", None),
            ("13900000001", "CMCC", "RESIDENT_ID", "B", "4401**11", born_b, "F", "440106", "李娜", ts(20),
             "AGENT", "o9", "530102", False, "ACTIVE", None),
            ("13900000002", "CMCC", "RESIDENT_ID", "B", "4401**11", born_b, "F", "440106", "李娜", ts(21),
             "AGENT", "o9", "530102", False, "ACTIVE", None),
            ("13700000001", "CTCC", "RESIDENT_ID", "C", "3201**33", born_c, "M", "320102", "王芳", ts(25),
             "AGENT", "o7", "320102", None, "CANCELLED", ts(29)),
        ],
        SIMS_DDL,
    )
    accounts = spark.createDataFrame(
        [
            ("acc-A1", "ICBC", "RESIDENT_ID", "A", "1101**2X", born_a, "M", "110105", "张伟", ts(1, month=2),
             "b1", "110105", "COUNTER", "I", "13800000001", None, "ACTIVE", None),
            ("acc-B1", "ABC", "RESIDENT_ID", "B", "4401**11", born_b, "F", "440106", "李娜", ts(22),
             None, "440106", "MOBILE_APP", "II", "13800000001", "dev1", "ACTIVE", None),
            ("acc-B2", "BOC", "RESIDENT_ID", "B", "4401**11", born_b, "F", "440106", "李那", ts(22, 12),
             None, "440106", "MOBILE_APP", "II", None, "dev1", "ACTIVE", None),
        ],
        ACCOUNTS_DDL,
    )
    activity = spark.createDataFrame(
        [
            ("13800000001", d(28), "imeiA", "110105", None, 4, 5, 400, 3, 1, 2, 100.0),
            ("13800000001", d(29), "imeiA", "110108", None, 2, 3, 200, 2, 0, 1, 50.0),
            ("13900000001", d(28), "box1", "ABROAD", "MM", 60, 0, 1800, 55, 0, 0, 0.0),
            ("13900000002", d(28), "box1", "ABROAD", "MM", 40, 2, 1000, 40, 0, 0, 0.0),
            ("13700000001", d(26), "box1", "530102", None, 10, 0, 300, 9, 0, 0, 1.0),
        ],
        ACTIVITY_DDL,
    )
    txns = spark.createDataFrame(
        [
            ("t1", "acc-B1", ts(23, 1), Decimal("5000"), "IN", "x1", "MOBILE", "dev1", "440106"),
            ("t2", "acc-B1", ts(23, 3), Decimal("4990"), "OUT", "x2", "MOBILE", "dev1", "440106"),
            ("t3", "acc-B1", ts(24, 14), Decimal("3000"), "IN", "x3", "MOBILE", "dev1", "440106"),
            ("t4", "acc-B1", ts(27, 14), Decimal("2000"), "OUT", "x4", "MOBILE", "dev1", "440106"),
            ("t5", "acc-A1", ts(2, 12), Decimal("100"), "IN", None, "COUNTER", None, None),
        ],
        TXNS_DDL,
    )
    registry = spark.createDataFrame(
        [
            ("A", "张伟", born_a, "M", "110105", "VALID"),
            ("B", "李娜", born_b, "F", "440106", "VALID"),
            ("C", "王芳", born_c, "M", "320102", "REPORTED_LOST"),
        ],
        REGISTRY_DDL,
    )
    labels = spark.createDataFrame(
        [
            ("SIM", "13900000001", 1, ts(29), "POLICE_NOTICE"),
            ("ACCOUNT", "acc-A1", 0, ts(15), "REVERIFY_PASSED"),
        ],
        LABELS_DDL,
    )
    return Tables(sims=sims, accounts=accounts, activity=activity, transactions=txns, registry=registry, labels=labels)
