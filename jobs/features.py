"""Job: compute the feature table as of the run date and publish it (no raw IDs or names)."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from core.io import AtomicPublisher
from core.tables import Tables
from features.assemble import ENTITY_COLUMNS, FeatureSet, build_features
from features.registry import FeatureContext
from jobs.context import JobContext

FEATURES = "features"


def feature_context(ctx: JobContext) -> FeatureContext:
    cfg = ctx.cfg
    return FeatureContext(
        as_of=ctx.run_date,
        activity_window_days=cfg.features.activity_window_days,
        sims_per_operator_limit=cfg.policy.sims_per_operator_limit,
    )


def run_features(ctx: JobContext, tables: Tables) -> FeatureSet:
    """Build and persist the features; return them re-read from the published Parquet.

    Re-reading cuts the long lineage (ingest + every feature join) once, so training and
    scoring start from files instead of recomputing the whole plan.
    """
    with ctx.stage("features"):
        fs = build_features(tables, feature_context(ctx), ctx.cfg.features.enabled)
        pub = AtomicPublisher(ctx.spark, ctx.cfg.output, ctx.run_date_str)
        pub.stage(FEATURES, fs.frame)
        path = pub.commit()[FEATURES]
        fs.release()
        frame = ctx.spark.read.parquet(path)
        ctx.summary["features"] = {
            "built": list(fs.built),
            "skipped": fs.skipped,
            "columns": list(fs.columns),
            "path": path,
            "rows": frame.count(),
        }
    return FeatureSet(frame, fs.columns, fs.outputs, fs.built, fs.skipped)


def read_features(ctx: JobContext) -> DataFrame:
    """The published feature table of this run date (for `train`/`score` run on their own)."""
    path = f"{ctx.cfg.output}/{FEATURES}/run_date={ctx.run_date_str}"
    from core.io import Fs

    if not Fs(ctx.spark, path).exists(path):
        raise FileNotFoundError(
            f"no features for run date {ctx.run_date_str} at {path}: run `realname-guard features` first"
        )
    return ctx.spark.read.parquet(path)


def feature_columns(frame: DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in ENTITY_COLUMNS and c != "run_date"]


def null_columns(frame: DataFrame, names: list[str]) -> DataFrame:
    """Add missing feature columns as nulls (a group skipped at scoring time is 'missing')."""
    return frame.select("*", *[F.lit(None).cast("double").alias(n) for n in names if n not in frame.columns])
