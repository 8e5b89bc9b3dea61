"""The model in MLflow: log and register it inside the caller's run, load the champion back.

The model is logged with the Spark flavour (a PipelineModel wrapping the xgboost.spark model, or
one stage per view of a ``ViewEnsemble``, the view names in the JSON artifact) and
loaded with ``mlflow.spark.load_model``, never through ``pyfunc.spark_udf`` (STACK-NOTES #6).
Feature columns and thresholds travel with it: a JSON artifact of the run, and the thresholds
also as tags on the registered version.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import math
import tempfile
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import mlflow
import mlflow.spark
from mlflow import MlflowClient
from pyspark.ml import PipelineModel
from xgboost.spark import SparkXGBClassifierModel

from realname_guard.core.config import MlflowConfig, ModelConfig
from realname_guard.models.train import Model, ViewEnsemble

log = logging.getLogger(__name__)

MODEL_ARTIFACT = "model"
META_ARTIFACT = "realname_guard_model.json"
THRESHOLD_TAG_PREFIX = "threshold."
# Requirements given explicitly: inferring them costs ~30 s for the Spark flavour (STACK-NOTES #7).
_REQUIREMENT_DISTS = (
    "mlflow",
    "pyspark",
    "xgboost-cpu",
    "xgboost",
    "scikit-learn",
    "pandas",
    "pyarrow",
    "numpy",
)


@dataclass(frozen=True)
class LoadedModel:
    """A registered model ready for ``models.train.predict`` and ``models.explain.add_reasons``."""

    model: Model
    feature_cols: list[str]
    thresholds: dict[str, float | None]
    name: str
    version: str
    run_id: str
    trained_on: dt.date | None = None  # the training run's run date (its param run_date), if it logged one


def pip_requirements() -> list[str]:
    """Pinned requirements of the installed packages the model needs to load and predict."""
    reqs = []
    for dist in _REQUIREMENT_DISTS:
        try:
            reqs.append(f"{dist}=={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            continue
    return reqs


def ensure_experiment(name: str, artifact_location: str | None) -> str:
    """Id of experiment `name`, creating it with an explicit artifact location if it is new.

    With a SQLite store, an experiment created without one puts artifacts under ``./mlruns`` of
    the working directory (STACK-NOTES #5). None leaves the location to a tracking server (its
    ``--artifacts-destination``). An existing experiment keeps its location.
    """
    client = MlflowClient()
    existing = client.get_experiment_by_name(name)
    if existing is not None:
        if existing.lifecycle_stage == "deleted":
            client.restore_experiment(existing.experiment_id)
        if artifact_location is not None and existing.artifact_location.rstrip("/") not in (
            artifact_location.rstrip("/"),
            "file://" + artifact_location.rstrip("/"),
        ):
            log.info("experiment %r keeps its artifact location %s", name, existing.artifact_location)
        return existing.experiment_id
    return client.create_experiment(name, artifact_location=artifact_location)


def _threshold_tag(value: float | None) -> str:
    return "none" if value is None or (isinstance(value, float) and math.isnan(value)) else repr(float(value))


def _parse_threshold(text: str) -> float | None:
    return None if text == "none" else float(text)


def log_model(
    model: Model,
    feature_cols: list[str],
    thresholds: dict[str, float | None],
    metrics: dict[str, float],
    cfg: ModelConfig,
    mlflow_cfg: MlflowConfig,
    as_champion: bool = True,
) -> tuple[str, str | None]:
    """Log the model, its features, thresholds and metrics to the active run; register it.

    Registers under ``mlflow_cfg.model_name`` with the alias ``mlflow_cfg.challenger_alias`` unless
    ``cfg.register`` is false, and with ``mlflow_cfg.alias`` too when `as_champion`; otherwise the
    gate (:func:`record_gate`) or a person (:func:`promote`) moves that. Returns (logged model URI,
    version or None).
    """
    run = mlflow.active_run()
    if run is None:
        raise RuntimeError("models.registry.log_model needs an active MLflow run (start one in the job)")
    finite = {k: float(v) for k, v in metrics.items() if v is not None and not math.isnan(float(v))}
    mlflow.log_metrics(finite)
    members = model.members if isinstance(model, ViewEnsemble) else {"": model}
    for view, member in members.items():
        best = member.get_booster().attr("best_iteration")
        if best is not None:
            mlflow.log_metric(f"best_iteration.{view}" if view else "best_iteration", float(best))
    mlflow.log_params({f"model.{k}": v for k, v in _model_params(next(iter(members.values())), cfg).items()})
    meta: dict[str, Any] = {"feature_cols": list(feature_cols), "thresholds": thresholds, "metrics": finite}
    if isinstance(model, ViewEnsemble):  # the stages in this order, one per view; the score their noisy-OR
        meta["views"] = {view: model.columns(view) for view in model.members}
        meta["views_base"] = model.base
        meta["views_shared"] = list(model.shared)
    mlflow.log_dict(meta, META_ARTIFACT)
    logged = PipelineModel(stages=list(model.members.values())) if isinstance(model, ViewEnsemble) else model
    info = mlflow.spark.log_model(
        logged,
        MODEL_ARTIFACT,
        pip_requirements=pip_requirements(),
    )
    if not cfg.register:
        return info.model_uri, None
    client = MlflowClient()
    version = mlflow.register_model(
        info.model_uri, mlflow_cfg.model_name, tags=_version_tags(thresholds, feature_cols)
    )
    aliases = [mlflow_cfg.challenger_alias, *([mlflow_cfg.alias] if as_champion else [])]
    for alias in aliases:
        client.set_registered_model_alias(mlflow_cfg.model_name, alias, version.version)
    log.info(
        "registered %s version %s as %s (run %s)",
        mlflow_cfg.model_name,
        version.version,
        ", ".join(f"@{a}" for a in aliases),
        run.info.run_id,
    )
    return info.model_uri, str(version.version)


def has_champion(mlflow_cfg: MlflowConfig) -> bool:
    try:
        MlflowClient().get_model_version_by_alias(mlflow_cfg.model_name, mlflow_cfg.alias)
    except mlflow.exceptions.MlflowException:
        return False
    return True


def record_gate(mlflow_cfg: MlflowConfig, version: str, promote: bool, reason: str) -> None:
    """Tag `version` with the gate's decision; move ``mlflow_cfg.alias`` to it when promoted."""
    client = MlflowClient()
    client.set_model_version_tag(mlflow_cfg.model_name, version, "gate", "promoted" if promote else "refused")
    client.set_model_version_tag(mlflow_cfg.model_name, version, "gate_reason", reason[:5000])
    if promote:
        client.set_registered_model_alias(mlflow_cfg.model_name, mlflow_cfg.alias, version)
    log.info("%s version %s %s: %s", mlflow_cfg.model_name, version,
             f"is now @{mlflow_cfg.alias}" if promote else f"refused; @{mlflow_cfg.alias} unchanged", reason)


def promote(mlflow_cfg: MlflowConfig, version: str, reason: str, by: str) -> str | None:
    """A person's decision: move ``mlflow_cfg.alias`` to `version`, recorded as tags on it (who,
    when, why, and the version it replaced). Returns the replaced version, or None."""
    client = MlflowClient()
    client.get_model_version(mlflow_cfg.model_name, version)  # raises, naming it, when there is none
    try:
        before: str | None = str(client.get_model_version_by_alias(mlflow_cfg.model_name, mlflow_cfg.alias).version)
    except mlflow.exceptions.MlflowException:
        before = None
    tags = {"promoted_by": by, "promote_reason": reason,
            "promoted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "promoted_over": before or ""}
    for key, value in tags.items():
        client.set_model_version_tag(mlflow_cfg.model_name, version, key, value)
    client.set_registered_model_alias(mlflow_cfg.model_name, mlflow_cfg.alias, version)
    log.info("%s version %s promoted to @%s by %s (was %s): %s", mlflow_cfg.model_name, version,
             mlflow_cfg.alias, by, before, reason)
    return before


def _version_tags(thresholds: dict[str, float | None], feature_cols: list[str]) -> dict[str, str]:
    tags = {f"{THRESHOLD_TAG_PREFIX}{k}": _threshold_tag(v) for k, v in thresholds.items()}
    tags["n_features"] = str(len(feature_cols))
    return tags


def _model_params(model: SparkXGBClassifierModel, cfg: ModelConfig) -> dict[str, Any]:
    """Parameters worth seeing next to the run: the config's and what training derived."""
    params: dict[str, Any] = {f"xgb.{k}": v for k, v in dataclasses.asdict(cfg.xgb).items()}
    params.update(
        seed=cfg.seed,
        validation_fraction=cfg.validation_fraction,
        unlabeled_negative_rate=cfg.unlabeled_negative_rate,
        negatives_per_positive=cfg.negatives_per_positive,
        skip_far_out_negatives=cfg.skip_far_out_negatives,
        class_weight=cfg.class_weight,
        person_labels_apply_to_cards=cfg.person_labels_apply_to_cards,
        person_label_window_days=cfg.person_label_window_days,
        num_workers=model.getOrDefault(model.num_workers),
        scale_pos_weight=model.getOrDefault(model.getParam("scale_pos_weight"))
        if model.hasParam("scale_pos_weight") and model.isDefined(model.getParam("scale_pos_weight"))
        else None,
    )
    return params


def champion_trained_on(mlflow_cfg: MlflowConfig) -> tuple[str, dt.date | None] | None:
    """(version, the run date its training run logged) of ``<name>@<alias>``, or None if there is
    no such alias yet. Reads the registry only: no model is loaded."""
    client = MlflowClient()
    try:
        version = client.get_model_version_by_alias(mlflow_cfg.model_name, mlflow_cfg.alias)
    except mlflow.exceptions.MlflowException:
        return None
    trained = client.get_run(version.run_id).data.params.get("run_date") if version.run_id else None
    return str(version.version), dt.date.fromisoformat(trained) if trained else None


def load_champion(mlflow_cfg: MlflowConfig) -> LoadedModel:
    """Load ``models:/<name>@<alias>`` with its features, thresholds and provenance."""
    client = MlflowClient()
    version = client.get_model_version_by_alias(mlflow_cfg.model_name, mlflow_cfg.alias)
    uri = f"models:/{mlflow_cfg.model_name}@{mlflow_cfg.alias}"
    pipeline = mlflow.spark.load_model(uri)
    stages = list(pipeline.stages) if isinstance(pipeline, PipelineModel) else [pipeline]
    for stage in stages:
        if not isinstance(stage, SparkXGBClassifierModel):
            raise TypeError(f"{uri} holds a {type(stage).__name__}, not a SparkXGBClassifierModel")
    with tempfile.TemporaryDirectory(prefix="rg-meta-") as tmp:
        path = mlflow.artifacts.download_artifacts(
            run_id=version.run_id, artifact_path=META_ARTIFACT, dst_path=tmp
        )
        with open(path, encoding="utf-8") as fh:
            meta = json.load(fh)
    views = list(meta.get("views") or {})
    if views and len(views) != len(stages):
        raise TypeError(f"{uri} holds {len(stages)} stages for the {len(views)} views {views}")
    model: Model = (
        ViewEnsemble(dict(zip(views, stages, strict=True)), float(meta["views_base"]), tuple(meta["views_shared"]))
        if views else stages[0]
    )
    thresholds: dict[str, float | None] = dict(meta.get("thresholds", {}))
    for key, value in (version.tags or {}).items():  # tags win: they can be revised without retraining
        if key.startswith(THRESHOLD_TAG_PREFIX):
            thresholds[key[len(THRESHOLD_TAG_PREFIX) :]] = _parse_threshold(value)
    trained = client.get_run(version.run_id).data.params.get("run_date") if version.run_id else None
    log.info(
        "loaded %s version %s (@%s, run %s)",
        mlflow_cfg.model_name,
        version.version,
        mlflow_cfg.alias,
        version.run_id,
    )
    return LoadedModel(
        model=model,
        feature_cols=list(meta["feature_cols"]),
        thresholds=thresholds,
        name=mlflow_cfg.model_name,
        version=str(version.version),
        run_id=version.run_id or "",
        trained_on=dt.date.fromisoformat(trained) if trained else None,
    )
