"""Backfill: three run dates from one later extract, each equal to the daily run of that date.

The extract is taken on the last date, so for the first two it holds rows and labels from their
future. A backfilled date must list exactly what the daily job listed on that date from the
extract it had then (the rows dated up to it), with the listings of the days before as history.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from mlflow import MlflowClient
from pyspark.sql import SparkSession

from realname_guard.cli import main as cli_main
from realname_guard.config import load_config
from realname_guard.core.config import Config, ConfigError
from realname_guard.core.contract import TABLES
from realname_guard.core.generator_config import GeneratorConfig
from realname_guard.core.kinds import kinds
from realname_guard.generator.world import generate_world
from realname_guard.pipelines.backfill import BackfillError, backfill_dates, run_backfill, steps_for
from realname_guard.pipelines.daily import run_pipeline
from tests.tracking_server import tracking_server

pytestmark = pytest.mark.slow

LAST = dt.date(2026, 6, 30)
DATES = [LAST - dt.timedelta(days=2), LAST - dt.timedelta(days=1), LAST]
OVERRIDES = [
    "spark.shuffle_partitions=2",
    "model.xgb.n_estimators=40",
    "model.min_positives=10",
    "model.tuning.candidates=[]",
    "policy.tiers.medium=0.5",
    "policy.tiers.high=0.8",
]


def _config(world: Path, out: Path, day: dt.date, tracking: str) -> Config:
    return load_config(local_dir=None, overrides=[
        f"run.input={world}", f"run.output={out}", f"run.run_date={day}", f"run.mlflow.tracking_uri={tracking}",
        *OVERRIDES])


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


def test_each_backfilled_date_equals_its_daily_run(spark: SparkSession, tmp_path: Path) -> None:
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
    # Train on the first date only: the later two are scored by its champion.
    summaries = run_backfill(_config(world, backfilled, DATES[0], uri), DATES[0], DATES[-1], train_every=3)
    assert [s["status"] for s in summaries] == ["succeeded"] * 3
    champion = MlflowClient(uri).get_model_version_by_alias("realname-guard", "champion")
    assert MlflowClient(uri).get_run(champion.run_id).info.artifact_uri.startswith("mlflow-artifacts:")
    assert {s["scoring"]["model"]["version"] for s in summaries} == {champion.version}
    first = summaries[0]["inputs"]
    # The first date set aside the two later days' activity and labels, and counted them apart.
    assert first["sim_activity"]["rows_not_yet_known"] > 0
    assert first["sim_activity"]["rows_in"] == first["sim_activity"]["rows_clean"] + first["sim_activity"][
        "rows_quarantined"]
    assert summaries[-1]["inputs"]["sim_activity"]["rows_not_yet_known"] == 0

    listed = 0
    for day in DATES[1:]:
        # The daily run of `day`: that day's extract, the earlier days' outputs (and champion).
        daily = tmp_path / f"daily-{day}"
        shutil.copytree(backfilled, daily, ignore=_from_date(day))
        _extract_as_of(world, tmp_path / f"extract-{day}", day)
        summary = run_pipeline(_config(tmp_path / f"extract-{day}", daily, day, uri), ("validate", "features", "score"))
        assert summary["status"] == "succeeded"
        for name in [k.list_name for k in kinds()] + ["flagged_persons", "scores"]:
            got = _rows(backfilled / name / f"run_date={day}")
            want = _rows(daily / name / f"run_date={day}")
            assert got == want, f"{name} on {day}: the backfill differs from the daily run"
            listed += len(got) if name.startswith("flagged_") else 0
    assert listed > 0  # the comparison compared lists, not two empty folders

    # Backfilling a day before the champion's training date with it would list from outcomes
    # that day did not know: the run refuses before it starts, and says what to run instead.
    before = DATES[0] - dt.timedelta(days=1)
    with pytest.raises(BackfillError, match=f"trained on {DATES[0]}, after the run date {before}"):
        run_backfill(_config(world, backfilled, before, uri), before, before, train_every=0)

