"""Job: train the classifier on labelled cards and register it in MLflow as the champion."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from typing import Any

import mlflow
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from xgboost.spark import SparkXGBClassifierModel

from jobs.context import JobContext
from jobs.features import feature_columns
from models.dataset import build_training_set
from models.evaluate import evaluate, threshold_for_precision
from models.registry import ensure_experiment, log_model
from models.train import fit, predict, resolve_num_workers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    run_id: str
    model_uri: str
    version: str
    metrics: dict[str, float]
    thresholds: dict[str, float]


def _flat(prefix: str, data: Any) -> dict[str, Any]:
    """Flatten a nested config into MLflow params (`model.xgb.max_depth` → 5)."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flat(f"{prefix}.{k}" if prefix else str(k), v))
        return out
    return {prefix: json.dumps(data) if isinstance(data, list | tuple) else data}


def start_tracking(ctx: JobContext) -> str:
    """Point MLflow at the configured store and make sure the experiment exists; return its id."""
    mlflow.set_tracking_uri(ctx.cfg.tracking_uri)
    return ensure_experiment(ctx.cfg.run.mlflow.experiment, ctx.cfg.artifact_root)


def refit_on_all_labels(
    validated: SparkXGBClassifierModel, training: DataFrame, cols: list[str], ctx: JobContext
) -> SparkXGBClassifierModel:
    """The model to register: the validated one's rounds, fitted on training and validation rows.

    The metrics and thresholds stay those of the validated model (the refit has no held-out
    labels); the time split would otherwise keep the newest labels, often the only ones of a
    typology that has just become active, out of the model.
    """
    best = validated.get_booster().attr("best_iteration")
    rounds = int(best) + 1 if best is not None else ctx.cfg.model.xgb.n_estimators
    log.info("refitting on the training and validation rows for %d rounds", rounds)
    mlflow.log_params({"refit_on_all_labels": True, "refit_rounds": rounds})
    everything = training.withColumn("is_validation", F.lit(False))
    workers = resolve_num_workers(ctx.cfg.model, ctx.spark)
    return fit(everything, cols, ctx.cfg.model, workers, validate=False, rounds=rounds)


def run_train(ctx: JobContext, features: DataFrame, labels: DataFrame | None) -> TrainResult:
    """One MLflow run: the training set, fit, validation metrics, thresholds, the model."""
    cfg = ctx.cfg
    if labels is None:
        raise ValueError("training needs the labels table (confirmed outcomes); none was delivered")
    with ctx.stage("train"):
        experiment_id = start_tracking(ctx)
        cols = feature_columns(features)
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"train-{ctx.run_date_str}") as run:
            mlflow.log_params(_flat("config.policy.tiers", asdict(cfg.policy.tiers)))
            mlflow.log_params(
                {
                    "run_date": ctx.run_date_str,
                    "features.enabled": json.dumps([s.name for s in cfg.features.enabled]),
                    "features.count": len(cols),
                    "features.activity_window_days": cfg.features.activity_window_days,
                }
            )
            training = build_training_set(features, labels, ctx.run_date, cfg.model).cache()
            counts = training.groupBy("is_validation", "label").count().collect()  # small: ≤ 4 rows
            sizes = {f"rows.{'val' if r['is_validation'] else 'train'}.{r['label']}": r["count"] for r in counts}
            mlflow.log_params(sizes)
            model = fit(training, cols, cfg.model, resolve_num_workers(cfg.model, ctx.spark))
            val = predict(model, training.where("is_validation")).cache()
            metrics = evaluate(val)
            tiers = cfg.policy.tiers
            high = threshold_for_precision(val, tiers.high_precision)
            medium = threshold_for_precision(val, tiers.medium_precision)
            thresholds: dict[str, float] = {
                "high": float(high if high is not None else tiers.high),
                "medium": float(medium if medium is not None else tiers.medium),
            }
            thresholds["medium"] = min(thresholds["medium"], thresholds["high"])
            mlflow.log_metrics({f"threshold_{k}": v for k, v in thresholds.items()})
            if cfg.model.refit_on_all_labels:
                model = refit_on_all_labels(model, training, cols, ctx)
            tagged: dict[str, float | None] = dict(thresholds)
            uri, version = log_model(model, cols, tagged, metrics, cfg.model, cfg.run.mlflow)
            training.unpersist()
            val.unpersist()
            result = TrainResult(run.info.run_id, uri, str(version), metrics, thresholds)
    ctx.summary["model"] = {
        "name": cfg.run.mlflow.model_name,
        "version": result.version,
        "alias": cfg.run.mlflow.alias,
        "training_run_id": result.run_id,
        "metrics": metrics,
        "thresholds": thresholds,
        "training_rows": sizes,
        "refit_on_all_labels": cfg.model.refit_on_all_labels,
    }
    log.info("model %s v%s: %s", cfg.run.mlflow.model_name, result.version, metrics)
    return result
