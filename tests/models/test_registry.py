"""MLflow round trip in a throw-away SQLite store: log, register, alias, load, same predictions."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from pyspark.sql import DataFrame
from xgboost.spark import SparkXGBClassifierModel

from realname_guard.core.config import MlflowConfig
from realname_guard.models.registry import ensure_experiment, load_champion, log_model
from realname_guard.models.train import predict
from tests.models.synthetic import FEATURES, TEST_CFG, scores_by_id


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private SQLite tracking store; the previous tracking URI comes back afterwards."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)  # anything written to ./mlruns would land here, and be noticed
    mlflow.set_tracking_uri(uri)
    yield uri
    mlflow.set_tracking_uri(None)


def test_log_register_alias_and_load_give_the_same_predictions(
    tmp_path: Path, tracking: str, synthetic: tuple[pd.DataFrame, DataFrame], trained: SparkXGBClassifierModel
) -> None:
    artifacts = tmp_path / "artifacts"
    experiment_id = ensure_experiment("rg-test", str(artifacts))
    assert ensure_experiment("rg-test", str(artifacts)) == experiment_id
    mcfg = MlflowConfig(tracking_uri=tracking, experiment="rg-test", model_name="rg-test-model")
    thresholds = {"high": 0.8125, "medium": None}

    with mlflow.start_run(experiment_id=experiment_id) as run:
        model_uri, version = log_model(
            trained, FEATURES, thresholds, {"pr_auc": 0.5, "roc_auc": math.nan}, TEST_CFG, mcfg
        )
    assert version == "1"
    assert model_uri.startswith("models:/") or model_uri.startswith("runs:/")
    assert any(artifacts.rglob("MLmodel"))  # artifacts where the experiment says, not ./mlruns
    assert not (tmp_path / "mlruns").exists()

    client = MlflowClient()
    mv = client.get_model_version_by_alias("rg-test-model", "champion")
    assert str(mv.version) == "1"
    assert mv.tags["threshold.high"] == "0.8125" and mv.tags["threshold.medium"] == "none"
    logged = client.get_run(run.info.run_id).data
    assert logged.metrics["pr_auc"] == 0.5 and "roc_auc" not in logged.metrics
    assert logged.params["model.seed"] == str(TEST_CFG.seed)

    loaded = load_champion(mcfg)
    assert (loaded.name, loaded.version, loaded.run_id) == ("rg-test-model", "1", run.info.run_id)
    assert loaded.feature_cols == FEATURES
    assert loaded.thresholds == thresholds

    _, sdf = synthetic
    rows = sdf.limit(200)
    before = scores_by_id(predict(trained, rows))
    after = scores_by_id(predict(loaded.model, rows))
    np.testing.assert_array_equal(after.to_numpy(), before.loc[after.index].to_numpy())


def test_log_model_needs_an_active_run(tracking: str, trained: SparkXGBClassifierModel) -> None:
    with pytest.raises(RuntimeError, match="active MLflow run"):
        log_model(trained, FEATURES, {}, {}, TEST_CFG, MlflowConfig())
