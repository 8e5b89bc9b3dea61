"""Backfill: two run dates from one later extract, each equal to the daily run of that date.

The extract is taken on the last date, so for the first it holds rows and labels from its
future. (Two dates, not more: each is a whole run in a Spark application of its own, and the
second already reads the first's listings as history and its champion.) A backfilled date must list exactly what the daily job listed on that date from the
extract it had then (the rows dated up to it), with the listings of the days before as history.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from mlflow import MlflowClient

from realname_guard.cli import main as cli_main
from realname_guard.core.config import ConfigError
from realname_guard.core.contract import TABLES
from realname_guard.core.generator_config import GeneratorConfig
from realname_guard.core.kinds import kinds
from realname_guard.generator.world import generate_world
from realname_guard.pipelines.backfill import backfill_dates, steps_for
from tests.pipelines.core_features import CORE_OVERRIDES
from tests.tracking_server import tracking_server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LAST = dt.date(2026, 6, 30)
# The world's activity ends the day before LAST: the first date must have a later day to set aside.
DATES = [LAST - dt.timedelta(days=2), LAST - dt.timedelta(days=1)]
OVERRIDES = [
    "spark.shuffle_partitions=2",
    "model.xgb.n_estimators=40",
    "model.min_positives=10",
    "model.tuning.candidates=[]",
    "model.backtest.baseline_features=[]",  # no naive baseline beside it: the backtest is tested elsewhere
    "model.point_in_time.snapshot_days_back=[14]",  # one snapshot (the backtest's): what matters is the dates
    # One classifier: what is tested here is which rows and labels each date sees; the views are
    # tested in tests/models/test_views.py and the whole job (tests/pipelines/test_daily.py).
    "model.views=null",
    "policy.tiers.medium=0.5",
    "policy.tiers.high=0.8",
    # The core feature groups: which rows and labels each date sees is the same for every group
    # (tests/features/test_catalogue_point_in_time.py), and five feature builds are the test's time.
    *CORE_OVERRIDES,
]


def _overrides(world: Path, out: Path, day: dt.date, tracking: str) -> list[str]:
    return [f"run.input={world}", f"run.output={out}", f"run.run_date={day}", f"run.mlflow.tracking_uri={tracking}",
            *OVERRIDES]


def _spark_app(args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    """A command in a Spark application of its own: five runs must not crowd the test session's JVM."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_GATEWAY")}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)


def _extract_as_of(world: Path, dest: Path, day: dt.date) -> None:
    """The extract a daily run on `day` would have read: every row dated up to that day."""
    dest.mkdir(parents=True)
    for name, contract in TABLES.items():
        src = world / name
        if not src.exists():
            continue
        table = pads.dataset(str(src)).to_table()
        event = contract.event_time
        if event is not None:
            col = table[event]
            if pa.types.is_timestamp(col.type):
                keep = pc.less(col, pa.scalar(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()), col.type))
            else:
                keep = pc.less_equal(pc.cast(col, pa.date32()), pa.scalar(day, pa.date32()))
            table = table.filter(pc.fill_null(keep, True))
        pq.write_table(table, dest / f"{name}.parquet")


def _from_date(day: dt.date) -> Callable[[str, list[str]], list[str]]:
    """A copytree filter that leaves out the outputs of `day` and later."""
    return lambda _dir, names: [n for n in names if n.startswith("run_date=") and n[9:] >= day.isoformat()]


def _rows(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    rows = pads.dataset(str(path)).to_table().to_pylist()
    return sorted(rows, key=lambda r: sorted((k, str(v)) for k, v in r.items()))


def test_backfill_dates_and_steps() -> None:
    assert backfill_dates(DATES[0], DATES[-1]) == DATES
    assert steps_for(0, 2) == ("validate", "features", "train", "score")
    assert steps_for(1, 2) == ("validate", "features", "score")
    assert steps_for(0, 0) == ("validate", "features", "score")
    with pytest.raises(ConfigError, match="before --from"):
        backfill_dates(DATES[1], DATES[0])
    with pytest.raises(ConfigError, match="train-every"):
        steps_for(0, -1)


def test_backfill_help_and_bad_dates(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli_main(["backfill", "--help"])
    assert "--train-every" in capsys.readouterr().out
    assert cli_main(["backfill", "--from", "2026-06-30", "--to", "2026-06-01"]) == 2
    assert "before --from" in capsys.readouterr().err
    assert cli_main(["backfill", "--from", "2026-13-01", "--to", "2026-06-01"]) == 2
    assert "expected YYYY-MM-DD" in capsys.readouterr().err
    assert cli_main(["backfill", "--from", "2026-06-01", "--to", "2026-06-02", "--run-date", "2026-06-01"]) == 2
    assert "drop --run-date" in capsys.readouterr().err


def test_each_backfilled_date_equals_its_daily_run(tmp_path: Path) -> None:
    """Over a tracking server, as teams run MLflow: the job logs and registers over HTTP, the
    server keeps the artifacts, and scoring loads the champion from it."""
    with tracking_server(tmp_path / "mlflow-server") as (uri, served):
        _backfill_and_compare(tmp_path, uri)
        assert list(served.rglob("MLmodel")), "the model's artifacts are not in the server's store"
    assert not (tmp_path / "backfill" / "mlflow").exists()  # nothing of MLflow on the driver's disk


def _backfill_and_compare(tmp_path: Path, uri: str) -> None:
    gen = GeneratorConfig(persons=2000, seed=23, chunk_persons=2000, card_farmer_share=0.008, misuse_recent_days=60)
    generate_world(tmp_path / "world", gen, LAST)
    world = tmp_path / "world" / "input"
    backfilled = tmp_path / "backfill"
    # Train on the first date only: the later one is scored by its champion.
    proc = _spark_app(["-m", "realname_guard.cli", "backfill", "--from", str(DATES[0]), "--to", str(DATES[-1]),
                       "--train-every", "3", "--input", str(world), "--output", str(backfilled),
                       f"run.mlflow.tracking_uri={uri}", *OVERRIDES], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "backfill 2026-06-28 to 2026-06-29 done" in proc.stdout
    summaries = [json.loads((backfilled / "reports" / f"run_date={d}" / "summary.json").read_text("utf-8"))
                 for d in DATES]
    assert [s["status"] for s in summaries] == ["succeeded"] * len(DATES)
    champion = MlflowClient(uri).get_model_version_by_alias("realname-guard", "champion")
    assert MlflowClient(uri).get_run(champion.run_id).info.artifact_uri.startswith("mlflow-artifacts:")
    assert {s["scoring"]["model"]["version"] for s in summaries} == {champion.version}
    first = summaries[0]["inputs"]
    # The first date set aside the later day's activity and labels, and counted them apart.
    assert first["sim_activity"]["rows_not_yet_known"] > 0
    assert first["sim_activity"]["rows_in"] == first["sim_activity"]["rows_clean"] + first["sim_activity"][
        "rows_quarantined"]
    assert summaries[-1]["inputs"]["sim_activity"]["rows_not_yet_known"] == 0

    # The daily run of each later date: that day's extract, the earlier days' outputs (and champion).
    jobs = []
    for day in DATES[1:]:
        shutil.copytree(backfilled, tmp_path / f"daily-{day}", ignore=_from_date(day))
        _extract_as_of(world, tmp_path / f"extract-{day}", day)
        jobs.append({"steps": ["validate", "features", "score"],
                     "overrides": _overrides(tmp_path / f"extract-{day}", tmp_path / f"daily-{day}", day, uri)})
    # Backfilling a day before the champion's training date with it would list from outcomes
    # that day did not know: the run refuses before it starts, and says what to run instead.
    # (In the same application as the daily runs, after them: one Spark start fewer.)
    before = DATES[0] - dt.timedelta(days=1)
    jobs.append({"cli": ["backfill", "--from", str(before), "--to", str(before), "--train-every", "0",
                         "--input", str(world), "--output", str(backfilled), f"run.mlflow.tracking_uri={uri}",
                         *OVERRIDES], "rc": 1})
    (tmp_path / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    proc = _spark_app(["-m", "tests.pipelines.run_steps", str(tmp_path / "jobs.json")], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "run_steps: realname-guard backfill exited 1" in proc.stdout
    listed = 0
    for day in DATES[1:]:
        for name in [k.list_name for k in kinds()] + ["flagged_persons", "scores"]:
            got = _rows(backfilled / name / f"run_date={day}")
            want = _rows(tmp_path / f"daily-{day}" / name / f"run_date={day}")
            assert got == want, f"{name} on {day}: the backfill differs from the daily run"
            listed += len(got) if name.startswith("flagged_") else 0
    assert listed > 0  # the comparison compared lists, not two empty folders
    assert f"trained on {DATES[0]}, after the run date {before}" in proc.stderr
