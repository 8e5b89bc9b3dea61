"""disciplinary_periods: a card opened inside its holder's 失信惩戒 period, on literal rows."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from realname_guard.features.common import as_of_view
from realname_guard.features.registry import registry
from tests.features.catalogue_literal import CTX, extended_world

PERIODS = "id_hash STRING, id_masked STRING, listed_from DATE, listed_until DATE, basis STRING, source STRING"


def test_cards_opened_inside_a_period(spark: SparkSession) -> None:
    # B opened both SIMs (June 20, 21) and both accounts (June 22) inside 2026-06-21 .. 2028-06-20;
    # the SIM of June 20 was opened the day before. A's period ended before A's cards were opened.
    periods = spark.createDataFrame(
        [
            ("B", "4401**11", dt.date(2026, 6, 21), dt.date(2028, 6, 20), "decision 1", "PSB"),
            ("A", "1101**2X", dt.date(2020, 1, 1), dt.date(2021, 12, 31), "decision 2", "PSB"),
        ],
        PERIODS,
    )
    t = extended_world(spark).with_(disciplinary=periods)
    got = registry()["disciplinary_periods"].fn(as_of_view(t, CTX), CTX)
    inside = {"13900000002", "acc-B1", "acc-B2"}
    keys = [(r["entity_type"], r["entity_id"]) for r in as_of_view(t, CTX).sims.select(
        "msisdn").toDF("entity_id").selectExpr("'SIM' AS entity_type", "entity_id").collect()]
    keys += [(r["entity_type"], r["entity_id"]) for r in as_of_view(t, CTX).accounts.select(
        "account_id").toDF("entity_id").selectExpr("'ACCOUNT' AS entity_type", "entity_id").collect()]
    expected = spark.createDataFrame(
        [(et, eid, int(eid in inside)) for et, eid in keys],
        "entity_type STRING, entity_id STRING, opened_while_disciplined INT",
    )
    assertDataFrameEqual(got, expected)


def test_without_the_table_the_group_is_skipped(spark: SparkSession) -> None:
    from realname_guard.core.config import FeatureSpec
    from realname_guard.features.assemble import build_features

    fs = build_features(extended_world(spark), CTX, (FeatureSpec("holder_cards"), FeatureSpec("disciplinary_periods")))
    assert fs.skipped == {"disciplinary_periods": "input table(s) not delivered: disciplinary_list"}
    assert "opened_while_disciplined" not in fs.frame.columns
