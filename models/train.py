"""Training and scoring with ``xgboost.spark``: classifiers for SIMs and accounts alike.

Features are plain numeric columns (missing = null = NaN); ``is_account`` is one of them, and
features that do not apply to an entity type are null there and take XGBoost's missing branch.

A model is one classifier over every input, or a ``ViewEnsemble``: one classifier per view of the
evidence (what the registration says, how the SIM is used, how money moves, which devices it
shares), each fitted on the same rows, the score their noisy-OR. A single model over every input
learns whichever family separates the labelled cards first (a card farmer's many cards) and
never needs the others, so a card whose misuse shows in one family alone (a dormant account
turned mule: pass-through with many counterparties, an ordinary holder) scores as honest. Each
view has to explain the labels with its own evidence, and a card needs one view to stand out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
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


def monotone_constraints(feature_cols: Sequence[str], increasing: Sequence[str]) -> str | None:
    """XGBoost's ``monotone_constraints`` for `feature_cols` in order: 1 for the columns in
    `increasing`, 0 for the rest; None when none of them is an input."""
    up = set(increasing)
    if not up & set(feature_cols):
        return None
    return "(" + ",".join("1" if c in up else "0" for c in feature_cols) + ")"


def prepare_training_frame(train_df: DataFrame, feature_cols: Sequence[str], num_workers: int) -> DataFrame:
    """The columns XGBoost reads, in exactly `num_workers` balanced partitions, marked for caching.

    Features are cast to float: xgboost.spark casts doubles to float itself and XGBoost stores
    float32, so the model is unchanged while the cache and the Arrow transfer halve. Hash
    partitioning by the row key (``ROW_KEYS``; by a hash of the selected values when the frame
    lacks it) gives every worker a like share of training and validation rows whatever order the
    rows arrive in, without the local sort a round-robin repartition does first. Each partition is
    then sorted (row key, then every column): on a cluster the rows of a shuffle arrive in the
    order their blocks were fetched, and XGBoost's sketches and sums follow the row order, so
    without the sort the same data trains a slightly different model on every run (the cluster
    test, tests/pipelines/test_cluster.py, compares with local mode row for row). The cache cuts the
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
    return (
        selected.repartition(num_workers, *spread)
        .sortWithinPartitions(*spread, *names)
        .select(*names)
        .persist(StorageLevel.MEMORY_AND_DISK)
    )


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
        constraints = monotone_constraints(feature_cols, cfg.monotone_increasing)
        if constraints:
            params["monotone_constraints"] = constraints
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


def predict(model: Model, df: DataFrame) -> DataFrame:
    """`df` plus ``score``: the model's probability of class 1 (double, 0..1); a ``ViewEnsemble``'s
    noisy-OR of its views'."""
    if isinstance(model, ViewEnsemble):
        return _predict_views(model, df)
    scored = scoring_model(model).transform(df)
    return scored.withColumn("score", vector_to_array(F.col(_TMP_PROB))[1]).drop(
        _TMP_PROB, _TMP_RAW, _TMP_PRED
    )


@dataclass(frozen=True)
class ViewEnsemble:
    """One classifier per view of the evidence (view name -> model over that view's columns).

    The score is a noisy-OR of what each view adds to the base rate: with ``p_v`` the view's
    probability and ``base`` the share of positives its training rows carry (class weights
    counted: 0.5 when balanced), the view's evidence is ``max(0, (p_v - base) / (1 - base))``, and
    nothing where every one of its own inputs is missing (a money-flow view says nothing about a
    SIM); the score is ``1 - prod(1 - evidence_v)``. High when any view is sure, higher when
    several agree, 0 when no view sees more than the base rate. Without the base taken off, a view
    with nothing to say still gives every card the base rate, and four of them lift every card.
    """

    members: dict[str, SparkXGBClassifierModel]
    base: float = 0.0
    shared: tuple[str, ...] = ()  # inputs in every view (the card kind indicators): not evidence

    def columns(self, view: str) -> list[str]:
        return list(self.members[view].getOrDefault("features_cols"))

    @property
    def feature_cols(self) -> list[str]:
        """Every input of any view, in first-seen order."""
        return list(dict.fromkeys(c for v in self.members for c in self.columns(v)))


Model = SparkXGBClassifierModel | ViewEnsemble


def model_columns(model: Model) -> list[str]:
    """The input columns the model reads."""
    if isinstance(model, ViewEnsemble):
        return model.feature_cols
    return list(model.getOrDefault("features_cols"))


def view_columns(
    feature_cols: Sequence[str], family: Mapping[str, str], views: Mapping[str, Sequence[str]], shared: Sequence[str]
) -> dict[str, list[str]]:
    """Each view's columns: the features whose family (`family`: column -> family) the view names,
    plus the `shared` columns (the card kind indicators) in every view. A view none of whose
    families has a column here (its table was not delivered) is left out. A feature whose family no
    view names raises: every input must be in some view.
    """
    named = {f for fams in views.values() for f in fams}
    orphans = [c for c in feature_cols if c not in shared and family.get(c) not in named]
    if orphans:
        raise ValueError(
            f"model.views names no family for the features {orphans} (families "
            f"{sorted({family.get(c, '?') for c in orphans})}); add each family to a view"
        )
    out: dict[str, list[str]] = {}
    for view, fams in views.items():
        own = [c for c in feature_cols if c not in shared and family.get(c) in fams]
        if own:
            out[view] = [*[c for c in shared if c in feature_cols], *own]
        else:
            log.info("view %s: none of its features (%s) is present; left out", view, ", ".join(fams))
    return out


def fit_views(
    train_df: DataFrame,
    views: Mapping[str, list[str]],
    cfg: ModelConfig,
    num_workers: int,
    validate: bool = True,
    rounds: int | None = None,
) -> ViewEnsemble:
    """Fit one classifier per view on the same rows (``fit`` each, the rows read once).

    With early stopping configured and ``validate=False``, each view's rounds come from its own
    fit on the time split first, then it is refitted on every row for that many rounds.
    """
    cols = list(dict.fromkeys(c for v in views.values() for c in v))
    keys = [k for k in ROW_KEYS if k in train_df.columns]
    if not validate:
        train_df = train_df.withColumn(VALIDATION_COL, F.lit(False))
    data = train_df.select(*cols, LABEL_COL, VALIDATION_COL, *keys).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        pos, neg = class_balance(data)
        weight = neg / pos if cfg.class_weight == "balanced" and pos else 1.0
        base = weight * pos / (weight * pos + neg) if pos + neg else 0.0
        shared = tuple(c for c in cols if all(c in v for v in views.values())) if len(views) > 1 else ()
        members: dict[str, SparkXGBClassifierModel] = {}
        for view, view_cols in views.items():
            log.info("view %s: %d inputs", view, len(view_cols))
            view_rounds = rounds
            if not validate and rounds is None and cfg.xgb.early_stopping_rounds:
                best = fit(data, view_cols, cfg, num_workers).get_booster().attr("best_iteration")
                view_rounds = int(best) + 1 if best is not None else None
            members[view] = fit(data, view_cols, cfg, num_workers, validate=validate, rounds=view_rounds)
    finally:
        data.unpersist()
    log.info("views %s: base rate %.4f (the share of positives the classifiers were fitted to)", list(members), base)
    return ViewEnsemble(members, base, shared)


def fit_model(
    train_df: DataFrame,
    feature_cols: list[str],
    views: Mapping[str, list[str]] | None,
    cfg: ModelConfig,
    num_workers: int,
    validate: bool = True,
    rounds: int | None = None,
) -> Model:
    """A ``ViewEnsemble`` over `views`, or one classifier over `feature_cols` when `views` is None.

    ``validate=False`` with early stopping configured: the rounds come from a fit on the time split,
    then every row trains for that many (per view, for an ensemble).
    """
    if views:
        return fit_views(train_df, views, cfg, num_workers, validate=validate, rounds=rounds)
    if not validate and rounds is None and cfg.xgb.early_stopping_rounds:  # rounds from the time split
        best = fit(train_df, feature_cols, cfg, num_workers).get_booster().attr("best_iteration")
        rounds = int(best) + 1 if best is not None else None
    return fit(train_df, feature_cols, cfg, num_workers, validate=validate, rounds=rounds)


def boosters(model: Model) -> list[tuple[str, bytes, list[str], tuple[int, int]]]:
    """Per view: (name, booster bytes, its columns, the iteration range xgboost.spark predicts with:
    up to the best iteration, else all). One classifier is one view named ``""``."""
    members = model.members if isinstance(model, ViewEnsemble) else {"": model}
    out = []
    for view, member in members.items():
        booster = member.get_booster()
        best = booster.attr("best_iteration")
        iterations = (0, int(best) + 1) if best is not None else (0, 0)
        out.append((view, bytes(booster.save_raw("ubj")), list(member.getOrDefault("features_cols")), iterations))
    return out


def noisy_or(probabilities: np.ndarray) -> np.ndarray:
    """1 - prod(1 - p) over the last axis."""
    return 1.0 - np.prod(1.0 - probabilities, axis=-1)


def evidence(probability: np.ndarray, base: float, seen: np.ndarray) -> np.ndarray:
    """What a view's probability adds to the base rate, on [0, 1]; 0 where it saw no input (`seen` false)."""
    lift = np.clip((probability - base) / (1.0 - base), 0.0, 1.0) if base < 1.0 else np.zeros_like(probability)
    return np.where(seen, lift, 0.0)


def _predict_views(model: ViewEnsemble, df: DataFrame) -> DataFrame:
    """`df` plus ``score``: every view's booster in one Arrow pass (the rows travel to Python once)."""
    members = boosters(model)
    columns = model.feature_cols
    base, shared = model.base, set(model.shared)

    @F.pandas_udf("double")  # type: ignore[call-overload]  # the stubs lack iterator UDFs
    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.Series]:
        import xgboost as xgb

        local = []
        for _, raw, cols, iterations in members:
            b = xgb.Booster(params={"nthread": 1})
            b.load_model(bytearray(raw))
            local.append((b, cols, [c for c in cols if c not in shared], iterations))
        for features in batches:
            lifts = np.column_stack([
                evidence(
                    b.predict(xgb.DMatrix(features[cols].to_numpy(dtype=np.float32), missing=np.nan, nthread=1),
                              iteration_range=it, validate_features=False),
                    base,
                    features[own].notna().to_numpy().any(axis=1),
                )
                for b, cols, own, it in local
            ])
            yield pd.Series(noisy_or(lifts))

    return df.withColumn("score", score(F.struct(*[F.col(c).cast("double").alias(c) for c in columns])))
