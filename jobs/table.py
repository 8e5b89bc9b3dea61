"""Jobs: train and score a labelled table from outside the contract (``train-table``, ``score-table``).

``train-table`` reads the table against its declaration (core/datasets.py), cross-validates every
training setting the declaration lists over stratified folds, keeps the declared setting unless
another beats it in the paired bootstrap, sets the decision threshold from the out-of-fold scores,
refits on every row and registers ``realname-guard-<dataset>@champion``. MLflow: one parent run,
and one child run per fold holding that fold's metrics for every setting. ``score-table`` loads
the champion and writes ``table_scores/dataset=<name>/`` (key, score, flagged) with a report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import math
import time
import uuid
from dataclasses import dataclass
from typing import Any

import mlflow
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from realname_guard.core.config import Config, MlflowConfig
from realname_guard.core.datasets import DatasetDecl, check_columns, input_names, local_columns, table_format
from realname_guard.core.io import Fs
from realname_guard.core.spark import get_spark
from realname_guard.features.declared import derived_columns
from realname_guard.models import table as tm
from realname_guard.models.evaluate import evaluate, pr_curve
from realname_guard.models.registry import ensure_experiment, load_champion, log_model
from realname_guard.models.train import LABEL_COL, VALIDATION_COL, fit, predict, resolve_num_workers

log = logging.getLogger(__name__)

FLOAT_MAX = 3.4028234663852886e38  # XGBoost stores float32: a larger magnitude would become inf
THRESHOLD_KEY = "flag"  # the stored threshold: flagged = score >= it
TRAINING_ARTIFACT = "table_training.json"


class TableError(ValueError):
    """The table's values do not fit its declaration; the message names the column."""


# -- reading -------------------------------------------------------------------------------------
def precheck(decl: DatasetDecl, path: str, with_label: bool, encoding: str = "UTF-8") -> str:
    """Before Spark starts: the model inputs' names, the table's format, and its columns against
    the declaration when the table is on the local file system (a URI is checked after Spark
    reads its header)."""
    input_names(decl)
    fmt = table_format(path)
    columns = local_columns(path, fmt, encoding)
    if columns is not None:
        check_columns(decl, path, columns, with_label)
    return fmt


def read_table(spark: SparkSession, decl: DatasetDecl, path: str, fmt: str, with_label: bool,
               encoding: str = "UTF-8") -> DataFrame:
    """The table as ``key``, ``label`` (when `with_label`), one double per declared feature (named
    by `input_names`) and the derived inputs; values that do not parse as their declared type fail
    with the column, the count and an example, in one pass."""
    if fmt == "csv":
        raw = spark.read.option("header", True).option("encoding", encoding).csv(path)  # every column a string
    else:
        raw = spark.read.parquet(path)
    check_columns(decl, path, raw.columns, with_label)
    names = input_names(decl)
    typed: list[tuple[str, Column, Column]] = []  # (column, parsed value, a value that does not fit)
    for col, kind in decl.features.items():
        text = F.trim(F.col(f"`{col}`").cast("string"))
        present = text.isNotNull() & (text != "")
        if kind == "boolean":
            upper = F.upper(text)
            value = (F.when(upper.isin(*[v.upper() for v in decl.true_values]), F.lit(1.0))
                     .when(upper.isin(*[v.upper() for v in decl.false_values]), F.lit(0.0)))
            bad = present & value.isNull()
        else:  # numeric, and categorical codes (label-encoded integers; text categories are not read yet)
            number = text.try_cast("double")
            value = F.when(F.abs(number) <= FLOAT_MAX, number)  # NaN is missing; inf and beyond float32 do not fit
            bad = present & (number.isNull() | (~F.isnan(number) & value.isNull()))
        typed.append((col, value, bad))
    key_text = F.col(f"`{decl.key}`").cast("string")
    label_value = F.trim(F.col(f"`{decl.label}`").cast("string")).try_cast("double") if with_label else None
    checks = [F.count(F.when(bad, 1)).alias(f"bad{i}") for i, (_, _, bad) in enumerate(typed)]
    examples = [F.first(F.when(bad, F.col(f"`{col}`").cast("string")), ignorenulls=True).alias(f"ex{i}")
                for i, (col, _, bad) in enumerate(typed)]
    extra = [F.count(F.lit(1)).alias("rows"), F.count(F.when(key_text.isNull(), 1)).alias("null_keys"),
             F.count_distinct(key_text).alias("keys")]
    if label_value is not None:
        extra.append(F.count(F.when(label_value.isNull() | ~label_value.isin(0.0, 1.0), 1)).alias("bad_labels"))
    stats = raw.agg(*checks, *examples, *extra).first()  # small: one row of counts
    assert stats is not None
    if stats["rows"] == 0:
        raise TableError(f"{path} (dataset {decl.name!r}): the table has no rows")
    problems = []
    for i, (col, _, _) in enumerate(typed):
        if stats[f"bad{i}"]:
            kind = decl.features[col]
            want = {"boolean": "one of " + "/".join(decl.true_values + decl.false_values),
                    "numeric": "finite numbers",
                    "categorical": "numeric codes (label-encode text categories)"}[kind]
            problems.append(f"column {col!r} ({kind}): {stats[f'bad{i}']} values are not {want}, e.g. {stats[f'ex{i}']!r}")
    if stats["null_keys"]:
        problems.append(f"key column {decl.key!r}: {stats['null_keys']} rows have no key")
    if stats["keys"] != stats["rows"] - stats["null_keys"]:
        problems.append(f"key column {decl.key!r}: {stats['rows'] - stats['null_keys'] - stats['keys']} duplicate keys")
    if label_value is not None and stats["bad_labels"]:
        problems.append(f"label column {decl.label!r}: {stats['bad_labels']} rows are not 0 or 1")
    if problems:
        raise TableError(f"{path} (dataset {decl.name!r}): " + "; ".join(problems))
    cols = [key_text.alias(tm.KEY_COL), *([label_value.alias(LABEL_COL)] if label_value is not None else []),
            *[value.alias(names[col]) for col, value, _ in typed]]
    parsed = raw.select(*cols)
    renamed = [dataclasses.replace(d, columns=tuple(names[c] for c in d.columns)) for d in decl.derived]
    return parsed.select("*", *derived_columns(renamed))


def feature_inputs(decl: DatasetDecl, with_derived: bool) -> list[str]:
    names = list(input_names(decl).values())
    return names + ([d.name for d in decl.derived] if with_derived else [])


# -- training ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SettingResult:
    setting: tm.Setting
    pooled: dict[str, float]  # out-of-fold figures over every row
    folds: list[dict[str, float]]
    seconds: float
    win_share: float | None = None  # against the declared setting


def train_table(cfg: Config, decl: DatasetDecl, origin: str, path: str) -> dict[str, Any]:
    """Cross-validate, choose, set the threshold, refit, register; returns what the CLI prints."""
    started = time.monotonic()
    encoding = cfg.run.csv_encoding
    fmt = precheck(decl, path, with_label=True, encoding=encoding)
    spark = get_spark(cfg.spark, cfg.run.timezone)
    table = read_table(spark, decl, path, fmt, with_label=True, encoding=encoding)
    folded = tm.assign_folds(table, decl.training.folds, decl.training.seed).persist(StorageLevel.MEMORY_AND_DISK)
    oofs: dict[str, DataFrame] = {}
    try:
        record = _cross_validate_and_fit(cfg, decl, origin, path, spark, folded, oofs)
    finally:  # the caches go whatever happened
        for oof in oofs.values():
            oof.unpersist()
        folded.unpersist()
    record["seconds"] = round(time.monotonic() - started, 1)
    out = f"{cfg.output}/table_training/dataset={decl.name}/training.json"
    Fs(spark, out).write_text(out, json.dumps(record, indent=2, default=str))
    record["written"] = out
    return record


def _cross_validate_and_fit(cfg: Config, decl: DatasetDecl, origin: str, path: str, spark: SparkSession,
                            folded: DataFrame, oofs: dict[str, DataFrame]) -> dict[str, Any]:
    training = decl.training
    counts = folded.groupBy(LABEL_COL).count().collect()  # small: two labels
    positives = sum(int(r["count"]) for r in counts if r[LABEL_COL] == 1.0)
    rows = sum(int(r["count"]) for r in counts)
    if positives < training.folds or rows - positives < training.folds:
        raise TableError(f"{path}: {positives} positive and {rows - positives} negative rows; "
                         f"{training.folds}-fold cross-validation needs at least {training.folds} of each")
    workers = resolve_num_workers(cfg.model, spark)
    mlflow.set_tracking_uri(cfg.tracking_uri)
    experiment_id = ensure_experiment(decl.model_name, cfg.artifact_root)
    results: list[SettingResult] = []
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"train-table {decl.name}") as run:
        mlflow.set_tags({"realname_guard.kind": "train-table", "dataset": decl.name, "declaration": origin})
        mlflow.log_params({"dataset": decl.name, "input": path, "rows": rows, "positives": positives,
                           "folds": training.folds, "seed": training.seed, "threshold_rule": training.threshold,
                           "threshold_precision": training.precision, "settings": len(tm.settings(training))})
        for setting in tm.settings(training):
            t0 = time.monotonic()
            cols = feature_inputs(decl, setting.derived)
            log.info("cross-validating setting %r (%d inputs, %d folds)", setting.name, len(cols), training.folds)
            oof, fold_metrics = tm.cross_validate(folded, cols, tm.model_config(setting, training.seed, cfg.model),
                                                  training.folds, workers)
            points = pr_curve(oof)
            chosen = tm.choose_threshold(points, training.threshold, training.precision)
            pooled = tm.summary(points, evaluate(oof), chosen)
            results.append(SettingResult(setting, pooled, fold_metrics, time.monotonic() - t0))
            oofs[setting.name] = oof
            log.info("setting %r: out-of-fold PR-AUC %.4f, F1 %.4f at %.3f (%.0f s)", setting.name,
                     pooled.get("pr_auc", math.nan), pooled.get("f1", math.nan), pooled.get("threshold", math.nan),
                     results[-1].seconds)
        results, best = choose(results, oofs, training.min_win_share, training.seed)
        for fold in range(training.folds):
            with mlflow.start_run(experiment_id=experiment_id, run_name=f"fold-{fold}", nested=True):
                mlflow.set_tags({"realname_guard.kind": "train-table-fold", "dataset": decl.name, "fold": str(fold)})
                mlflow.log_metrics({f"{r.setting.name}.{k}": v for r in results
                                    for k, v in r.folds[fold].items() if not math.isnan(v)})
        chosen_points = pr_curve(oofs[best.setting.name])
        chosen = tm.choose_threshold(chosen_points, training.threshold, training.precision)
        if chosen is None:
            raise TableError(f"no threshold reaches out-of-fold precision {training.precision} on {path}")
        for oof in oofs.values():  # before the refit: memory for it
            oof.unpersist()
        cols = feature_inputs(decl, best.setting.derived)
        model_cfg = dataclasses.replace(tm.model_config(best.setting, training.seed, cfg.model), register=True)
        log.info("refitting setting %r on all %d rows", best.setting.name, rows)
        model = fit(folded.withColumn(VALIDATION_COL, F.lit(False)), cols, model_cfg, workers, validate=False)
        mlflow.log_params({f"chosen.{k}": v for k, v in dataclasses.asdict(best.setting).items()})
        record = {
            "dataset": decl.name, "declaration": origin, "input": path, "rows": rows, "positives": positives,
            "folds": training.folds, "threshold_rule": training.threshold, "threshold": chosen.threshold,
            "chosen": best.setting.name, "feature_inputs": cols,
            "settings": [{"setting": dataclasses.asdict(r.setting), "out_of_fold": r.pooled, "folds": r.folds,
                          "win_share": r.win_share, "seconds": round(r.seconds, 1)} for r in results],
        }
        mlflow.log_dict(record, TRAINING_ARTIFACT)
        metrics = {f"cv_{k}": v for k, v in best.pooled.items()}
        mlflow_cfg = MlflowConfig(tracking_uri=cfg.tracking_uri, experiment=decl.model_name,
                                  model_name=decl.model_name, alias=cfg.run.mlflow.alias)
        _, version = log_model(model, cols, {THRESHOLD_KEY: chosen.threshold}, metrics,
                               model_cfg, mlflow_cfg)
        run_id = run.info.run_id
    record.update(run_id=run_id, version=version, model=f"models:/{decl.model_name}@{mlflow_cfg.alias}",
                  tracking_uri=cfg.tracking_uri, out_of_fold=best.pooled)
    return record


def choose(results: list[SettingResult], oofs: dict[str, DataFrame], min_win_share: float,
           seed: int) -> tuple[list[SettingResult], SettingResult]:
    """The declared setting unless another has the higher out-of-fold average precision in at
    least `min_win_share` of paired bootstrap resamples of the positives; then the best such."""
    reference = results[0]
    shares = {r.setting.name: tm.win_share(tm.paired(oofs[reference.setting.name], oofs[r.setting.name]), seed=seed)
              for r in results[1:]}
    results = [dataclasses.replace(r, win_share=shares.get(r.setting.name)) for r in results]
    eligible = [r for r in results[1:] if (r.win_share or 0.0) >= min_win_share]
    best = max(eligible, key=lambda r: r.pooled.get("average_precision", 0.0)) if eligible else results[0]
    return results, best


# -- scoring -------------------------------------------------------------------------------------
def score_table(cfg: Config, decl: DatasetDecl, path: str) -> dict[str, Any]:
    """Score every row with the dataset's champion; publish scores and a report atomically."""
    started = time.monotonic()
    encoding = cfg.run.csv_encoding
    fmt = precheck(decl, path, with_label=False, encoding=encoding)
    spark = get_spark(cfg.spark, cfg.run.timezone)
    mlflow.set_tracking_uri(cfg.tracking_uri)
    champion = load_champion(MlflowConfig(tracking_uri=cfg.tracking_uri, model_name=decl.model_name,
                                          alias=cfg.run.mlflow.alias))
    threshold = champion.thresholds.get(THRESHOLD_KEY)
    if threshold is None:
        raise TableError(f"{champion.name} version {champion.version} has no stored threshold {THRESHOLD_KEY!r}")
    table = read_table(spark, decl, path, fmt, with_label=False, encoding=encoding)
    missing = [c for c in champion.feature_cols if c not in table.columns]
    if missing:
        raise TableError(f"{champion.name} version {champion.version} needs inputs the declaration does not give: {missing}")
    scored = predict(champion.model, table).select(
        tm.KEY_COL, F.col("score").cast("double").alias("score"), (F.col("score") >= threshold).alias("flagged")
    )
    name = f"dataset={decl.name}"
    fs = Fs(spark, cfg.output)
    final = f"{cfg.output}/table_scores/{name}"
    staging = f"{cfg.output}/table_scores/_staging-{name}-{uuid.uuid4().hex[:12]}"
    scored.write.mode("overwrite").parquet(staging)
    written = spark.read.parquet(staging)
    report = table_report(decl, champion.name, champion.version, threshold, written, path)
    trash = f"{cfg.output}/table_scores/_trash-{name}-{uuid.uuid4().hex[:12]}"
    if fs.exists(final):
        fs.rename(final, trash)
    fs.rename(staging, final)
    fs.delete(trash)
    report_dir = f"{cfg.output}/table_reports/{name}"
    fs.write_text(f"{report_dir}/report.md", report["markdown"])
    summary = {k: v for k, v in report.items() if k != "markdown"}
    summary.update(seconds=round(time.monotonic() - started, 1), scores=final, report=f"{report_dir}/report.md")
    fs.write_text(f"{report_dir}/summary.json", json.dumps(summary, indent=2, default=str))
    return summary


def table_report(decl: DatasetDecl, model: str, version: str, threshold: float, scored: DataFrame,
                 path: str) -> dict[str, Any]:
    """Rows, flagged share and the score distribution in ten bins (one aggregate)."""
    decile = F.least(F.floor(F.col("score") * 10), F.lit(9)).cast("int")
    hist = {int(r["d"]): int(r["n"]) for r in scored.groupBy(decile.alias("d")).agg(F.count(F.lit(1)).alias("n")).collect()}  # small: ten bins
    rows = sum(hist.values())
    flagged_row = scored.agg(F.sum(F.col("flagged").cast("int")).alias("f")).first()  # small: one count
    flagged = int(flagged_row["f"] or 0) if flagged_row else 0
    lines = [
        f"# score-table: {decl.name}",
        "",
        f"{decl.description.strip()}",
        "",
        f"- input: `{path}`, scored {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"- model: `{model}` version {version}; threshold {threshold:.3f} (stored at training, "
        "chosen on out-of-fold scores)",
        f"- rows: {rows:,}; flagged: {flagged:,} ({flagged / rows:.1%})" if rows else "- rows: 0",
        "",
        "| score | rows | share |",
        "|---|---:|---:|",
    ]
    for d in range(10):
        n = hist.get(d, 0)
        lines.append(f"| {d / 10:.1f}–{(d + 1) / 10:.1f} | {n:,} | {n / rows:.1%} |" if rows else f"| {d / 10:.1f} | 0 | |")
    return {"dataset": decl.name, "model": model, "version": version, "threshold": threshold, "rows": rows,
            "flagged": flagged, "histogram": [hist.get(d, 0) for d in range(10)], "markdown": "\n".join(lines) + "\n",
            }
