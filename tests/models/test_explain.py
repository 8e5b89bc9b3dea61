"""add_reasons: the feature driving a score comes first, contributions equal xgboost's SHAP values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost as xgb
from pyspark.sql import DataFrame, SparkSession
from pyspark.testing import assertDataFrameEqual
from xgboost.spark import SparkXGBClassifierModel

from realname_guard.models.explain import REASON_TYPE, add_reasons
from tests.models.synthetic import DESCRIPTIONS, FEATURES

ROWS_DDL = "entity_id string, is_account int, f_sims int, f_night_ratio double, f_noise double"
ROWS = [
    ("many_sims", 0, 9, 0.1, 0.0),  # f_sims drives the score up
    ("no_sims", 0, 0, 0.25, 1.5),  # f_sims pushes down: never a reason here
    ("account", 1, 4, None, -0.3333333),  # night ratio missing for accounts
]
# Chinese descriptions of some features; the others fall back to the English one.
DESCRIPTIONS_ZH = {"f_sims": "该证件在本运营商名下的号码数", "f_night_ratio": "夜间通话占比"}
# How each value is written after the description.
VALUE_TEXT = {
    "many_sims": {"is_account": "0", "f_sims": "9", "f_night_ratio": "0.1", "f_noise": "0"},
    "no_sims": {"is_account": "0", "f_sims": "0", "f_night_ratio": "0.25", "f_noise": "1.5"},
    "account": {"is_account": "1", "f_sims": "4", "f_night_ratio": "missing", "f_noise": "-0.3333"},
}


def _zh(entity_id: str, name: str, zh: dict[str, str]) -> str:
    value = VALUE_TEXT[entity_id][name]
    return f"{zh.get(name) or DESCRIPTIONS[name]}：{'缺失' if value == 'missing' else value}"


def _expected(
    spark: SparkSession,
    model: SparkXGBClassifierModel,
    rows: DataFrame,
    top_k: int,
    exclude: set[str],
    zh: dict[str, str],
) -> DataFrame:
    """Reasons built in Python from the booster's own SHAP values (the oracle)."""
    pdf = pd.DataFrame(ROWS, columns=["entity_id", *FEATURES])
    best = int(model.get_booster().attr("best_iteration"))
    contribs = model.get_booster().predict(
        xgb.DMatrix(pdf[FEATURES].astype(float), missing=np.nan),
        pred_contribs=True,
        iteration_range=(0, best + 1),
    )
    out = []
    for row, values in zip(ROWS, contribs, strict=True):
        entity_id = row[0]
        items = [
            (
                float(values[i]),
                name.upper(),
                f"{DESCRIPTIONS[name]}: {VALUE_TEXT[entity_id][name]}",
                _zh(entity_id, name, zh),
            )
            for i, name in enumerate(FEATURES)
            if values[i] > 0 and name not in exclude
        ]
        items.sort(reverse=True)
        out.append((*row, [(code, desc, desc_zh, c) for c, code, desc, desc_zh in items[:top_k]]))
    return spark.createDataFrame(out, f"{ROWS_DDL}, reasons {REASON_TYPE}")


def test_reasons_are_the_top_positive_shap_values_in_words(
    spark: SparkSession, trained: SparkXGBClassifierModel
) -> None:
    rows = spark.createDataFrame(ROWS, ROWS_DDL)
    got = add_reasons(trained, rows, FEATURES, DESCRIPTIONS, top_k=2, descriptions_zh=DESCRIPTIONS_ZH)
    assert got.columns == [*rows.columns, "reasons"]
    assertDataFrameEqual(got, _expected(spark, trained, rows, 2, set(), DESCRIPTIONS_ZH), rtol=1e-5)

    by_id = {r["entity_id"]: r["reasons"] for r in got.collect()}
    assert by_id["many_sims"][0]["code"] == "F_SIMS"
    assert by_id["many_sims"][0]["description"] == "SIMs registered to this ID at this operator: 9"
    assert by_id["many_sims"][0]["description_zh"] == "该证件在本运营商名下的号码数：9"
    assert "F_SIMS" not in [r["code"] for r in by_id["no_sims"]]


def test_excluded_features_are_never_reasons(spark: SparkSession, trained: SparkXGBClassifierModel) -> None:
    rows = spark.createDataFrame(ROWS, ROWS_DDL)
    got = add_reasons(trained, rows, FEATURES, DESCRIPTIONS, top_k=3, exclude=["is_account"])
    assertDataFrameEqual(got, _expected(spark, trained, rows, 3, {"is_account"}, {}), rtol=1e-5)
