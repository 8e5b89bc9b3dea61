"""Job: point-in-time snapshots, the backtest that picks the training setting, the model, MLflow.

One MLflow run per training: the backtest of every candidate (out of time, on cards the models
never saw), the chosen setting, then the model fitted with it on every label known by the run
date (each from the snapshot before its label), its tier thresholds and the registered version.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass
from typing import Any

import matplotlib.pyplot as plt
import mlflow
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from realname_guard.core.schema import feature_columns
from realname_guard.core.tables import Tables
from realname_guard.jobs.backtest import (
    METRIC,
    BacktestResult,
    build_snapshots,
    chosen_config,
    evaluate_model,
    log_backtest,
    run_backtest,
    settings,
    share_thresholds,
    snapshot_dates,
)
from realname_guard.jobs.context import JobContext, RunState, model_views, start_tracking
from realname_guard.models import card
from realname_guard.models.anomaly import FarOut
from realname_guard.models.backtest import GateDecision, gate_decision
from realname_guard.models.dataset import build_training_set
from realname_guard.models.drift import reference as drift_reference
from realname_guard.models.evaluate import CurvePoint
from realname_guard.models.registry import has_champion, load_champion, log_model, record_gate
from realname_guard.models.train import Model, fit_model, predict, resolve_num_workers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    run_id: str
    model_uri: str
    version: str
    metrics: dict[str, float]
    thresholds: dict[str, float]


DRIFT_REFERENCE = "drift_reference.json"  # artifact of the training run


def _flat(prefix: str, data: Any) -> dict[str, Any]:
    """Flatten a nested config into MLflow params (`model.xgb.max_depth` → 5)."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flat(f"{prefix}.{k}" if prefix else str(k), v))
        return out
    return {prefix: json.dumps(data) if isinstance(data, list | tuple) else data}


def snapshots_for(ctx: JobContext, tables: Tables | None, features: DataFrame) -> dict[dt.date, DataFrame]:
    """The training snapshots and the backtest's start, plus today's features under the run date."""
    if tables is None:
        log.warning("no input tables at training: one snapshot (the run date's features); not point in time")
        return {ctx.run_date: features}
    with ctx.stage("snapshots"):
        snaps = build_snapshots(ctx, tables, snapshot_dates(ctx.run_date, ctx.cfg.model))
    snaps[ctx.run_date] = features
    return snaps


def run_train(
    ctx: JobContext, features: DataFrame, labels: DataFrame | None, tables: Tables | None = None
) -> TrainResult:
    """Snapshots, backtest, the chosen setting fitted on every label, thresholds, the registry."""
    cfg = ctx.cfg
    if labels is None:
        raise ValueError("training needs the labels table (confirmed outcomes); none was delivered")
    snapshots = snapshots_for(ctx, tables, features)
    far_out = FarOut(cfg.policy.anomaly)  # the backtest and the final fit draw from the same oldest snapshot
    experiment_id = start_tracking(ctx)
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"train-{ctx.run_date_str}") as run:
        mlflow.log_params(_flat("config.policy.tiers", asdict(cfg.policy.tiers)))
        backtest = None
        if ctx.run_date - dt.timedelta(days=cfg.model.backtest.horizon_days) in snapshots:
            with ctx.stage("backtest"):
                backtest = run_backtest(ctx, snapshots, labels, far_out)
                metrics = log_backtest(backtest)
                ctx.summary["backtest"] = backtest.summary()
        else:
            metrics = {}
        with ctx.stage("train"):
            mcfg = chosen_config(cfg.model, backtest)
            cols = feature_columns(features)
            mlflow.log_params(
                {
                    "run_date": ctx.run_date_str,
                    "features.enabled": json.dumps([s.name for s in cfg.features.enabled]),
                    "features.count": len(cols),
                    "features.activity_window_days": cfg.features.activity_window_days,
                    "snapshots": json.dumps(sorted(d.isoformat() for d in snapshots)),
                    **{f"chosen.{k}": v for k, v in settings(mcfg).items()},
                }
            )
            # The run date's own features close the ladder: no label takes them but an old one
            # on a card nothing was done to (model.point_in_time.older_labels: unaffected).
            ladder = {d: f for d, f in snapshots.items() if (ctx.run_date - d).days in
                      (0, *cfg.model.point_in_time.snapshot_days_back)}
            training = build_training_set(ladder, labels, ctx.run_date, mcfg, far_out).cache()
            counts = training.groupBy("is_validation", "label").count().collect()  # small: ≤ 4 rows
            sizes = {f"rows.{'val' if r['is_validation'] else 'train'}.{r['label']}": r["count"] for r in counts}
            mlflow.log_params(sizes)
            workers = resolve_num_workers(mcfg, ctx.spark)
            views = model_views(mcfg, cols)
            if views:
                mlflow.log_param("views", json.dumps(views))
            # With early stopping configured, the rounds come from the time split, then every row
            # trains (per view: models.train.fit_views).
            model = fit_model(training, cols, views, mcfg, workers, validate=False)
            training.unpersist()
            # The cards of the training day, binned per input: scoring measures drift against them.
            mlflow.log_dict(drift_reference(features, cols, mcfg.seed), DRIFT_REFERENCE)
            tiers = cfg.policy.tiers
            chosen = backtest.chosen if backtest else None
            today = predict(model, features).select("closed", "score").cache()
            found = share_thresholds(today, chosen.shares if chosen else None)
            thresholds = found or {"high": tiers.high, "medium": tiers.medium}
            listed_share = medium_share(today, thresholds["medium"] if tiers.source == "model" else tiers.medium)
            today.unpersist()
            source = "backtest" if found else "fixed (the backtest measured too few confirmations)"
            if tiers.source == "fixed":
                source += "; scoring uses the fixed policy.tiers (source: fixed)"
            mlflow.log_metrics({f"threshold_{k}": v for k, v in thresholds.items()})
            mlflow.log_param("thresholds.source", source)
            tagged: dict[str, float | None] = dict(thresholds)
            uri, version = log_model(model, cols, tagged, metrics, mcfg, cfg.run.mlflow, as_champion=False)
            gate = None
            if version is not None:
                with ctx.stage("gate"):
                    gate = run_gate(ctx, backtest, snapshots, labels, listed_share)
                record_gate(cfg.run.mlflow, version, gate.promote, gate.reason)
                mlflow.set_tags({"gate": "promoted" if gate.promote else "refused", "gate_reason": gate.reason})
                mlflow.log_metrics({f"gate.{k}": float(v) for k, v in asdict(gate).items()
                                    if isinstance(v, float) and v == v})
            with ctx.stage("model card"):
                log_model_card(ctx, model, features, cols, backtest, {
                    "name": cfg.run.mlflow.model_name, "version": version, "run_date": ctx.run_date_str,
                    "snapshots": sorted(d.isoformat() for d in snapshots if d != ctx.run_date),
                    "n_features": len(cols), "views": list(views or {}), "monotone": len(
                        [c for c in mcfg.monotone_increasing if c in cols]),
                    "setting": settings(mcfg), "training_rows": sizes, "metrics": metrics,
                    "gate": asdict(gate) if gate else None,
                })
            result = TrainResult(run.info.run_id, uri, str(version), metrics, thresholds)
    ctx.summary["model"] = {
        "name": cfg.run.mlflow.model_name,
        "version": result.version,
        "alias": cfg.run.mlflow.alias,
        "training_run_id": result.run_id,
        "metrics": metrics,
        "thresholds": thresholds,
        "thresholds_source": source,
        "training_rows": sizes,
        "setting": settings(mcfg),
        "gate": asdict(gate) if gate else None,
    }
    log.info("model %s v%s: backtest %s", cfg.run.mlflow.model_name, result.version, metrics)
    return result


SHAP_SAMPLE = 2000  # cards whose SHAP contributions the model card's summary averages


def log_model_card(
    ctx: JobContext,
    model: Model,
    features: DataFrame,
    cols: list[str],
    backtest: BacktestResult | None,
    info: dict[str, Any],
) -> None:
    """The model version's artifacts for a data scientist (models.card): the backtest's PR curves
    (chosen setting and naive baseline), a SHAP summary over a bounded sample of today's cards,
    the feature importance, and the model card."""
    chosen = backtest.chosen if backtest else None
    baseline = backtest.baseline if backtest else None
    curves: dict[str, list[CurvePoint]] = {}
    for r, suffix in ((chosen, " (chosen)"), (baseline, "")):
        if r is not None:
            curves[r.name + suffix] = r.points or []
    title = (f"Backtest {backtest.start} to {backtest.end}: cards confirmed since, never trained on"
             if backtest else "Backtest: not run")
    mlflow.log_figure(card.pr_figure(curves, title), "backtest_pr_curve.png")
    n = features.count()
    sample = features.select(*[F.col(c).cast("double").alias(c) for c in cols]).sample(fraction=min(1.0, 2.0 * SHAP_SAMPLE / max(n, 1)),
                                           seed=ctx.cfg.model.seed).limit(SHAP_SAMPLE).toPandas()  # small: at most SHAP_SAMPLE rows
    shap = card.shap_means(model, sample)
    mlflow.log_figure(card.bar_figure(shap, f"SHAP summary: mean |contribution| over {len(sample):,} cards",
                                      "mean |SHAP value| (log-odds), summed over views"), "shap_summary.png")
    importance = card.feature_importance(model)
    mlflow.log_figure(card.bar_figure(importance, "Feature importance (total gain)", "total gain"),
                      "feature_importance.png")
    mlflow.log_dict({"total_gain": importance, "mean_abs_shap": shap}, "feature_importance.json")
    mlflow.log_text(card.model_card({
        **info, "importance": importance,
        "backtest_start": backtest.start.isoformat() if backtest else "n/a",
        "baseline_metrics": baseline.metrics if baseline else {},
    }), "model_card.md")
    plt.close("all")


def medium_share(scores: DataFrame, medium: float) -> float | None:
    """Share of today's open cards scoring at or above `medium` (one aggregate)."""
    row = scores.where(~F.coalesce(F.col("closed"), F.lit(False))).agg(
        F.count(F.lit(1)).alias("n"), F.count(F.when(F.col("score") >= medium, 1)).alias("m")).first()
    return row["m"] / row["n"] if row and row["n"] else None


def run_gate(
    ctx: JobContext,
    backtest: BacktestResult | None,
    snapshots: dict[dt.date, DataFrame],
    labels: DataFrame,
    listed_share: float | None,
) -> GateDecision:
    """The champion/challenger gate (``model.gate``): the backtest's chosen setting against the
    champion model scored on the same window. A champion trained after the window began has seen
    some of its confirmations as labels: flattered, it is harder to replace (the safe direction)."""
    cfg = ctx.cfg
    exists = has_champion(cfg.run.mlflow)
    chosen = backtest.chosen if backtest else None
    measured = (chosen is not None and chosen.ranked is not None and chosen.ranked.positives
                and chosen.metrics.get("positives", 0) >= cfg.model.backtest.min_positives
                and chosen.score(METRIC) > float("-inf"))
    challenger = (chosen.score(METRIC), chosen.ranked) if measured and chosen and chosen.ranked else None
    champion = None
    if exists and challenger is not None and backtest is not None and cfg.model.gate.enabled:
        loaded = load_champion(cfg.run.mlflow)
        result = evaluate_model(ctx, f"champion-v{loaded.version}", loaded.model, loaded.feature_cols,
                                snapshots[backtest.start], labels, backtest.start)
        if result.ranked is not None and result.score(METRIC) > float("-inf"):
            champion = (result.score(METRIC), result.ranked)
    decision = gate_decision(challenger, champion, exists, listed_share, cfg.model.gate, seed=cfg.model.seed)
    (log.info if decision.promote else log.warning)("gate: %s: %s", "promoted" if decision.promote else "refused",
                                                     decision.reason)
    return decision


def step(ctx: JobContext, state: RunState) -> None:
    """The `train` step: snapshots, backtest, fit on every label, register the champion."""
    run_train(ctx, state.feature_table(), state.labels, state.tables)
