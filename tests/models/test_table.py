"""Cross-validation on a labelled table: stratified folds, the threshold rule, the bootstrap."""

from __future__ import annotations

import numpy as np
from pyspark.sql import SparkSession

from realname_guard.core.datasets import TableCandidate, TableTraining
from realname_guard.models import table as tm
from realname_guard.models.evaluate import CurvePoint


def test_folds_are_stratified_and_stable(spark: SparkSession) -> None:
    rows = [(f"k{i}", 1.0 if i < 7 else 0.0) for i in range(20)]  # 7 positives, 13 negatives
    df = spark.createDataFrame(rows, "key string, label double")
    folded = tm.assign_folds(df, 3, seed=1)
    counts = {(r["fold"], r["label"]): r["count"] for r in folded.groupBy("fold", "label").count().collect()}
    assert sorted(counts[(f, 1.0)] for f in range(3)) == [2, 2, 3]
    assert sorted(counts[(f, 0.0)] for f in range(3)) == [4, 4, 5]
    again = {r["key"]: r["fold"] for r in tm.assign_folds(df.orderBy("label"), 3, seed=1).collect()}
    assert again == {r["key"]: r["fold"] for r in folded.collect()}
    other_seed = {r["key"]: r["fold"] for r in tm.assign_folds(df, 3, seed=2).collect()}
    assert other_seed != again


def point(t: float, tp: int, pp: int, pos: int = 10) -> CurvePoint:
    return CurvePoint(threshold=t, true_positives=tp, predicted_positives=pp, precision=tp / pp, recall=tp / pos)


def test_threshold_rules() -> None:
    points = [point(0.9, 4, 4), point(0.7, 8, 9), point(0.5, 9, 14), point(0.1, 10, 40)]
    # F1: 0.571, 0.842, 0.750, 0.400
    assert tm.choose_threshold(points, "f1") == points[1]
    assert tm.choose_threshold(points, "precision", 0.85) == points[1]  # 8/9 = 0.889 is the last >= 0.85
    assert tm.choose_threshold(points, "precision", 0.95) == points[0]
    assert tm.choose_threshold([point(0.5, 1, 10)], "precision", 0.5) is None
    assert abs(tm.f1(points[1]) - 2 * (8 / 9) * 0.8 / (8 / 9 + 0.8)) < 1e-12


def test_settings_change_only_what_a_candidate_names() -> None:
    training = TableTraining(max_depth=5, n_estimators=200, candidates=(TableCandidate(name="shallow", max_depth=3),
                                                                       TableCandidate(name="raw", derived=False)))
    declared, shallow, raw = tm.settings(training)
    assert declared.name == "declared" and (declared.max_depth, declared.derived) == (5, True)
    assert (shallow.max_depth, shallow.n_estimators, shallow.derived) == (3, 200, True)
    assert (raw.max_depth, raw.derived) == (5, False)
    cfg = tm.model_config(shallow, seed=7)
    assert (cfg.xgb.max_depth, cfg.xgb.n_estimators, cfg.seed, cfg.xgb.early_stopping_rounds) == (3, 200, 7, None)


def test_win_share_sees_a_clear_winner_and_no_winner_between_equals() -> None:
    # 100 negatives scoring in bin 50; 50 positives: under A half of them sit below the negatives
    # (bin 10), under B all sit above them (bin 190)
    negatives = np.array([[50, 50, 100]])
    clear = tm.Paired(np.array([[10, 190, 25], [190, 190, 25]]), negatives)
    assert tm.win_share(clear, samples=200) == 1.0
    same = tm.Paired(np.array([[10, 10, 25], [190, 190, 25]]), negatives)
    assert tm.win_share(same, samples=200) == 0.0  # never strictly better
    worse = tm.Paired(np.array([[190, 10, 25], [190, 190, 25]]), negatives)
    assert tm.win_share(worse, samples=200) == 0.0
    # negatives that move: under B half the negatives rise above every positive
    noisy = tm.Paired(np.array([[190, 190, 50]]), np.array([[50, 50, 50], [50, 195, 50]]))
    assert tm.win_share(noisy, samples=200) == 0.0
    # a close call is not a sure win: one positive in 50 ranks better under B
    close = tm.Paired(np.array([[10, 190, 1], [190, 190, 49]]), negatives)
    assert 0.5 < tm.win_share(close, samples=400) < 1.0
