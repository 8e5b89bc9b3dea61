"""Run pipeline slices in a Spark application of their own, apart from the test session's JVM:
``python -m tests.pipelines.run_steps JOBS.json`` where the file holds a list of
``{"steps": [...], "overrides": ["KEY=VALUE", ...]}``, run in order. Exits 1 on the first failure."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from realname_guard.config import load_config
from realname_guard.pipelines.daily import run_pipeline


def main(path: str) -> int:
    for job in json.loads(Path(path).read_text(encoding="utf-8")):
        summary = run_pipeline(load_config(local_dir=None, overrides=job["overrides"]), tuple(job["steps"]))
        print(f"run_steps: {summary['run_date']} {summary['status']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
