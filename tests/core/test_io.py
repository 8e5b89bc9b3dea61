"""The atomic publisher: staged datasets appear together at commit, or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from realname_guard.core.io import AtomicPublisher, prior_run_dates

D = "2026-06-30"


def rows(spark: SparkSession, path: Path) -> list[tuple[str, int]]:
    return sorted((r.k, r.v) for r in spark.read.parquet(str(path)).collect())


def test_commit_swaps_every_staged_dataset_in_and_replaces_the_old(spark: SparkSession, tmp_path: Path) -> None:
    old = AtomicPublisher(spark, str(tmp_path), D)
    old.stage("lists", spark.createDataFrame([("old", 1)], "k string, v int"))
    old.commit()

    pub = AtomicPublisher(spark, str(tmp_path), D)
    pub.stage("lists", spark.createDataFrame([("a", 1), ("b", 2)], "k string, v int"), partition_by=("k",))
    pub.stage_text("reports", "report.md", "# done\n")
    assert rows(spark, tmp_path / "lists" / f"run_date={D}") == [("old", 1)]  # nothing visible before commit
    assert not (tmp_path / "reports" / f"run_date={D}").exists()
    done = pub.commit()
    assert set(done) == {"lists", "reports"}
    final = tmp_path / "lists" / f"run_date={D}"
    assert sorted(p.name for p in final.iterdir() if p.name.startswith("k=")) == ["k=a", "k=b"]
    assert (tmp_path / "reports" / f"run_date={D}" / "report.md").read_text() == "# done\n"
    leftovers = [p.name for p in (tmp_path / "lists").iterdir() if p.name.startswith("_")]
    assert leftovers == []  # no staging or trash folder survives


def test_abort_leaves_the_previous_run_intact(spark: SparkSession, tmp_path: Path) -> None:
    first = AtomicPublisher(spark, str(tmp_path), D)
    first.stage("lists", spark.createDataFrame([("kept", 1)], "k string, v int"))
    first.commit()
    crashed = AtomicPublisher(spark, str(tmp_path), D)
    crashed.stage("lists", spark.createDataFrame([("half", 2)], "k string, v int"))
    crashed.abort()
    assert rows(spark, tmp_path / "lists" / f"run_date={D}") == [("kept", 1)]
    assert [p.name for p in (tmp_path / "lists").iterdir()] == [f"run_date={D}"]


def test_commit_sweeps_what_a_killed_run_of_the_date_left(spark: SparkSession, tmp_path: Path) -> None:
    """kill -9 skips abort(): the next commit of the same date removes that run's staging and trash
    folders, and leaves other dates' alone (one run of a date writes to an output at a time)."""
    killed = AtomicPublisher(spark, str(tmp_path), D)
    killed.stage("lists", spark.createDataFrame([("half", 2)], "k string, v int"))  # then SIGKILL
    (tmp_path / "lists" / f"_trash-run_date={D}-0123456789ab").mkdir()
    other_day = AtomicPublisher(spark, str(tmp_path), "2026-06-29")
    other_day.stage("lists", spark.createDataFrame([("other", 3)], "k string, v int"))  # still running
    pub = AtomicPublisher(spark, str(tmp_path), D)
    pub.stage("lists", spark.createDataFrame([("new", 1)], "k string, v int"))
    pub.commit()
    assert rows(spark, tmp_path / "lists" / f"run_date={D}") == [("new", 1)]
    assert sorted(p.name for p in (tmp_path / "lists").iterdir()) == [
        f"_staging-run_date=2026-06-29-{other_day.token}", f"run_date={D}"]


def test_abort_removes_a_stage_whose_write_failed_half_way(spark: SparkSession, tmp_path: Path) -> None:
    """A write that fails inside Spark (a full disk, here a failing row) leaves a partial staging
    folder; abort() removes it, since the dataset counts as staged from the write's start."""
    from pyspark.sql import functions as F

    pub = AtomicPublisher(spark, str(tmp_path), D)
    bad = spark.range(4).select(F.when(F.col("id") < 3, F.col("id")).otherwise(F.raise_error(F.lit("disk full"))).alias("v"))
    with pytest.raises(Exception, match="disk full"):
        pub.stage("lists", bad)
    pub.abort()
    assert not any(p.name.startswith("_staging-") for p in (tmp_path / "lists").iterdir())


def test_prior_run_dates_are_the_committed_earlier_ones(spark: SparkSession, tmp_path: Path) -> None:
    for day in ("2026-06-28", "2026-06-29", D):
        pub = AtomicPublisher(spark, str(tmp_path), day)
        pub.stage("lists", spark.createDataFrame([("x", 1)], "k string, v int"))
        pub.commit()
    AtomicPublisher(spark, str(tmp_path), "2026-06-27").stage(
        "lists", spark.createDataFrame([("x", 1)], "k string, v int")
    )  # staged, never committed
    assert prior_run_dates(spark, str(tmp_path / "lists"), D) == ["2026-06-28", "2026-06-29"]


def test_csv_exports_one_file_per_recipient_with_a_byte_order_mark(spark: SparkSession, tmp_path: Path) -> None:
    import pandas as pd

    df = spark.createDataFrame(
        [("13800000001", "重新核验 / re-verify", None, "CMCC"), ("13800000002", "限制", "x", "CMCC"),
         ("13900000001", "暂停", "y", "CUCC")],
        "msisdn STRING, legal_basis STRING, note STRING, operator STRING",
    )
    pub = AtomicPublisher(spark, str(tmp_path), "2026-06-30")
    assert sorted(pub.stage_csv("exports", df, "operator", "flagged_sims.csv")) == ["operator=CMCC", "operator=CUCC"]
    pub.commit()
    root = tmp_path / "exports" / "run_date=2026-06-30"
    assert sorted(p.name for p in root.iterdir()) == ["operator=CMCC", "operator=CUCC"]
    assert [p.name for p in (root / "operator=CMCC").iterdir() if not p.name.startswith(".")] == ["flagged_sims.csv"]
    raw = (root / "operator=CMCC" / "flagged_sims.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfmsisdn,legal_basis,note\n")
    got = pd.read_csv(root / "operator=CMCC" / "flagged_sims.csv", encoding="utf-8-sig", dtype=str).sort_values(
        "msisdn")
    assert list(got.columns) == ["msisdn", "legal_basis", "note"]
    assert got["legal_basis"].tolist() == ["重新核验 / re-verify", "限制"] and got["note"].isna().tolist() == [True, False]
