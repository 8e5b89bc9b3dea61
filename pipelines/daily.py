"""The scheduled flow: validate -> features -> train -> score -> publish, as one Spark application.

Every subcommand of the CLI is a prefix or a slice of this flow. Publication is all-or-nothing:
lists, scores, quarantine and the report are staged and swapped in together at the end; a crash
before that removes the staging folders and leaves the previous state of the run date intact.
A data-quality gate failure still publishes the quarantine and the report, so the sender can
see what to fix, and then fails the run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from pyspark.sql import DataFrame

from core.config import Config
from jobs.context import JobContext, open_context, to_json
from jobs.features import read_features, run_features
from jobs.report import render_report
from jobs.score import run_score
from jobs.train import run_backtest_step, run_train
from jobs.validate import load_quality, run_validate
from quality.expectations import check_specs
from quality.gate import DataQualityError

log = logging.getLogger("realname_guard")

STEPS = ("validate", "features", "backtest", "train", "score")
# The whole daily job (training runs its own backtest; `backtest` alone is for data scientists).
RUN = ("validate", "features", "train", "score")


def _publish_report(ctx: JobContext, status: str, error: str | None = None) -> None:
    ctx.summary["status"] = status
    ctx.summary["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if error:
        ctx.summary["error"] = error
    ctx.publisher.stage_text("reports", "summary.json", to_json(ctx.summary))
    ctx.publisher.stage_text("reports", "report.md", render_report(ctx.summary))


def run_pipeline(cfg: Config, steps: Sequence[str]) -> dict[str, Any]:
    """Run the given steps in order in one Spark application; return the run summary."""
    unknown = set(steps) - set(STEPS)
    if unknown:
        raise ValueError(f"unknown steps {sorted(unknown)}; steps: {', '.join(STEPS)}")
    check_specs(cfg.expectations)  # a bad expectation fails here, before Spark starts
    ctx = open_context(cfg)
    ctx.summary["steps"] = list(steps)
    features: DataFrame | None = None
    labels: DataFrame | None = None
    try:
        # Training and the backtest build feature snapshots at earlier dates from the inputs.
        needs_inputs = bool({"validate", "features", "backtest", "train"} & set(steps))
        only = None if needs_inputs else ("labels",)
        try:
            ingested = run_validate(ctx, only=only)
        except DataQualityError as exc:
            _publish_report(ctx, "failed: data quality", str(exc))
            ctx.publisher.commit()
            log.error("%s", exc)
            raise
        if only is not None:
            ctx.summary.update(load_quality(ctx))
        labels = ingested.tables.labels
        if "features" in steps:
            tables = ingested.tables
            features = run_features(ctx, tables).frame
        elif {"train", "score"} & set(steps):
            features = read_features(ctx)
        if "backtest" in steps:
            run_backtest_step(ctx, labels, ingested.tables)
        if "train" in steps:
            assert features is not None
            run_train(ctx, features, labels, ingested.tables)
        if "score" in steps:
            assert features is not None
            run_score(ctx, features, labels)
        _publish_report(ctx, "succeeded")
        published = ctx.publisher.commit()
        ctx.summary["published"] = published
        for q in ingested.quality.values():
            q.unpersist()
        for name in ingested.tables.NAMES:
            frame = getattr(ingested.tables, name)
            if frame is not None:
                frame.unpersist()
        return ctx.summary
    except Exception:
        ctx.publisher.abort()
        raise
