"""Training and scoring with ``xgboost.spark``: one classifier for SIMs and accounts alike.

Features are plain numeric columns (missing = null = NaN); ``is_account`` is one of them, and
features that do not apply to an entity type are null there and take XGBoost's missing branch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pyspark import StorageLevel
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from xgboost.spark import SparkXGBClassifier, SparkXGBClassifierModel

from realname_guard.core.config import ModelConfig
from realname_guard.core.spark import default_parallelism

log = logging.getLogger(__name__)

LABEL_COL = "label"
VALIDATION_COL = "is_validation"
# The metric early stopping watches: PR-AUC, positives are rare. xgboost.spark evaluates it on the
# training rows as well as the validation rows every round, and PR-AUC sorts them each time; without
# early stopping nothing reads it, so the cheap log loss (one pass) is evaluated instead.
STOPPING_METRIC = "aucpr"
TRACKING_METRIC = "logloss"
# The row key the training frame is spread over the workers by, when the caller's frame has all of it.
ROW_KEYS = ("entity_type", "entity_id")
# Output columns of the xgboost transform, renamed so they never clash with the caller's columns.
_TMP_PROB = "_rg_probability"
_TMP_RAW = "_rg_raw_prediction"
_TMP_PRED = "_rg_prediction"


def resolve_num_workers(cfg: ModelConfig, spark: SparkSession) -> int:
    """XGBoost workers: ``cfg.num_workers`` capped at the session's parallelism.

    More workers than task slots makes the barrier stage wait for ever (STACK-NOTES #8).
    """
    slots = default_parallelism(spark)
    if cfg.num_workers == "auto":
        return slots
    if cfg.num_workers > slots:
        log.warning("model.num_workers=%d exceeds the %d task slots; using %d", cfg.num_workers, slots, slots)
        return slots
    return int(cfg.num_workers)


def xgb_kwargs(cfg: ModelConfig) -> dict[str, Any]:
    """Booster parameters shared by the Spark estimator and the single-machine oracle."""
    p = cfg.xgb
    return {
        "max_depth": p.max_depth,
        "learning_rate": p.learning_rate,
        "n_estimators": p.n_estimators,
        "subsample": p.subsample,
        "colsample_bytree": p.colsample_bytree,
        "min_child_weight": p.min_child_weight,
        "reg_lambda": p.reg_lambda,
        "tree_method": p.tree_method,
        "eval_metric": STOPPING_METRIC if p.early_stopping_rounds else TRACKING_METRIC,
        "early_stopping_rounds": p.early_stopping_rounds,
    }


def prepare_training_frame(train_df: DataFrame, feature_cols: Sequence[str], num_workers: int) -> DataFrame:
    """The columns XGBoost reads, in exactly `num_workers` balanced partitions, marked for caching.

    Features are cast to float: xgboost.spark casts doubles to float itself and XGBoost stores
    float32, so the model is unchanged while the cache and the Arrow transfer halve. Hash
    partitioning by the row key (``ROW_KEYS``; by a hash of the selected values when the frame
    lacks it) gives every worker a like share of training and validation rows whatever order the
    rows arrive in, without the local sort a round-robin repartition does first. The cache cuts the
    lineage, so the barrier stage reads it as is (no second shuffle, no
    BarrierJobUnsupportedRDDChainException from a union/coalesce chain) and the extra passes
    (class balance, xgboost's label count) read memory instead of recomputing the features.
    The caller materialises it (``class_balance`` does) and unpersists it.
    """
    names = [*feature_cols, LABEL_COL, VALIDATION_COL]
    keys = list(ROW_KEYS) if set(ROW_KEYS) <= set(train_df.columns) else []
    selected = train_df.select(
        *[F.col(c).cast("float").alias(c) for c in feature_cols],
        F.col(LABEL_COL).cast("double").alias(LABEL_COL),
        F.col(VALIDATION_COL).cast("boolean").alias(VALIDATION_COL),
        *keys,
    )
    spread = [F.col(k) for k in keys] if keys else [F.xxhash64(*names)]
    return selected.repartition(num_workers, *spread).select(*names).persist(StorageLevel.MEMORY_AND_DISK)


def class_balance(train_df: DataFrame) -> tuple[int, int]:
    """(positives, negatives) in the training part (``is_validation`` false), by one Spark aggregate."""
    row = (
        train_df.where(~F.col(VALIDATION_COL))
        .agg(F.sum(F.col(LABEL_COL)).alias("pos"), F.count(F.lit(1)).alias("n"))
        .first()
    )  # small: one row of counts
    pos = int(row["pos"] or 0) if row else 0
    n = int(row["n"] or 0) if row else 0
    return pos, n - pos


def fit(
    train_df: DataFrame,
    feature_cols: list[str],
    cfg: ModelConfig,
    num_workers: int,
    validate: bool = True,
    rounds: int | None = None,
) -> SparkXGBClassifierModel:
    """Fit the classifier on the training part, evaluated (and early-stopped, if configured) on
    the validation part.

    ``validate=False`` fits on every row whatever ``is_validation`` says, without evaluation or
    early stopping, for ``rounds`` rounds (default ``n_estimators``): the refit on all labels.

    ``scale_pos_weight`` is negatives/positives of the training part (``class_weight: balanced``),
    so the rare positives are not drowned by the sampled negatives, or 1 (``none``). The input is read once: into a cached frame of
    `num_workers` partitions (``prepare_training_frame``) that the counts and the fit share.
    """
    if not validate:  # every row trains, and counts towards the class balance
        train_df = train_df.withColumn(VALIDATION_COL, F.lit(False))
    data = prepare_training_frame(train_df, feature_cols, num_workers)
    try:
        pos, neg = class_balance(data)  # also materialises the cache, in the same pass
        if pos == 0:
            raise ValueError("no positive rows in the training part (is_validation = false)")
        scale_pos_weight = neg / pos if cfg.class_weight == "balanced" else 1.0
        log.info(
            "fitting xgboost on %d positives / %d negatives (scale_pos_weight=%.3f), %d features, %d workers",
            pos,
            neg,
            scale_pos_weight,
            len(feature_cols),
            num_workers,
        )
        params: dict[str, Any] = xgb_kwargs(cfg)
        if validate:
            params["validation_indicator_col"] = VALIDATION_COL
        else:  # a None validation column would be saved with the model and break loading it
            params["early_stopping_rounds"] = None
        if rounds is not None:
            params["n_estimators"] = rounds
        estimator = SparkXGBClassifier(
            features_col=list(feature_cols),
            label_col=LABEL_COL,
            num_workers=num_workers,
            # `data` already has `num_workers` partitions behind a cache: no repartition (and no
            # second shuffle of the features) inside xgboost.spark.
            force_repartition=False,
            missing=float("nan"),
            seed=cfg.seed,
            scale_pos_weight=scale_pos_weight,
            # The per-round evaluation goes to the log (debug level: the log file), not the
            # workers' stdout, which in local mode is the console.
            verbose=False,
            **params,
        )
        model = estimator.fit(data)
    finally:
        data.unpersist()
    best = model.get_booster().attr("best_iteration")
    log_rounds(model)
    log.info("xgboost stopped with best_iteration=%s of %d", best, cfg.xgb.n_estimators)
    return model


def log_rounds(model: SparkXGBClassifierModel) -> None:
    """Each round's evaluation at debug level; the first and last at info."""
    summary = getattr(model, "training_summary", None)
    if summary is None:
        return
    for part, history in (("training", summary.train_objective_history),
                          ("validation", summary.validation_objective_history)):
        for metric, values in history.items():
            for i, v in enumerate(values):
                log.debug("xgboost round %d: %s %s %.6f", i, part, metric, v)
            if values:
                log.info("xgboost %s %s: %.5f after round 0, %.5f after round %d", part, metric, values[0],
                         values[-1], len(values) - 1)


def scoring_model(model: SparkXGBClassifierModel) -> SparkXGBClassifierModel:
    """A copy of the model whose output columns carry private names."""
    return model.copy(
        {model.probabilityCol: _TMP_PROB, model.rawPredictionCol: _TMP_RAW, model.predictionCol: _TMP_PRED}
    )


def predict(model: SparkXGBClassifierModel, df: DataFrame) -> DataFrame:
    """`df` plus ``score``: the model's probability of class 1 (double, 0..1)."""
    scored = scoring_model(model).transform(df)
    return scored.withColumn("score", vector_to_array(F.col(_TMP_PROB))[1]).drop(
        _TMP_PROB, _TMP_RAW, _TMP_PRED
    )
