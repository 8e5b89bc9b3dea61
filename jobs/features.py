"""Job: compute the feature table as of the run date and publish it (no raw IDs or names)."""

from __future__ import annotations

from realname_guard.core.io import AtomicPublisher
from realname_guard.core.tables import Tables
from realname_guard.features.assemble import FeatureSet, build_features
from realname_guard.jobs.context import FEATURES, JobContext, RunState, feature_context


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


def step(ctx: JobContext, state: RunState) -> None:
    """The `features` step: build and publish the feature table from the validated tables."""
    state.features = run_features(ctx, state.tables).frame
