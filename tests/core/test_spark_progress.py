"""A long stage says how far its Spark work has got, from Spark's status tracker."""

from __future__ import annotations

import logging
import time

import pytest
from pyspark.sql import SparkSession

from realname_guard.core.spark import StageProgress


def _slow(x: int) -> int:
    time.sleep(0.8)
    return x


def test_a_running_stage_reports_its_tasks(spark: SparkSession, caplog: pytest.LogCaptureFixture) -> None:
    sc = spark.sparkContext
    sc.setJobGroup("progress-test", "a slow job")
    try:
        with caplog.at_level(logging.INFO, logger="realname_guard"), \
                StageProgress(spark, "[9] slow", "progress-test", every_s=0.3) as progress:
            assert sc.parallelize(range(6), 6).map(_slow).count() == 6
    finally:
        sc.setJobGroup("", "")
    assert progress.reports >= 1
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("[9] slow: ")]
    assert lines and all("Spark tasks " in line and "/6 of the 1 stage(s) running" in line for line in lines)
    assert progress.line() is None  # nothing running: nothing to say


def test_no_thread_when_switched_off(spark: SparkSession) -> None:
    with StageProgress(spark, "[1] x", "none", every_s=0) as progress:
        pass
    assert progress.reports == 0
