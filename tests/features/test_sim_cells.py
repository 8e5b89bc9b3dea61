"""The shared SIM-activity pre-aggregate: days as bit sets must count like count(DISTINCT day)."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from realname_guard.features.common import count_days, day_words, sim_cells
from realname_guard.features.registry import FeatureContext
from tests.features.literal import ACTIVITY_DDL, world

AS_OF = dt.date(2026, 6, 30)


def test_day_bits_count_distinct_days_over_a_window_longer_than_one_word(spark: SparkSession) -> None:
    ctx = FeatureContext(as_of=AS_OF, activity_window_days=100)  # two 64-bit words
    start = AS_OF - dt.timedelta(days=99)
    sim = "13800000001"  # registered in the literal world
    days = [0, 0, 1, 63, 64, 65, 99]  # day 0 twice (two regions), both sides of the word boundary
    rows = [
        (sim, start + dt.timedelta(days=k), "imeiX", region, None, 1, 1, 10, 1, 0, 0, 1.0)
        for k, region in zip(days, ["110105", "110106", "110105", "110105", "110105", "110106", "110105"], strict=True)
    ]
    t = world(spark)
    t = t.with_(activity=spark.createDataFrame(rows, ACTIVITY_DDL))
    cells = sim_cells(t, ctx)
    assert len(day_words(ctx)) == 2
    per_sim = cells.groupBy("msisdn").agg(*[F.bit_or(w).alias(w) for w in day_words(ctx)])
    got = per_sim.select(count_days([F.col(w) for w in day_words(ctx)]).alias("days")).first()
    assert got is not None and got["days"] == 6  # distinct days: 0, 1, 63, 64, 65, 99
    per_region = {r["cell_region"]: r["d"] for r in cells.select(
        "cell_region", count_days([F.col(w) for w in day_words(ctx)]).alias("d")).collect()}  # small: 2 rows
    assert per_region == {"110105": 5, "110106": 2}
    assert cells.agg(F.sum("calls_out")).first()[0] == len(days)  # sums keep every row
