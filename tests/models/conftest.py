"""Fixtures of the model tests: the synthetic cards and one model trained on them per session."""

from __future__ import annotations

import pandas as pd
import pytest
from pyspark.sql import DataFrame, SparkSession
from xgboost.spark import SparkXGBClassifierModel

from realname_guard.models.train import fit
from tests.models.synthetic import FEATURES, TEST_CFG, synthetic_pandas, to_spark


@pytest.fixture(scope="session")
def synthetic(spark: SparkSession) -> tuple[pd.DataFrame, DataFrame]:
    """4,000 cards: the pandas original and the same rows in Spark."""
    pdf = synthetic_pandas(4000, seed=11)
    return pdf, to_spark(spark, pdf)


@pytest.fixture(scope="session")
def trained(synthetic: tuple[pd.DataFrame, DataFrame]) -> SparkXGBClassifierModel:
    """The one two-worker Spark model the round-trip, explain and oracle tests share."""
    _, sdf = synthetic
    return fit(sdf, FEATURES, TEST_CFG, num_workers=2)
