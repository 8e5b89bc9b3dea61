"""The reference for training: single-machine ``xgboost`` (hist) vs ``SparkXGBClassifier``.

Both fit the same rows (the training set of ``models.dataset.build_training_set``, written to
Parquet once) with the same parameters (``models.train.xgb_kwargs``, the same
``scale_pos_weight``, the same early stopping on the validation part), on the same cores. The
validation AUCs must agree within 0.005.
"""

from __future__ import annotations

import datetime as dt
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from sklearn.metrics import roc_auc_score

from core.config import ModelConfig
from models.dataset import build_training_set, feature_columns
from models.train import LABEL_COL, VALIDATION_COL, fit, predict, xgb_kwargs

AUC_TOLERANCE = 0.005


def write_training_set(
    features: DataFrame, labels: DataFrame, as_of: dt.date, cfg: ModelConfig, out: Path, target_rows: int | None
) -> dict[str, Any]:
    """Build the training set and write it to Parquet; replicate it up to `target_rows` if asked.

    Replication (``k`` copies, each copy's entity_id suffixed) keeps the label balance and the
    validation split; it is used only when the world holds fewer cards than `target_rows`.
    """
    spark = features.sparkSession
    shutil.rmtree(out, ignore_errors=True)
    training = build_training_set(features, labels, as_of, cfg)
    training.write.mode("overwrite").parquet(str(out))
    rows = spark.read.parquet(str(out)).count()
    copies = 1
    if target_rows and rows < target_rows:
        copies = -(-target_rows // rows)
        base = spark.read.parquet(str(out))
        parts = [base.withColumn("entity_id", F.concat(F.col("entity_id"), F.lit(f"#{i}"))) for i in range(copies)]
        replicated = parts[0]
        for p in parts[1:]:
            replicated = replicated.unionByName(p)
        tmp = out.with_name(out.name + "-x")
        replicated.write.mode("overwrite").parquet(str(tmp))
        shutil.rmtree(out)
        tmp.rename(out)
        rows = spark.read.parquet(str(out)).count()
    return {"rows": rows, "copies": copies, "unlabeled_negative_rate": cfg.unlabeled_negative_rate}


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    return float(roc_auc_score(labels, scores))


def spark_fit(spark: SparkSession, path: Path, cfg: ModelConfig, num_workers: int) -> dict[str, Any]:
    data = spark.read.parquet(str(path))
    cols = [c for c in feature_columns(data) if c not in (LABEL_COL,)]
    t0 = time.perf_counter()
    model = fit(data, cols, cfg, num_workers)
    seconds = time.perf_counter() - t0
    # Benchmark only: the validation scores, to compute the AUC the same way for both engines.
    val: pd.DataFrame = predict(model, data.where(F.col(VALIDATION_COL))).select(LABEL_COL, "score").toPandas()
    best = model.get_booster().attr("best_iteration")
    return {"seconds": round(seconds, 2), "auc": _auc(val[LABEL_COL].to_numpy(), val["score"].to_numpy()),
            "best_iteration": None if best is None else int(best), "features": cols}


def local_fit(path: Path, cfg: ModelConfig, cols: list[str], threads: int) -> dict[str, Any]:
    """The same fit with ``xgboost.XGBClassifier`` on pandas (reading the Parquet is not timed)."""
    df = pd.read_parquet(path, columns=[*cols, LABEL_COL, VALIDATION_COL])
    x = df[cols].astype("float64")
    y = df[LABEL_COL].astype("int32")
    is_val = df[VALIDATION_COL].to_numpy(dtype=bool)
    pos = int(y[~is_val].sum())
    neg = int((~is_val).sum()) - pos
    t0 = time.perf_counter()
    model = xgb.XGBClassifier(
        n_jobs=threads, random_state=cfg.seed, missing=np.nan, scale_pos_weight=neg / pos, **xgb_kwargs(cfg)
    )
    model.fit(x[~is_val], y[~is_val], eval_set=[(x[is_val], y[is_val])], verbose=False)
    seconds = time.perf_counter() - t0
    scores = model.predict_proba(x[is_val])[:, 1]
    return {"seconds": round(seconds, 2), "auc": _auc(y[is_val].to_numpy(), scores),
            "best_iteration": int(model.best_iteration), "rows_train": int((~is_val).sum()),
            "rows_validation": int(is_val.sum()), "positives_train": pos}


def compare_training(spark: SparkSession, path: Path, cfg: ModelConfig, cores: int, repeats: int = 1) -> dict[str, Any]:
    """Fit both `repeats` times (paired, alternating); medians, ratio and the AUC check."""
    spark_runs, local_runs = [], []
    for _ in range(repeats):
        spark_runs.append(spark_fit(spark, path, cfg, cores))
        local_runs.append(local_fit(path, cfg, spark_runs[-1]["features"], cores))
    s = statistics.median(r["seconds"] for r in spark_runs)
    m = statistics.median(r["seconds"] for r in local_runs)
    auc_s, auc_m = spark_runs[0]["auc"], local_runs[0]["auc"]
    return {
        "spark_seconds": s,
        "xgboost_seconds": m,
        "ratio": round(s / m, 2) if m else None,
        "spark_runs": [r["seconds"] for r in spark_runs],
        "xgboost_runs": [r["seconds"] for r in local_runs],
        "auc_spark": round(auc_s, 5),
        "auc_xgboost": round(auc_m, 5),
        "auc_diff": round(abs(auc_s - auc_m), 5),
        "auc_agree": abs(auc_s - auc_m) <= AUC_TOLERANCE,
        "best_iteration_spark": spark_runs[0]["best_iteration"],
        "best_iteration_xgboost": local_runs[0]["best_iteration"],
        "rows_train": local_runs[0]["rows_train"],
        "rows_validation": local_runs[0]["rows_validation"],
        "positives_train": local_runs[0]["positives_train"],
        "features": len(spark_runs[0]["features"]),
    }
