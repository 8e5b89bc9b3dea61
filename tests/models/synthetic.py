"""Seeded synthetic cards for the model tests: the same rows in pandas (for the oracles) and Spark."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from realname_guard.core.config import ModelConfig, XgbParams

FEATURES = ["is_account", "f_sims", "f_night_ratio", "f_noise"]
DESCRIPTIONS = {
    "is_account": "Entity is a bank account",
    "f_sims": "SIMs registered to this ID at this operator",
    "f_night_ratio": "Share of calls at night",
    "f_noise": "A feature carrying no signal",
}
FEATURES_DDL = (
    "entity_type string, entity_id string, recipient string, id_hash string, is_account int, "
    "f_sims int, f_night_ratio double, f_noise double, label int, is_validation boolean"
)
# Small but not trivial: early stopping has something to stop, and tests stay quick.
TEST_CFG = ModelConfig(seed=7, xgb=XgbParams(n_estimators=60, early_stopping_rounds=10, max_depth=4))


def synthetic_pandas(n: int, seed: int) -> pd.DataFrame:
    """Cards whose label is driven mostly by f_sims, a little by f_night_ratio (null for accounts)."""
    rng = np.random.default_rng(seed)
    is_account = rng.integers(0, 2, n)
    sims = rng.poisson(1.5, n)
    night = np.where(is_account == 1, np.nan, rng.beta(2, 5, n))
    noise = rng.normal(size=n)
    logit = -3.0 + 1.2 * sims + 1.5 * np.nan_to_num(night)
    label = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "entity_type": np.where(is_account == 1, "ACCOUNT", "SIM"),
            "entity_id": [f"E{i:06d}" for i in range(n)],
            "recipient": np.where(is_account == 1, "BANK1", "OP1"),
            "id_hash": [f"H{i // 2:06d}" for i in range(n)],
            "is_account": is_account,
            "f_sims": sims,
            "f_night_ratio": night,
            "f_noise": noise,
            "label": label,
            "is_validation": rng.random(n) < 0.2,
        }
    )


def to_spark(spark: SparkSession, pdf: pd.DataFrame) -> DataFrame:
    """The pandas frame as Spark rows with the contract's types (NaN becomes null)."""
    rows = [
        tuple(
            None if isinstance(v, float) and np.isnan(v) else (v.item() if hasattr(v, "item") else v)
            for v in r
        )
        for r in pdf.itertuples(index=False)
    ]
    return spark.createDataFrame(rows, FEATURES_DDL)


def scores_by_id(df: DataFrame) -> pd.Series:
    """entity_id -> score of a small test frame."""
    return df.select("entity_id", F.col("score")).toPandas().set_index("entity_id")["score"].sort_index()
