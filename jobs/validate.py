"""Job: ingest + validate. Quarantined rows, Data Docs and the data-quality gate."""

from __future__ import annotations

import logging
import tempfile

from core.ingest import IngestResult, ingest
from jobs.context import JobContext
from quality.docs import build_data_docs
from quality.gate import check_quality

log = logging.getLogger(__name__)


def run_validate(ctx: JobContext, only: tuple[str, ...] | None = None) -> IngestResult:
    """Read and validate the inputs; stage the quarantine and Data Docs; apply the gate.

    On a gate failure the quarantine and the report are still published (so the operator can
    see what to fix) and DataQualityError propagates; nothing else is written.
    """
    with ctx.stage("ingest+validate"):
        result = ingest(ctx.spark, ctx.cfg, ctx.key, only=only)
        for name, quarantine in result.quarantine.items():
            ctx.publisher.stage("quarantine", quarantine, subpath=f"table={name}")
        ctx.summary["inputs"] = {
            name: {**result.inputs[name], **q.summary()} for name, q in result.quality.items()
        }
        ctx.summary["absent_tables"] = result.absent
        ctx.summary["rows_quarantined"] = sum(q.rows_quarantined for q in result.quality.values())
        if ctx.cfg.expectations.data_docs:
            with tempfile.TemporaryDirectory(prefix="rg-docs-") as tmp:
                build_data_docs(result.ge_context, tmp)
                ctx.publisher.stage_local_dir("reports", tmp, "data_docs")
            ctx.summary["data_docs"] = f"{ctx.publisher.final_path('reports')}/data_docs/index.html"
    check_quality(result.quality, ctx.cfg.expectations)
    return result
