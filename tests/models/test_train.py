"""Spark training against single-machine xgboost (the oracle), worker sizing, prediction shape."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from sklearn.metrics import roc_auc_score
from xgboost.spark import SparkXGBClassifierModel

from realname_guard.core.config import ModelConfig
from realname_guard.models.train import (
    ROW_KEYS,
    fit,
    predict,
    prepare_training_frame,
    resolve_num_workers,
    xgb_kwargs,
)
from tests.models.synthetic import FEATURES, TEST_CFG, scores_by_id


def _oracle(pdf: pd.DataFrame, cfg: ModelConfig, n_estimators: int | None = None) -> xgb.XGBClassifier:
    """Single-machine XGBClassifier with the parameters fit() derives, on the same rows.

    With `n_estimators` it grows exactly that many trees (no early stopping).
    """
    train, valid = pdf[~pdf.is_validation], pdf[pdf.is_validation]
    spw = (train.label == 0).sum() / (train.label == 1).sum()
    params = {**xgb_kwargs(cfg), "random_state": cfg.seed, "scale_pos_weight": spw, "missing": np.nan}
    if n_estimators is not None:
        params.update(n_estimators=n_estimators, early_stopping_rounds=None)
    clf = xgb.XGBClassifier(**params)
    clf.fit(
        train[FEATURES].astype(float),
        train.label,
        eval_set=[(valid[FEATURES].astype(float), valid.label)],
        verbose=False,
    )
    return clf


def test_one_worker_equals_single_machine_xgboost(synthetic: tuple[pd.DataFrame, DataFrame]) -> None:
    # One worker sees the rows sorted by their key (prepare_training_frame sorts each worker's
    # partition, so that a cluster trains what local mode trains); pandas gets them in that order:
    # training, early stopping and the prediction through Spark must reproduce xgboost exactly.
    pdf, sdf = synthetic
    model = fit(sdf, FEATURES, TEST_CFG, num_workers=1)
    local = _oracle(pdf.sort_values(list(ROW_KEYS), kind="mergesort"), TEST_CFG)
    assert int(model.get_booster().attr("best_iteration")) == local.best_iteration
    spark_scores = scores_by_id(predict(model, sdf)).loc[pdf.entity_id].to_numpy()
    local_scores = local.predict_proba(pdf[FEATURES].astype(float))[:, 1]
    np.testing.assert_allclose(spark_scores, local_scores, atol=1e-6)


def test_two_workers_close_to_single_machine_xgboost(
    synthetic: tuple[pd.DataFrame, DataFrame], trained: SparkXGBClassifierModel
) -> None:
    # Two workers merge per-worker histogram sketches and subsample other rows: not bit-identical.
    # Early stopping on a noisy metric may then stop elsewhere, so compare at the same tree count.
    pdf, _ = synthetic
    best = int(trained.get_booster().attr("best_iteration"))
    assert best < TEST_CFG.xgb.n_estimators - 1  # early stopping did stop
    x = pdf[FEATURES].astype(float)
    spark_scores = trained.get_booster().predict(
        xgb.DMatrix(x, missing=np.nan), iteration_range=(0, best + 1)
    )
    local_scores = _oracle(pdf, TEST_CFG, n_estimators=best + 1).predict_proba(x)[:, 1]
    valid = pdf.is_validation.to_numpy()
    spark_auc = roc_auc_score(pdf.label[valid], spark_scores[valid])
    local_auc = roc_auc_score(pdf.label[valid], local_scores[valid])
    assert abs(spark_auc - local_auc) < 0.005
    assert np.mean(np.abs(spark_scores - local_scores)) < 0.02
    assert np.quantile(np.abs(spark_scores - local_scores), 0.99) < 0.1


def test_resolve_num_workers_caps_at_parallelism(spark: SparkSession) -> None:
    assert resolve_num_workers(ModelConfig(num_workers="auto"), spark) == 2
    assert resolve_num_workers(ModelConfig(num_workers=8), spark) == 2
    assert resolve_num_workers(ModelConfig(num_workers=1), spark) == 1


def test_predict_adds_the_probability_of_class_one_at_the_best_iteration(
    spark: SparkSession, synthetic: tuple[pd.DataFrame, DataFrame], trained: SparkXGBClassifierModel
) -> None:
    pdf, sdf = synthetic
    missing = spark.createDataFrame(
        [
            ("SIM", "N1", "OP1", "HN", None, None, None, None, 0, False),
            ("SIM", "N2", "OP1", "HN", 0, 3, None, 0.5, 0, False),
        ],
        sdf.schema,
    )
    small = sdf.limit(40).unionByName(missing)
    scored = predict(trained, small)
    assert scored.columns == [*small.columns, "score"]
    assert dict(scored.dtypes)["score"] == "double"
    got = scores_by_id(scored)
    assert got.notna().all() and got.between(0, 1).all()  # nulls are missing values, not errors

    local = small.toPandas().set_index("entity_id").loc[got.index, FEATURES].astype(float)
    best = int(trained.get_booster().attr("best_iteration"))
    expected = trained.get_booster().predict(
        xgb.DMatrix(local, missing=np.nan), iteration_range=(0, best + 1)
    )
    np.testing.assert_allclose(got.to_numpy(), expected, atol=1e-6)


def test_fit_refuses_a_training_part_without_positives(spark: SparkSession) -> None:
    df = spark.createDataFrame(
        [(1.0, 0, False), (2.0, 0, False), (3.0, 1, True)], "f double, label int, is_validation boolean"
    )
    with pytest.raises(ValueError, match="no positive rows"):
        fit(df, ["f"], TEST_CFG, num_workers=1)


@pytest.mark.parametrize("keyed", [True, False])
def test_training_frame_is_balanced_over_the_workers(
    synthetic: tuple[pd.DataFrame, DataFrame], keyed: bool
) -> None:
    # Spread by the row key (or, without one, by a hash of the row): each worker gets about half of
    # the training and of the validation rows, and only the columns XGBoost reads.
    _, sdf = synthetic
    df = sdf if keyed else sdf.drop("entity_id")  # entity_type alone would split by type
    frame = prepare_training_frame(df, FEATURES, num_workers=2)
    try:
        assert frame.rdd.getNumPartitions() == 2
        assert frame.columns == [*FEATURES, "label", "is_validation"]
        sizes = (
            frame.groupBy(F.spark_partition_id().alias("part"), "is_validation").count().toPandas()
        )  # small: 2 partitions x 2 parts
        for _, part in sizes.groupby("is_validation"):
            shares = part["count"] / part["count"].sum()
            assert len(shares) == 2 and shares.min() > 0.4, part
    finally:
        frame.unpersist()
