"""The backtest's population and labels, and the listing shares it turns into thresholds."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from realname_guard.models.backtest import (
    Ranked,
    backtest_frame,
    label_frequency,
    listing_shares,
    ranked,
    win_share,
)
from realname_guard.models.evaluate import CurvePoint

START, END = dt.date(2026, 6, 16), dt.date(2026, 6, 30)
SCORED_DDL = "entity_type string, entity_id string, id_hash string, closed boolean, score double"
LABELS_DDL = "entity_type string, entity_id string, label int, label_time timestamp, source string"


def test_population_is_the_open_cards_unlabelled_at_the_start(spark: SparkSession) -> None:
    scored = spark.createDataFrame(
        [
            ("SIM", "s1", "h1", False, 0.9),  # confirmed in the window: positive
            ("SIM", "s2", "h1", False, 0.8),  # labelled before the start: out
            ("SIM", "s3", "h2", False, 0.7),  # holder labelled before the start: out
            ("SIM", "s4", "h3", True, 0.6),  # closed at the start: out
            ("ACCOUNT", "a1", "h3", False, 0.5),  # confirmed after the end: negative
            ("ACCOUNT", "a2", "h4", False, 0.4),  # cleared in the window: negative
            ("ACCOUNT", "a3", "h4", None, 0.3),  # never labelled: negative
        ],
        SCORED_DDL,
    )
    labels = spark.createDataFrame(
        [
            ("SIM", "s1", 1, dt.datetime(2026, 6, 20, 9), "POLICE_NOTICE"),
            ("SIM", "s2", 1, dt.datetime(2026, 6, 16, 23), "POLICE_NOTICE"),
            ("PERSON", "h2", 1, dt.datetime(2026, 6, 1, 9), "POLICE_NOTICE"),
            ("ACCOUNT", "a1", 1, dt.datetime(2026, 7, 1, 9), "POLICE_NOTICE"),
            ("ACCOUNT", "a2", 0, dt.datetime(2026, 6, 25, 9), "REVERIFY_PASSED"),
        ],
        LABELS_DDL,
    )
    got = backtest_frame(scored, labels, START, END)
    expected = spark.createDataFrame(
        [("SIM", "s1", 0.9, 1), ("ACCOUNT", "a1", 0.5, 0), ("ACCOUNT", "a2", 0.4, 0), ("ACCOUNT", "a3", 0.3, 0)],
        "entity_type string, entity_id string, score double, label int",
    )
    assertDataFrameEqual(got, expected)
    # Person labels switched off: s3's holder label no longer takes it out.
    with_s3 = backtest_frame(scored, labels, START, END, person_labels_apply_to_cards=False)
    assert {r["entity_id"] for r in with_s3.collect()} == {"s1", "s3", "a1", "a2", "a3"}


def _curve(rows: list[tuple[int, int]], total_pos: int) -> list[CurvePoint]:
    """Cumulative (true positives, listed) from the highest threshold down."""
    return [
        CurvePoint(threshold=1 - i / 10, true_positives=tp, predicted_positives=pp, precision=tp / pp,
                   recall=tp / total_pos)
        for i, (tp, pp) in enumerate(rows)
    ]


def test_shares_scale_measured_precision_by_the_share_confirmed_at_the_top() -> None:
    # 40 confirmations among 10,000 cards; the top 100 cards hold 10 of them: a tenth of the
    # misuse is confirmed in the window, so 10 of 100 measured is 100 of 100 estimated.
    points = _curve([(10, 100), (18, 200), (24, 400), (30, 1000), (40, 10000)], 40)
    assert label_frequency(points) == 0.1
    shares = listing_shares(points, high_precision=0.85, medium_precision=0.55)
    assert shares.high_share == 200 / 10000  # 0.09 / 0.1 = 0.9; 400 cards: 0.6
    assert shares.medium_share == 400 / 10000  # 0.06 / 0.1 = 0.6; 1000 cards: 0.3
    assert shares.total == 10000
    assert listing_shares([], 0.9, 0.6).high_share is None


def _ranked(spark: SparkSession, pos_scores: list[float], neg_scores: list[float]) -> Ranked:
    rows = [("SIM", f"p{i}", s, 1) for i, s in enumerate(pos_scores)]
    rows += [("SIM", f"n{i}", s, 0) for i, s in enumerate(neg_scores)]
    return ranked(spark.createDataFrame(rows, "entity_type string, entity_id string, score double, label int"))


def test_win_share_is_sure_only_when_the_ranking_is_clearly_better(spark: SparkSession) -> None:
    negatives = [i / 200 for i in range(200)]  # 0 .. 0.995
    # The same 12 confirmations: above every negative for one model, in the middle for the other.
    better = _ranked(spark, [0.999] * 12, negatives)
    worse = _ranked(spark, [0.5 + i / 100 for i in range(12)], negatives)
    assert better.positives[("SIM", "p0")] == 999
    assert better.negatives_at_or_above[0] == 200 and better.negatives_at_or_above[999] == 0
    assert win_share(better, worse) == 1.0
    assert win_share(worse, better) == 0.0
    # Two models that differ on one confirmation of twelve: no resample settles it often enough.
    almost = _ranked(spark, [0.999] * 11 + [0.9], negatives)
    assert 0.3 < win_share(better, almost) < 0.9
