"""The one place a SparkSession is made: local[*] by default, any master by config or spark-submit."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

from pyspark import SparkConf, SparkContext
from pyspark.sql import SparkSession

from realname_guard.core.config import SparkConfig

log = logging.getLogger("realname_guard")


def get_spark(cfg: SparkConfig, timezone: str = "Asia/Shanghai") -> SparkSession:
    """Return the active session or build one from `cfg`.

    Under spark-submit the master and resources come from the submit command; `cfg.master`
    and `cfg.driver_memory` apply only when nothing set them (the embedded local mode).
    """
    if "PYSPARK_GATEWAY_PORT" in os.environ:
        # Under spark-submit the JVM is up and holds the submitted settings; a SparkConf made before
        # connecting to it is a plain dict that knows none of them (and --master would be lost).
        SparkContext._ensure_initialized()
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


class StageProgress:
    """While a stage runs, log every `every_s` seconds how far its Spark work has got: the tasks
    done of the stages running now, and of all the stage's jobs so far (Spark's status tracker;
    nothing is computed for it). A daemon thread; use as a context manager."""

    def __init__(self, spark: SparkSession, label: str, job_group: str, every_s: float = 30.0) -> None:
        self._sc = spark.sparkContext
        self._label, self._group, self._every = label, job_group, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"progress-{job_group}", daemon=True)
        self._start = 0.0
        self.reports = 0

    def __enter__(self) -> StageProgress:
        self._start = time.perf_counter()
        if self._every > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def line(self) -> str | None:
        """What to log now, or None when no Spark job of the stage is running."""
        tracker = self._sc.statusTracker()
        jobs = tracker.getJobIdsForGroup(self._group)
        running = [s for s in (tracker.getStageInfo(i) for i in tracker.getActiveStageIds()) if s is not None]
        if not running:
            return None
        done = sum(s.numCompletedTasks for s in running)
        total = sum(s.numTasks for s in running)
        ended = sum(1 for j in jobs if (info := tracker.getJobInfo(j)) is not None and info.status != "RUNNING")
        return (f"{self._label}: {time.perf_counter() - self._start:.0f} s in; Spark tasks {done}/{total} of the "
                f"{len(running)} stage(s) running; {ended} of {len(jobs)} jobs finished")

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                text = self.line()
            except Exception:  # noqa: BLE001 - progress must never fail the run (e.g. Spark stopping)
                return
            if text:
                self.reports += 1
                log.info("%s", text)
