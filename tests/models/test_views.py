"""One classifier per view of the evidence: columns per view, the noisy-OR score, its reasons, the registry."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from pyspark.sql import DataFrame, SparkSession

from realname_guard.core.config import MlflowConfig, ModelConfig, XgbParams
from realname_guard.models.card import feature_importance, model_card, shap_means
from realname_guard.models.explain import add_reasons
from realname_guard.models.registry import ensure_experiment, load_champion, log_model
from realname_guard.models.train import (
    ViewEnsemble,
    evidence,
    fit_model,
    monotone_constraints,
    noisy_or,
    predict,
    view_columns,
)
from tests.models.synthetic import scores_by_id

FAMILY = {"f_sims": "registration", "f_cards_30d": "registration", "f_passthrough": "flows",
          "f_counterparties": "flows", "f_imei_ids": "devices"}
VIEWS = {"registration": ("registration", "identity"), "flows": ("flows",), "devices": ("devices",)}
CFG = ModelConfig(seed=3, xgb=XgbParams(n_estimators=40, max_depth=3))
DDL = ("entity_type string, entity_id string, is_account int, f_sims double, f_cards_30d double, "
       "f_passthrough double, f_counterparties double, label int, is_validation boolean")
COLS = ["is_account", "f_sims", "f_cards_30d", "f_passthrough", "f_counterparties"]


def test_view_columns_put_the_shared_columns_in_every_view_and_leave_out_empty_views() -> None:
    cols = ["is_account", "f_sims", "f_passthrough", "f_cards_30d"]  # no device feature delivered
    assert view_columns(cols, FAMILY, VIEWS, ("is_account",)) == {
        "registration": ["is_account", "f_sims", "f_cards_30d"],
        "flows": ["is_account", "f_passthrough"],
    }


def test_a_feature_no_view_reads_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match=r"f_night.*usage"):
        view_columns(["is_account", "f_sims", "f_night"], {**FAMILY, "f_night": "usage"}, VIEWS, ("is_account",))


def test_noisy_or_of_what_each_view_adds_to_the_base_rate() -> None:
    np.testing.assert_allclose(noisy_or(np.array([[0.5, 0.5], [0.0, 0.9], [0.0, 0.0]])), [0.75, 0.9, 0.0])
    seen = np.array([True, True, True, False])
    # base 0.2: 0.6 adds half of what is left above it; at or below the base, or unseen, nothing.
    np.testing.assert_allclose(evidence(np.array([0.6, 0.2, 0.1, 0.99]), 0.2, seen), [0.5, 0.0, 0.0, 0.0])


def cards(n: int, seed: int) -> pd.DataFrame:
    """Labelled accounts: card farmers (many cards AND pass-through) and honest holders (neither),
    the two families separating them equally well; one seed, half of each."""
    rng = np.random.default_rng(seed)
    bad = np.arange(n) % 2 == 0
    return pd.DataFrame({
        "entity_type": "ACCOUNT", "entity_id": [f"A{seed}-{i:05d}" for i in range(n)], "is_account": 1,
        "f_sims": np.where(bad, rng.integers(6, 12, n), rng.integers(0, 3, n)).astype(float),
        "f_cards_30d": np.where(bad, rng.integers(3, 8, n), rng.integers(0, 2, n)).astype(float),
        "f_passthrough": np.where(bad, rng.uniform(0.9, 1.0, n), rng.uniform(0.0, 0.2, n)),
        "f_counterparties": np.where(bad, rng.integers(20, 40, n), rng.integers(1, 8, n)).astype(float),
        "label": bad.astype(int), "is_validation": False,
    })


def spark_rows(spark: SparkSession, pdf: pd.DataFrame) -> DataFrame:
    return spark.createDataFrame([tuple(v.item() if hasattr(v, "item") else v for v in r)
                                  for r in pdf.itertuples(index=False)], DDL)


@pytest.fixture(scope="module")
def ensemble(spark: SparkSession) -> tuple[ViewEnsemble, DataFrame]:
    train = spark_rows(spark, cards(600, seed=1))
    views = view_columns(COLS, FAMILY, VIEWS, ("is_account",))
    model = fit_model(train, COLS, views, CFG, num_workers=2, validate=False)
    assert isinstance(model, ViewEnsemble)
    # Two cards nobody labelled: a dormant account turned mule (an ordinary holder, its money
    # passing straight through to many counterparties) and an ordinary account.
    new = pd.DataFrame({"entity_type": "ACCOUNT", "entity_id": ["MULE", "PLAIN"], "is_account": 1,
                        "f_sims": [1.0, 1.0], "f_cards_30d": [0.0, 0.0], "f_passthrough": [0.98, 0.05],
                        "f_counterparties": [31.0, 3.0], "label": 0, "is_validation": False})
    return model, spark_rows(spark, new)


def test_the_ensemble_scores_the_noisy_or_of_its_views(ensemble: tuple[ViewEnsemble, DataFrame]) -> None:
    model, new = ensemble
    assert list(model.members) == ["registration", "flows"]
    assert model.base == pytest.approx(0.5) and model.shared == ("is_account",)  # balanced classes
    combined = scores_by_id(predict(model, new))
    per_view = np.column_stack([scores_by_id(predict(m, new)).to_numpy() for m in model.members.values()])
    expected = noisy_or(evidence(per_view, model.base, np.ones_like(per_view, dtype=bool)))
    np.testing.assert_allclose(combined.to_numpy(), expected, rtol=1e-6, atol=1e-9)


def test_a_signal_of_one_family_alone_survives_into_the_score(ensemble: tuple[ViewEnsemble, DataFrame]) -> None:
    model, new = ensemble
    scores = scores_by_id(predict(model, new))
    assert scores["MULE"] > 0.5 > 0.1 > scores["PLAIN"]


def test_a_view_none_of_whose_inputs_a_card_has_adds_nothing(
    spark: SparkSession, ensemble: tuple[ViewEnsemble, DataFrame]
) -> None:
    model, _ = ensemble
    # A card without money flows (a SIM, in the job): the flows view's base rate is not evidence.
    row = spark.createDataFrame([("SIM", "NOFLOWS", 1, 1.0, 0.0, None, None, 0, False)], DDL)
    registration = scores_by_id(predict(model.members["registration"], row)).to_numpy()
    expected = evidence(registration, model.base, np.ones_like(registration, dtype=bool))
    np.testing.assert_allclose(scores_by_id(predict(model, row)).to_numpy(), expected, rtol=1e-6, atol=1e-9)


def test_reasons_come_from_the_view_surest_of_the_card(ensemble: tuple[ViewEnsemble, DataFrame]) -> None:
    model, new = ensemble
    explained = add_reasons(model, new.where("entity_id = 'MULE'"), COLS, {}, top_k=2, exclude=["is_account"])
    codes = [r["code"] for r in explained.first()["reasons"]]
    assert codes and set(codes) <= {"F_PASSTHROUGH", "F_COUNTERPARTIES"}


def test_monotone_constraints_name_the_increasing_inputs_in_column_order() -> None:
    assert monotone_constraints(["is_account", "f_sims", "f_imei_ids"], ("f_imei_ids", "absent")) == "(0,0,1)"
    assert monotone_constraints(["is_account", "f_sims"], ("f_imei_ids",)) is None


def test_an_extreme_fan_in_drawn_as_negatives_still_scores_as_misuse(spark: SparkSession) -> None:
    """PU learning's hazard: labelled card farmers share handsets with 3-8 holders; a farm nobody
    labelled (30-50 holders per handset) is partly drawn among the unlabelled negatives. Free, the
    trees learn that the extreme is honest; constrained increasing in the fan-in, they cannot."""
    rng = np.random.default_rng(5)
    n = 600
    kind = np.arange(n) % 6  # 0, 1: labelled farmers; 2: a farm drawn as negatives; 3-5: honest
    fan_in = np.select([kind < 2, kind == 2], [rng.integers(3, 9, n), rng.integers(30, 51, n)], rng.integers(1, 3, n))
    rows = pd.DataFrame({"entity_type": "SIM", "entity_id": [f"S{i:04d}" for i in range(n)], "is_account": 0,
                         "f_sims": rng.integers(1, 4, n).astype(float), "f_imei_ids": fan_in.astype(float),
                         "label": (kind < 2).astype(int), "is_validation": False})
    ddl = "entity_type string, entity_id string, is_account int, f_sims double, f_imei_ids double, label int, " \
          "is_validation boolean"
    train = spark.createDataFrame(rows, ddl)
    farm = spark.createDataFrame(pd.DataFrame({
        "entity_type": "SIM", "entity_id": ["FARM", "FARMER"], "is_account": 0, "f_sims": 2.0,
        "f_imei_ids": [40.0, 5.0], "label": 0, "is_validation": False}), ddl)
    cols = ["is_account", "f_sims", "f_imei_ids"]
    free = scores_by_id(predict(fit_model(train, cols, None, CFG, num_workers=2, validate=False), farm))
    assert free["FARM"] < 0.5 < free["FARMER"]  # the hazard is real in this data
    held = dataclasses.replace(CFG, monotone_increasing=("f_imei_ids",))
    constrained = scores_by_id(predict(fit_model(train, cols, None, held, num_workers=2, validate=False), farm))
    assert constrained["FARM"] >= constrained["FARMER"] > 0.5


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(uri)
    yield uri
    mlflow.set_tracking_uri(None)


def test_an_ensemble_round_trips_through_the_registry(
    tmp_path: Path, tracking: str, ensemble: tuple[ViewEnsemble, DataFrame]
) -> None:
    model, new = ensemble
    experiment_id = ensure_experiment("rg-views", str(tmp_path / "artifacts"))
    mcfg = MlflowConfig(tracking_uri=tracking, experiment="rg-views", model_name="rg-views-model")
    with mlflow.start_run(experiment_id=experiment_id):
        log_model(model, COLS, {"high": 0.9, "medium": 0.7}, {"ap": math.nan}, CFG, mcfg)
    loaded = load_champion(mcfg)
    assert isinstance(loaded.model, ViewEnsemble)
    assert {v: loaded.model.columns(v) for v in loaded.model.members} == {
        v: model.columns(v) for v in model.members}
    pd.testing.assert_series_equal(scores_by_id(predict(loaded.model, new)), scores_by_id(predict(model, new)))


def test_importance_and_shap_summary_name_each_views_inputs(ensemble: tuple[ViewEnsemble, DataFrame]) -> None:
    model, _ = ensemble
    importance = feature_importance(model)
    assert set(importance) <= set(COLS) and importance  # in the model's own names, not f0, f1
    assert list(importance.values()) == sorted(importance.values(), reverse=True)
    sample = cards(200, seed=9)
    shap = shap_means(model, sample)
    assert set(shap) == set(COLS) and all(v >= 0 for v in shap.values())
    # The signals that separate the cards carry the contributions; the kind indicator (constant) none.
    assert shap["is_account"] == pytest.approx(0.0, abs=1e-6)
    assert max(shap, key=lambda k: shap[k]) in {"f_sims", "f_cards_30d", "f_passthrough", "f_counterparties"}


def test_the_model_card_says_what_it_is_for_and_its_limits() -> None:
    text = model_card({"name": "rg", "version": "3", "run_date": "2026-06-30", "snapshots": ["2026-06-16"],
                       "n_features": 5, "views": ["registration", "flows"], "monotone": 1,
                       "setting": {"negatives_per_positive": 6.0}, "training_rows": {"rows.train.1": 40},
                       "metrics": {"average_precision": 0.31, "positives": 12.0},
                       "baseline_metrics": {"average_precision": 0.12},
                       "gate": {"promote": False, "reason": "below the champion's"},
                       "importance": {"f_sims": 3.0}, "backtest_start": "2026-06-16"})
    for part in ("# Model card: rg v3", "## What it is for", "## Data", "## Figures (out of time: the backtest)",
                 "| average_precision | 0.3100 | 0.1200 |", "Gate: refused: below the champion's",
                 "## Known limits", "rows.train.1 | 40"):
        assert part in text, part
