"""train-table and score-table end to end on 500 rows of the Sichuan 2020 table: real Spark,
real xgboost.spark, real MLflow runs and registry."""

from __future__ import annotations

import csv
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml
from mlflow import MlflowClient
from pyspark.sql import SparkSession

from realname_guard.cli import main
from realname_guard.core.datasets import load_dataset
from realname_guard.jobs.table import TableError, read_table

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sichuan2020_sample.csv"
pytestmark = pytest.mark.slow


def small_declaration(tmp_path: Path) -> Path:
    """The shipped declaration with 3 folds and one candidate, to keep the test short."""
    _, origin = load_dataset("sichuan2020")
    raw = yaml.safe_load(Path(origin).read_text(encoding="utf-8"))
    raw["training"].update(folds=3, n_estimators=60, candidates=[{"name": "with-derived", "derived": True}])
    path = tmp_path / "sichuan-small.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def without_label(tmp_path: Path) -> Path:
    with SAMPLE.open(newline="") as fh:
        rows = list(csv.reader(fh))
    li = rows[0].index("label")
    path = tmp_path / "unlabelled.csv"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows([r[:li] + r[li + 1 :] for r in rows])
    return path


def test_train_then_score_a_declared_table(spark: SparkSession, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    decl_path = small_declaration(tmp_path)
    out = tmp_path / "out"
    assert main(["train-table", "--dataset", str(decl_path), "--input", str(SAMPLE), "--output", str(out),
                 "--run-date", "2026-12-01"]) == 0
    printed = capsys.readouterr().out
    assert "realname-guard-sichuan2020 version 1 is @champion" in printed

    mlflow.set_tracking_uri(f"sqlite:///{out.resolve()}/mlflow/mlflow.db")
    client = MlflowClient()
    experiment = client.get_experiment_by_name("realname-guard-sichuan2020")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    folds = [r for r in runs if r.data.tags.get("realname_guard.kind") == "train-table-fold"]
    assert sorted(r.data.tags["fold"] for r in folds) == ["0", "1", "2"]  # one run per fold
    for r in folds:  # each holds every setting's figures for its fold
        assert {"declared.pr_auc", "with-derived.pr_auc", "declared.f1_best"} <= set(r.data.metrics)
    parent = next(r for r in runs if r.data.tags.get("realname_guard.kind") == "train-table")
    assert all(r.data.tags.get("mlflow.parentRunId") == parent.info.run_id for r in folds)
    assert 0.5 < parent.data.metrics["cv_roc_auc"] <= 1.0 and 0 < parent.data.metrics["cv_f1"] <= 1.0
    assert parent.data.params["chosen.name"] in ("declared", "with-derived")
    version = client.get_model_version_by_alias("realname-guard-sichuan2020", "champion")
    threshold = float(version.tags["threshold.flag"])
    assert threshold == pytest.approx(parent.data.metrics["cv_threshold"])

    unlabelled = without_label(tmp_path)
    assert main(["score-table", "--dataset", str(decl_path), "--input", str(unlabelled), "--output", str(out),
                 "--run-date", "2026-12-01"]) == 0
    scores = pd.read_parquet(out / "table_scores" / "dataset=sichuan2020")
    assert list(scores.columns) == ["key", "score", "flagged"]
    assert len(scores) == 500 and scores["key"].is_unique
    assert scores["score"].between(0, 1).all()
    assert (scores["flagged"] == (scores["score"] >= threshold)).all()
    sample = pd.read_csv(SAMPLE, dtype={"phone_no_m": str})
    assert set(scores["key"]) == set(sample["phone_no_m"])
    # the stored threshold separates the classes on rows the champion trained on: most fraud flagged
    merged = scores.merge(sample[["phone_no_m", "label"]], left_on="key", right_on="phone_no_m")
    assert merged.loc[merged.label == 1, "flagged"].mean() > merged.loc[merged.label == 0, "flagged"].mean()
    report = (out / "table_reports" / "dataset=sichuan2020" / "report.md").read_text(encoding="utf-8")
    assert "| score | rows | share |" in report and f"threshold {threshold:.3f}" in report
    assert f"flagged: {int(scores.flagged.sum()):,}" in report


def test_values_that_do_not_fit_the_declaration_are_named(spark: SparkSession, tmp_path: Path) -> None:
    decl, _ = load_dataset("sichuan2020")
    df = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    df.loc[df.index[:3], "idcard_cnt"] = "many"
    df.loc[df.index[5], "arup_null"] = "maybe"
    df.loc[df.index[6], "flow"] = "inf"
    df.loc[df.index[8], "num_of_app"] = "NaN"  # missing, not wrong
    df.loc[df.index[7], "label"] = "2"
    df.columns = ["" if c.startswith("Unnamed") else c for c in df.columns]
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    with pytest.raises(TableError) as err:
        read_table(spark, decl, str(path), "csv", with_label=True)
    text = str(err.value)
    assert "column 'idcard_cnt' (numeric): 3 values are not finite numbers, e.g. 'many'" in text
    assert "column 'arup_null' (boolean): 1 values" in text and "'maybe'" in text
    assert "label column 'label': 1 rows are not 0 or 1" in text
    assert "column 'flow' (numeric): 1 values are not finite numbers, e.g. 'inf'" in text
    assert "num_of_app" not in text
