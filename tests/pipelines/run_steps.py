"""Run pipeline slices in a Spark application of their own, apart from the test session's JVM:
``python -m tests.pipelines.run_steps JOBS.json`` where the file holds a list of
``{"steps": [...], "overrides": ["KEY=VALUE", ...]}``, run in order. Exits 1 on the first failure.

A job may also say ``"noise_labels": true`` (every training set, the backtest's included, gets its
labels replaced by coin flips at the same rate: a model that learned nothing) and
``"summary": PATH`` (the run summary is written there as JSON). A job ``{"cli": [ARGS...], "rc": N}``
runs ``realname-guard ARGS...`` in the same application and expects exit code N (default 0)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pyspark.sql import functions as F

import realname_guard.jobs.backtest as backtest_job
import realname_guard.jobs.train as train_job
from realname_guard.cli import main as cli_main
from realname_guard.config import load_config
from realname_guard.pipelines.daily import run_pipeline

_REAL_TRAINING_SET = backtest_job.build_training_set


def _noise(*args: Any, **kwargs: Any) -> Any:
    """The training set with its labels replaced by coin flips at the same positive rate."""
    rows = _REAL_TRAINING_SET(*args, **kwargs)
    rate = rows.agg(F.avg("label")).first()[0]  # one number
    return rows.withColumn("label", (F.rand(seed=5) < F.lit(rate)).cast(rows.schema["label"].dataType))


def main(path: str) -> int:
    for job in json.loads(Path(path).read_text(encoding="utf-8")):
        if "cli" in job:
            backtest_job.build_training_set = train_job.build_training_set = _REAL_TRAINING_SET  # type: ignore[assignment]
            rc = cli_main(list(job["cli"]))
            print(f"run_steps: realname-guard {job['cli'][0]} exited {rc}", flush=True)
            if rc != job.get("rc", 0):
                return 1
            continue
        noisy = bool(job.get("noise_labels"))
        backtest_job.build_training_set = _noise if noisy else _REAL_TRAINING_SET  # type: ignore[assignment]
        train_job.build_training_set = _noise if noisy else _REAL_TRAINING_SET  # type: ignore[assignment]
        summary = run_pipeline(load_config(local_dir=None, overrides=job["overrides"]), tuple(job["steps"]))
        if job.get("summary"):
            Path(job["summary"]).write_text(json.dumps(summary, default=str), encoding="utf-8")
        print(f"run_steps: {summary['run_date']} {summary['status']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
