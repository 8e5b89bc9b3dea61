"""The one place a SparkSession is made: local[*] by default, any master by config or spark-submit."""

from __future__ import annotations

import os
import sys

from pyspark import SparkConf
from pyspark.sql import SparkSession

from realname_guard.core.config import SparkConfig


def get_spark(cfg: SparkConfig, timezone: str = "Asia/Shanghai") -> SparkSession:
    """Return the active session or build one from `cfg`.

    Under spark-submit the master and resources come from the submit command; `cfg.master`
    and `cfg.driver_memory` apply only when nothing set them (the embedded local mode).
    """
    submitted_master = SparkConf().get("spark.master", None)
    if submitted_master is None or submitted_master.startswith("local"):
        # Python workers start `python3` from PATH unless told otherwise (STACK-NOTES #1):
        # point them at this interpreter so they see the same packages as the driver.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(cfg.app_name)
    if submitted_master is None:
        builder = builder.master(cfg.master).config("spark.driver.memory", cfg.driver_memory)
    settings = {
        "spark.sql.session.timeZone": timezone,
        "spark.sql.shuffle.partitions": str(cfg.shuffle_partitions),
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        "spark.sql.adaptive.skewJoin.enabled": "true",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.sql.parquet.datetimeRebaseModeInWrite": "CORRECTED",
        # CSV extracts may arrive in GB18030/GBK; Spark 4 only reads those charsets with this on.
        "spark.sql.legacy.javaCharsets": "true",
        # Rows per Arrow batch to the Python workers (xgboost.spark's training and scoring): fewer,
        # larger batches (a 1M-row fit spent 7-9 s in 10,000-row batches); 100,000 x 60 floats is ~50 MB.
        "spark.sql.execution.arrow.maxRecordsPerBatch": "100000",
        # Hash keys and names must not appear in plans shown by the UI or event logs.
        "spark.sql.redaction.string.regex": "(?i)(x'[0-9a-f]{64,}'|hmac_key)",
        **cfg.conf,
    }
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def default_parallelism(spark: SparkSession) -> int:
    """Cores Spark can run tasks on now (used to size XGBoost workers; STACK-NOTES #8)."""
    return max(1, int(spark.sparkContext.defaultParallelism))
