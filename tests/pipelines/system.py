"""What the system tests share (tests/pipelines/test_cluster.py, test_faults.py): a small world run
once in local mode as the reference, the CLI run as a process, and lists compared row for row.

`make system-test` runs them (pytest -m "cluster or faults"), apart from `make test`: together
they run the whole job about eight times, more than the suite's 25-minute budget leaves.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from realname_guard.core.generator_config import GeneratorConfig
from realname_guard.generator.world import generate_world

ROOT = Path(__file__).resolve().parents[2]
RUN_DATE = dt.date(2026, 6, 30)
CLI = str(Path(sys.executable).parent / "realname-guard")
LISTS = ("flagged_sims", "flagged_accounts", "flagged_persons", "scores")
# Small-world settings (tests/pipelines/test_daily.py says why), one training snapshot, no tuning
# grid and no baseline: what is tested here is where and how the job runs, not what it chooses.
OVERRIDES = [
    "spark.shuffle_partitions=2",
    "model.xgb.n_estimators=80",
    "model.min_positives=10",
    "model.tuning.enabled=false",
    "model.backtest.baseline_features=[]",
    "model.point_in_time.snapshot_days_back=[14]",
    "policy.tiers.medium=0.5",
    "policy.tiers.high=0.8",
]


@dataclass(frozen=True)
class Reference:
    """A world, the environment its runs use, and the undisturbed local-mode run's output."""

    root: Path
    world: Path
    out: Path
    env: dict[str, str]

    def run_args(self, out: Path) -> list[str]:
        return ["run", "--input", str(self.world / "input"), "--run-date", str(RUN_DATE), "--output", str(out)]


def reference_run(root: Path) -> Reference:
    world = root / "world"
    generate_world(world, GeneratorConfig(persons=2500, seed=12, chunk_persons=2500, card_farmer_share=0.008,
                                          misuse_recent_days=60), RUN_DATE)
    env = {**os.environ, "PY": sys.executable, "REALNAME_GUARD_HASH_KEY": "system-test-key-0123456789abcdef"}
    ref = Reference(root, world, root / "local", env)
    run_cli([CLI, *ref.run_args(ref.out), "spark.master=local[2]", *OVERRIDES], env, root / "local.log")
    return ref


def run_cli(cmd: Sequence[str], env: dict[str, str], log: Path) -> None:
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.run(list(cmd), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-4000:]
        pytest.fail(f"{' '.join(cmd[:3])} exited {proc.returncode}; the end of {log}:\n{tail}")


def rows(con: duckdb.DuckDBPyConnection, out: Path, name: str) -> list[str]:
    """The dataset's rows of the run date, every column but run_id, as sorted printable rows."""
    rel = f"read_parquet('{out / name}/run_date={RUN_DATE}/**/*.parquet', hive_partitioning = true)"
    cols = sorted(c[0] for c in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall() if c[0] != "run_id")
    select = ", ".join(f'"{c}"' for c in cols)
    return sorted(repr(row) for row in con.execute(f"SELECT {select} FROM {rel}").fetchall())


def assert_same_lists(expected: Path, actual: Path, what: str) -> None:
    """Every list, the persons and the scores of the run date hold the same rows in both outputs."""
    con = duckdb.connect()
    for name in LISTS:
        want, got = rows(con, expected, name), rows(con, actual, name)
        assert want, f"the reference listed nothing in {name}: the world is too small to compare"
        missing, extra = Counter(want) - Counter(got), Counter(got) - Counter(want)
        assert not missing and not extra, (
            f"{name}: {sum(missing.values())} rows only in the reference, {sum(extra.values())} only {what}, "
            f"e.g.\n{next(iter(missing), '')}\n{next(iter(extra), '')}")
