"""Point-in-time training: what happens because of a label never reaches the labelled card's row."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from realname_guard.core.config import FeatureSpec, ModelConfig
from realname_guard.core.tables import Tables
from realname_guard.features.assemble import build_features
from realname_guard.features.registry import FeatureContext
from realname_guard.models.dataset import build_training_set, snapshot_for
from tests.features.literal import ACTIVITY_DDL, AS_OF, LABELS_DDL, d, ts, world

CARD = "13900000001"  # holder B's SIM: in a SIM box abroad, confirmed on 06-29
SPECS = (FeatureSpec("sim_usage"), FeatureSpec("device_sharing"), FeatureSpec("card_registration"))
CFG = ModelConfig(min_positives=1, negatives_per_positive=0, validation_fraction=0.5)


def _tables(spark: SparkSession, *, traffic_stops: bool) -> Tables:
    """The literal world with usage of CARD before its label and, unless it stops, after it."""
    t = world(spark)
    days = [21, 22, 23] if traffic_stops else [21, 22, 23, 29, 30]
    usage = spark.createDataFrame(
        [(CARD, d(day), "box1", "ABROAD", "MM", 50, 0, 1500, 45, 0, 0, 0.0) for day in days], ACTIVITY_DDL
    )
    labels = spark.createDataFrame(
        [
            ("SIM", CARD, 1, ts(29), "POLICE_NOTICE"),
            ("SIM", "13900000002", 1, ts(25), "POLICE_NOTICE"),
            ("ACCOUNT", "acc-A1", 0, ts(15), "REVERIFY_PASSED"),
        ],
        LABELS_DDL,
    )
    sims = t.sims
    if traffic_stops:  # the operator suspends the confirmed SIM: status changes, traffic ends
        sims = sims.withColumn("status", F.when(F.col("msisdn") == CARD, "SUSPENDED").otherwise(F.col("status")))
    return t.with_(sims=sims, activity=t.get("activity").unionByName(usage), labels=labels)


def _row(t: Tables, snapshot_days: tuple[int, ...]) -> DataFrame:
    snaps = {
        day: build_features(t, FeatureContext(as_of=day), SPECS).frame
        for day in (AS_OF - dt.timedelta(days=n) for n in snapshot_days)
    }
    assert t.labels is not None
    return build_training_set(snaps, t.labels, AS_OF, CFG).where(F.col("entity_id") == CARD)


def test_a_card_whose_traffic_stops_after_its_label_gets_the_same_row(spark: SparkSession) -> None:
    stops, goes_on = _tables(spark, traffic_stops=True), _tables(spark, traffic_stops=False)
    # Snapshots as of 06-23 and 06-16: the 06-29 label takes the 06-23 one, before the freeze.
    got_stops, got_goes_on = _row(stops, (7, 14)), _row(goes_on, (7, 14))
    assert got_stops.count() == 1
    assertDataFrameEqual(got_stops, got_goes_on)
    assert got_stops.first()["active_days"] == 3  # the three days before the snapshot
    # Trained on the run date's features instead, the freeze would reach the row.
    at_run_date_stops, at_run_date_goes_on = _row(stops, (0,)), _row(goes_on, (0,))
    assert at_run_date_stops.first()["active_days"] != at_run_date_goes_on.first()["active_days"]


def test_snapshot_for_takes_the_latest_snapshot_before_the_label_day(spark: SparkSession) -> None:
    dates = [d(2), d(16), d(23)]
    frame = spark.createDataFrame([(d(1),), (d(2),), (d(3),), (d(23),), (d(24),)], "label_day date")
    oldest = frame.select(snapshot_for(F.col("label_day"), dates, "oldest").alias("s"))
    drop = frame.select(snapshot_for(F.col("label_day"), dates, "drop").alias("s"))
    assert [r["s"] for r in oldest.collect()] == [d(2), d(2), d(2), d(16), d(23)]
    assert [r["s"] for r in drop.collect()] == [None, None, d(2), d(16), d(23)]
    touched = F.col("label_day") == F.lit(d(24))  # the last card was suspended, the others not
    untouched = frame.select(snapshot_for(F.col("label_day"), dates, "untouched", ~touched).alias("s"))
    assert [r["s"] for r in untouched.collect()] == [d(23), d(23), d(23), d(23), d(23)]
    unaffected = frame.select(snapshot_for(F.col("label_day"), dates, "unaffected", ~touched).alias("s"))
    assert [r["s"] for r in unaffected.collect()] == [d(23), d(23), d(2), d(16), d(23)]
