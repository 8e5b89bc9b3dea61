"""evaluate() and thresholds against scikit-learn and a hand-made curve."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyspark.sql import SparkSession
from sklearn.metrics import average_precision_score, roc_auc_score

from realname_guard.models.evaluate import (
    evaluate,
    pr_curve,
    threshold_for_precision,
    thresholds_for_precisions,
)

# Scores are binary fractions, exact in floating point; 1e-3 bins floor them (0.8125 -> 0.812).
HAND = [
    (0.9375, 1),
    (0.875, 1),
    (0.8125, 1),
    (0.75, 0),
    (0.6875, 1),
    (0.625, 1),
    (0.5, 0),
    (0.375, 0),
    (0.25, 1),
    (0.125, 0),
]


def test_evaluate_matches_scikit_learn(spark: SparkSession) -> None:
    rng = np.random.default_rng(3)
    n = 3000
    labels = (rng.random(n) < 0.1).astype(int)
    scores = 1.0 / (1.0 + np.exp(-(rng.normal(size=n) + 1.5 * labels - 1.0)))
    df = spark.createDataFrame(
        [(float(s), int(y)) for s, y in zip(scores, labels, strict=True)] + [(None, 1), (0.5, None)],
        "score double, label int",
    )
    m = evaluate(df)
    assert m["positives"] == labels.sum() and m["negatives"] == n - labels.sum()
    assert m["base_rate"] == pytest.approx(labels.mean())
    assert m["roc_auc"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-9)
    assert m["average_precision"] == pytest.approx(average_precision_score(labels, scores), abs=0.005)
    assert m["pr_auc"] == pytest.approx(
        average_precision_score(labels, scores), abs=0.02
    )  # trapezoid vs steps


def test_recall_and_thresholds_on_a_hand_made_curve(spark: SparkSession) -> None:
    df = spark.createDataFrame(HAND, "score double, label int")
    # score >= 0.812: 3 of 3 positive (precision 1); >= 0.75: 3/4; >= 0.687: 4/5; >= 0.625: 5/6;
    # >= 0.5: 5/7; >= 0.375: 5/8; >= 0.25: 6/9; >= 0.125: 6/10.
    m = evaluate(df)
    assert m["recall_at_precision_90"] == pytest.approx(3 / 6)
    assert threshold_for_precision(df, 0.9) == 0.812
    assert threshold_for_precision(df, 0.8) == 0.625  # lowest threshold reaching 0.8: 5/6
    assert threshold_for_precision(df, 0.6) == 0.125
    assert threshold_for_precision(df, 1.0) == 0.812
    assert thresholds_for_precisions(df, [0.9, 0.8]) == {0.9: 0.812, 0.8: 0.625}
    points = pr_curve(df)
    assert [p.threshold for p in points] == [0.937, 0.875, 0.812, 0.75, 0.687, 0.625, 0.5, 0.375, 0.25, 0.125]
    assert [p.true_positives for p in points] == [1, 2, 3, 3, 4, 5, 5, 5, 6, 6]


def test_threshold_is_none_when_precision_is_never_reached(spark: SparkSession) -> None:
    df = spark.createDataFrame([(0.9, 0), (0.8, 1), (0.1, 0)], "score double, label int")
    assert threshold_for_precision(df, 0.9) is None
    assert evaluate(df)["recall_at_precision_90"] == 0.0


def test_one_class_gives_undefined_areas(spark: SparkSession) -> None:
    m = evaluate(spark.createDataFrame([(0.9, 0), (0.1, 0)], "score double, label int"))
    assert m["positives"] == 0 and m["negatives"] == 2
    assert math.isnan(m["pr_auc"]) and math.isnan(m["roc_auc"])
