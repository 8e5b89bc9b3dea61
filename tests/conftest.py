"""One shared Spark session for the whole suite, tuned for tiny data (STYLE #9)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator

import pytest

# A pytest-xdist worker runs with a __main__ that has neither a spec nor a file, which
# pyspark.sql.connect takes for its own doctest run and answers with sys.exit(0) when Great
# Expectations imports it. Give the worker's __main__ a file name so that pyspark sees a program.
if getattr(sys.modules["__main__"], "__spec__", None) is None and not hasattr(sys.modules["__main__"], "__file__"):
    sys.modules["__main__"].__file__ = "pytest-xdist-worker"

from pyspark.sql import SparkSession  # noqa: E402

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
# Literal timestamps in tests are local China time, like the contract's data: make Python's
# naive datetimes mean the same instants as Spark's session time zone.
os.environ["TZ"] = "Asia/Shanghai"
time.tzset()
os.environ.setdefault("REALNAME_GUARD_HASH_KEY", "test-key-not-secret-0123456789abcdef")

TEST_HASH_KEY = os.environ["REALNAME_GUARD_HASH_KEY"].encode()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Whole-job modules (marked slow) first, each in its own order: `make test` hands whole files
    to two workers (pytest-xdist), and the long files must start first for the two to end together."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = (
        SparkSession.builder.master("local[2]")
        .appName("realname-guard-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "Asia/Shanghai")
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .config("spark.sql.legacy.javaCharsets", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(autouse=True)
def _clean_spark_state(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "spark" in request.fixturenames:
        session = request.getfixturevalue("spark")
        session.catalog.clearCache()
        for table in session.catalog.listTables():
            if table.isTemporary:
                session.catalog.dropTempView(table.name)
