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
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Any, cast

from realname_guard.core.config import Config
from realname_guard.jobs.context import JobContext, RunState, open_context, to_json
from realname_guard.jobs.report import render_report
from realname_guard.jobs.report_html import render_html
from realname_guard.jobs.score import preflight
from realname_guard.jobs.validate import read_labels
from realname_guard.pipelines.resume import RESUMABLE, completed, fingerprint, write_manifest
from realname_guard.pipelines.steps import BY_NAME, NAMES, RUN, ordered
from realname_guard.quality.expectations import check_specs
from realname_guard.quality.gate import DataQualityError

log = logging.getLogger("realname_guard")

STEPS = NAMES
__all__ = ["RUN", "STEPS", "run_pipeline"]


def _publish_report(ctx: JobContext, status: str, error: str | None = None) -> None:
    ctx.summary["status"] = status
    ctx.summary["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if error:
        ctx.summary["error"] = error
    ctx.publisher.stage_text("reports", "summary.json", to_json(ctx.summary))
    ctx.publisher.stage_text("reports", "report.md", render_report(ctx.summary))
    ctx.publisher.stage_text("reports", "report.html", render_html(ctx.summary))


def _job(name: str) -> Callable[[JobContext, RunState], None]:
    fn = import_module(BY_NAME[name].job).step
    return cast(Callable[[JobContext, RunState], None], fn)


def run_pipeline(cfg: Config, steps: Sequence[str], resume: bool = False) -> dict[str, Any]:
    """Run the given steps in pipeline order in one Spark application; return the run summary.

    A step that reads the inputs needs the validate step, which then runs first; a run without it
    (score alone) reads only the labels. Every completed ``features`` and ``train`` step leaves a
    manifest; with `resume`, such a step is skipped when its manifest matches this run date, inputs
    and configuration and every resumable step before it was skipped too (pipelines.resume).
    """
    order = ordered(list(steps))
    if any("inputs" in BY_NAME[n].reads for n in order) and "validate" not in order:
        order = ordered(["validate", *order])
    check_specs(cfg.expectations)  # a bad expectation fails here, before Spark starts
    ctx = open_context(cfg)
    ctx.summary["steps"] = list(steps)
    state = RunState(ctx)
    try:
        if "score" in order and "train" not in order:
            preflight(ctx)  # a champion from a later date fails here, before minutes of features
        try:
            _job("validate")(ctx, state) if "validate" in order else read_labels(ctx, state)
        except DataQualityError as exc:
            _publish_report(ctx, "failed: data quality", str(exc))
            ctx.publisher.commit()
            log.error("%s", exc)
            raise
        fp = fingerprint(ctx.spark, cfg, ctx.key) if any(n in RESUMABLE for n in order) else None
        chain = resume
        for name in order:
            if name == "validate":
                continue
            if fp is not None and name in RESUMABLE:
                done = completed(ctx.spark, cfg, fp, name) if chain else None
                if done is not None:
                    ctx.summary.update(done["summary"])
                    ctx.summary.setdefault("resumed", []).append({"stage": name, "finished_at": done["finished_at"]})
                    log.info("resume: %s completed at %s for this run date, inputs and configuration: skipped",
                             name, done["finished_at"])
                    continue
                chain = False
            _job(name)(ctx, state)
            if fp is not None and name in RESUMABLE:
                write_manifest(ctx.spark, cfg, fp, name, ctx.summary)
        _publish_report(ctx, "succeeded")
        published = ctx.publisher.commit()
        ctx.summary["published"] = published
        for q in state.ingested.quality.values():
            q.unpersist()
        for frame in state.tables.frames().values():
            frame.unpersist()
        return ctx.summary
    except Exception:
        ctx.publisher.abort()
        raise
