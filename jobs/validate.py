"""Job: ingest + validate. Quarantined rows, Data Docs and the data-quality gate."""

from __future__ import annotations

import json
import logging
import tempfile
from typing import Any

from realname_guard.core.io import Fs
from realname_guard.jobs.context import JobContext, RunState, to_json
from realname_guard.jobs.ingest import IngestResult, ingest
from realname_guard.quality.docs import build_data_docs
from realname_guard.quality.gate import check_quality

log = logging.getLogger(__name__)

QUARANTINE = "quarantine"
DATA_QUALITY = "data_quality"
QUALITY_KEYS = ("inputs", "absent_tables", "rows_quarantined", "data_docs")


def run_validate(ctx: JobContext, only: tuple[str, ...] | None = None) -> IngestResult:
    """Read and validate the inputs; stage the quarantine and Data Docs; apply the gate.

    On a gate failure the quarantine and the report are still published (so the operator can
    see what to fix) and DataQualityError propagates; nothing else is written.
    """
    with ctx.stage("ingest+validate" if only is None else f"ingest+validate {', '.join(only)}"):
        result = ingest(ctx.spark, ctx.cfg, ctx.key, only=only)
        if only is None:
            # Only a full validation publishes quarantine and Data Docs: a step that re-reads just
            # the labels must not replace the run date's record of every table.
            for name, quarantine in result.quarantine.items():
                ctx.publisher.stage(QUARANTINE, quarantine, subpath=f"table={name}")
            ctx.summary["inputs"] = {
                name: {**result.inputs[name], **q.summary()} for name, q in result.quality.items()
            }
            ctx.summary["absent_tables"] = result.absent
            ctx.summary["rows_quarantined"] = sum(q.rows_quarantined for q in result.quality.values())
            if ctx.cfg.expectations.data_docs:
                with tempfile.TemporaryDirectory(prefix="rg-docs-") as tmp:
                    build_data_docs(result.ge_context, tmp)
                    ctx.publisher.stage_local_dir(DATA_QUALITY, tmp, "data_docs")
                ctx.summary["data_docs"] = f"{ctx.publisher.final_path(DATA_QUALITY)}/data_docs/index.html"
            ctx.publisher.stage_text(DATA_QUALITY, "quality.json", to_json(quality_section(ctx.summary)))
        check_quality(result.quality, ctx.cfg.expectations)
        # Past the gate: the features read only the clean tables from here on.
        result.release_validation()
    return result


def quality_section(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: summary[k] for k in QUALITY_KEYS if k in summary}


def load_quality(ctx: JobContext) -> dict[str, Any]:
    """The data-quality record published by this run date's validation, if there is one."""
    path = f"{ctx.publisher.final_path(DATA_QUALITY)}/quality.json"
    fs = Fs(ctx.spark, path)
    if not fs.exists(path):
        return {}
    data: dict[str, Any] = json.loads(fs.read_text(path))
    return data


def step(ctx: JobContext, state: RunState) -> None:
    """The `validate` step: read and validate every input table; quarantine; the gate."""
    state.ingested = run_validate(ctx)


def read_labels(ctx: JobContext, state: RunState) -> None:
    """For a run without the validate step (score alone): only the labels and the 失信惩戒 list,
    and the day's quality record."""
    state.ingested = run_validate(ctx, only=("labels", "disciplinary_list"))
    ctx.summary.update(load_quality(ctx))
