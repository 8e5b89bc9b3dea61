"""One GE context for the quality tests: the shipped suites run once on the literal tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession

from realname_guard.config import load_config
from realname_guard.core.config import QualityConfig
from realname_guard.quality.validate import TableQuality, new_context, validate_table
from tests.quality.data import BANK_CASES, BANK_DDL, SIM_CASES, SIM_DDL


@dataclass
class Validated:
    config: QualityConfig
    context: Any
    inputs: dict[str, DataFrame]
    results: dict[str, TableQuality]


@pytest.fixture(scope="package")
def shipped() -> QualityConfig:
    return load_config(local_dir=None).expectations


@pytest.fixture(scope="package")
def validated(spark: SparkSession, shipped: QualityConfig) -> Validated:
    """sim_registrations and bank_accounts through the shipped suites, in one context."""
    context = new_context()
    inputs = {
        "sim_registrations": spark.createDataFrame([row for row, _ in SIM_CASES], SIM_DDL),
        "bank_accounts": spark.createDataFrame([row for row, _ in BANK_CASES], BANK_DDL),
    }
    results = {
        name: validate_table(df, name, shipped.tables[name], context, run_id="2026-06-30")
        for name, df in inputs.items()
    }
    return Validated(shipped, context, inputs, results)
