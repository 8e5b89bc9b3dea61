"""The score that needs no labels (ECOD over today's cards) and the listings it may make alone."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from realname_guard.core.config import AnomalyConfig, PolicyConfig
from realname_guard.models.anomaly import (
    PROBS,
    Tails,
    add_anomaly,
    fit_tails,
    score_frame,
    signal_index,
    tail_probability,
)
from realname_guard.models.explain import anomaly_reasons
from realname_guard.policy.lists import decide

D = dt.date(2026, 6, 30)
FEATURES = ("imei_max_ids", "call_out_in_ratio", "days_abroad")
ANOMALY = AnomalyConfig(features=FEATURES, extreme_tail=0.01, min_extreme_features=2, max_listed_share=0.01)
POLICY = PolicyConfig(rules=("CONFIRMED_MISUSE",), list_on_rules=("CONFIRMED_MISUSE",), anomaly=ANOMALY)


def test_tail_probability_is_the_share_at_or_beyond_the_value() -> None:
    x = np.r_[np.zeros(900), np.arange(1, 101)]  # 90% zeros, then 1..100
    q = list(np.quantile(x, PROBS))
    got = tail_probability(np.array([0.0, 1.0, 50.0, 100.0, 1e6, np.nan]), q, len(x))
    want = [1.0, 0.1, 0.051, 0.001, 0.001, 1.0]  # beyond the largest: floored at 1/n; missing: no evidence
    np.testing.assert_allclose(got, want, atol=2e-3)
    assert tail_probability(np.array([5.0]), None, 100)[0] == 1.0  # the kind lacks the feature


def population(n: int = 2000, seed: int = 3) -> pd.DataFrame:
    """SIMs: ordinary holders; travellers (far out on days abroad alone); a farm of 12 SIMs of
    strangers in one box (many IDs per handset and calls out only); and accounts, which have none
    of these inputs."""
    rng = np.random.default_rng(seed)
    sims = pd.DataFrame({
        "entity_type": "SIM", "entity_id": [f"S{i:05d}" for i in range(n)],
        "imei_max_ids": rng.integers(1, 3, n).astype(float),
        "call_out_in_ratio": rng.gamma(2.0, 0.5, n),
        "days_abroad": np.where(np.arange(n) % 40 == 0, rng.integers(20, 30, n), 0).astype(float),
    })
    farm = pd.DataFrame({"entity_type": "SIM", "entity_id": [f"FARM{i:02d}" for i in range(12)],
                         "imei_max_ids": 12.0, "call_out_in_ratio": 60.0 + np.arange(12), "days_abroad": 0.0})
    accounts = pd.DataFrame({"entity_type": "ACCOUNT", "entity_id": [f"A{i:04d}" for i in range(500)],
                             "imei_max_ids": np.nan, "call_out_in_ratio": np.nan, "days_abroad": np.nan})
    return pd.concat([sims, farm, accounts], ignore_index=True)


@pytest.fixture(scope="module")
def cards(spark: SparkSession) -> DataFrame:
    pdf = population()
    return spark.createDataFrame(pdf, "entity_type string, entity_id string, imei_max_ids double, "
                                      "call_out_in_ratio double, days_abroad double")


def test_spark_scores_equal_the_formula_over_exact_tails(cards: DataFrame) -> None:
    tails = fit_tails(cards, FEATURES)
    assert tails.counts == {"ACCOUNT": 500, "SIM": 2012}
    assert all(q is None for q in tails.quantiles["ACCOUNT"].values())
    got = add_anomaly(cards, tails, 0.01).toPandas().set_index("entity_id").sort_index()
    pdf = population().set_index("entity_id").sort_index()
    # The oracle: exact tails from numpy, -log summed (Spark's quantiles are approximate).
    sims = pdf[pdf.entity_type == "SIM"]
    exact = sum(-np.log(np.maximum((sims[f].to_numpy()[None, :] >= sims[f].to_numpy()[:, None]).mean(1),
                                   1 / len(sims))) for f in FEATURES)
    np.testing.assert_allclose(got.loc[sims.index, "anomaly_score"], exact, rtol=0.05, atol=0.05)
    assert (got.loc[pdf.entity_type == "ACCOUNT", "anomaly_score"] == 0).all()
    farm = got.loc[got.index.str.startswith("FARM")]
    assert (farm.anomaly_extremes == 2).all()
    assert all(set(fs) == {"imei_max_ids", "call_out_in_ratio"} for fs in farm.anomaly_features)


def test_score_frame_names_the_farthest_out_inputs_first() -> None:
    tails = Tails(("a", "b"), {"SIM": {"a": list(np.linspace(0, 100, len(PROBS))), "b": None}}, {"SIM": 1000})
    out = score_frame(pd.DataFrame({"entity_type": ["SIM", "SIM"], "a": [0.0, 100.0], "b": [1.0, np.nan]}),
                      tails, extreme_tail=0.01)
    assert out.anomaly_extremes.tolist() == [0, 1]
    assert out.anomaly_features.tolist() == [[], ["a"]]


def test_two_columns_of_one_fact_are_one_signal() -> None:
    """An outlet day of a campus card drive is far out on its IDs and its no-face-check IDs at once:
    with the two in one ``same_signal`` group that is one extreme, not the two a listing needs."""
    spread = list(np.linspace(0, 100, len(PROBS)))
    feats = ("site_ids", "site_noface_ids", "out_ratio")
    pdf = pd.DataFrame({"entity_type": ["SIM"] * 3, "site_ids": [100.0, 100.0, 0.0],
                        "site_noface_ids": [100.0, 0.0, 100.0], "out_ratio": [0.0, 100.0, 100.0]})
    apart = Tails(feats, {"SIM": dict.fromkeys(feats, spread)}, {"SIM": 1000})
    assert score_frame(pdf, apart, 0.01).anomaly_extremes.tolist() == [2, 2, 2]
    grouped = dataclasses.replace(apart, signals=signal_index(feats, [("site_ids", "site_noface_ids")]))
    assert grouped.signals == (0, 0, 1)
    out = score_frame(pdf, grouped, 0.01)
    assert out.anomaly_extremes.tolist() == [1, 2, 2]
    assert out.anomaly_features.tolist()[0] == ["site_ids", "site_noface_ids"]  # both still named as reasons


def scored(cards: DataFrame, model_scores: dict[str, float]) -> DataFrame:
    """The decisions' input: entity columns, the model's score (low unless given) and the anomaly score."""
    tails = fit_tails(cards, FEATURES)
    frame = cards.select(
        "*", F.lit("CMCC").alias("recipient"), F.concat(F.lit("h-"), "entity_id").alias("id_hash"),
        F.lit("1101**").alias("id_masked"), F.lit(dt.datetime(2026, 1, 1)).alias("opened_at"),
        F.lit(False).alias("closed"),
        F.coalesce(*[F.when(F.col("entity_id") == k, F.lit(v)) for k, v in model_scores.items()],
                   F.lit(0.01)).alias("score"),
    )
    return add_anomaly(frame, tails, ANOMALY.extreme_tail)


def test_the_farm_nobody_labelled_is_listed_for_review_and_the_travellers_are_not(cards: DataFrame) -> None:
    got = decide(scored(cards, {"FARM00": 0.9}), None, None, (0.95, 0.8), POLICY, D).toPandas().set_index(
        "entity_id")
    listed = got[got.listed]
    anomaly = listed[listed.listing_source == "ANOMALY"]
    # FARM00 the model lists; the other eleven only the anomaly score, within 1% of 2012 SIMs (20).
    assert listed.loc["FARM00", "listing_source"] == "MODEL"
    assert sorted(anomaly.index) == [f"FARM{i:02d}" for i in range(1, 12)]
    assert (anomaly.action == "REVERIFY").all() and anomaly.needs_human_review.all()
    assert (anomaly.risk_tier == "MEDIUM").all()
    # The listing score is MEDIUM's threshold, the model's own score kept beside it.
    assert (anomaly.score == 0.8).all() and (anomaly.model_score == 0.01).all()
    assert not got.loc[got.days_abroad > 0, "listed"].any()  # one extreme alone never lists
    assert (got.loc[~got.listed, "score"] == got.loc[~got.listed, "model_score"]).all()


def test_the_share_listed_on_the_anomaly_score_is_capped(cards: DataFrame) -> None:
    tight = dataclasses.replace(POLICY, anomaly=dataclasses.replace(ANOMALY, max_listed_share=0.003))
    got = decide(scored(cards, {}), None, None, (0.95, 0.8), tight, D).where("listing_source = 'ANOMALY'")
    ids = sorted(r["entity_id"] for r in got.select("entity_id").collect())
    assert len(ids) == 6  # int(0.003 * 2012): the farthest out of the farm
    assert set(ids) <= {f"FARM{i:02d}" for i in range(12)}
    off = dataclasses.replace(POLICY, anomaly=dataclasses.replace(ANOMALY, enabled=False))
    assert decide(scored(cards, {}), None, None, (0.95, 0.8), off, D).where("listed").count() == 0


def test_anomaly_reasons_say_how_far_out_in_words(cards: DataFrame) -> None:
    frame = add_anomaly(cards, fit_tails(cards, FEATURES), 0.01).where("entity_id = 'FARM11'")
    reasons = frame.select(anomaly_reasons(frame, {"imei_max_ids": "IDs sharing a handset"},
                                           {"imei_max_ids": "一机多证"}).alias("r")).first()["r"]
    first = reasons[0]
    assert first["code"] in {"IMEI_MAX_IDS", "CALL_OUT_IN_RATIO"}
    ids = next(r for r in reasons if r["code"] == "IMEI_MAX_IDS")
    assert ids["description"].startswith("IDs sharing a handset: 12 (top ") and ids["description"].endswith(
        "% of sims)")
    assert ids["description_zh"].startswith("一机多证：12（同类前") and ids["contribution"] > 4
