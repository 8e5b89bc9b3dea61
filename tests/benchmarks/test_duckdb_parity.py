"""The DuckDB reference features (benchmarks/) give the Spark feature groups' values on a generated world.

The benchmark reports Spark's feature stage as a ratio to this reference; this test keeps the two
from drifting apart silently when a feature group changes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from benchmarks import parity
from realname_guard.core.contract import TABLES
from realname_guard.core.generator_config import GeneratorConfig
from realname_guard.core.io import locate_table, read_contract_table
from realname_guard.core.tables import Tables
from realname_guard.generator.world import generate_world
from realname_guard.jobs.ingest import deidentify, normalise
from tests.conftest import TEST_HASH_KEY

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def clean_world(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("parity")
    # No dirty rows: the clean tables are then ingest's normalise + de-identify without the
    # (slow, separately tested) Great Expectations suite, and keys are unique as after validation.
    cfg = GeneratorConfig(persons=1000, seed=11, chunk_persons=1000, dirty_row_share=0.0, shop_handset_share=0.05)
    generate_world(root / "world", cfg, AS_OF)
    frames = {}
    for name, contract in TABLES.items():
        located = locate_table(spark, str(root / "world" / "input"), name)
        assert located is not None
        raw, _ = read_contract_table(spark, located, contract, "UTF-8")
        df = normalise(raw, contract, AS_OF)
        if "_id_valid" in df.columns:
            df = df.where(F.col("_id_valid"))
        df = df.where(~F.col("_after_run_date")) if "_after_run_date" in df.columns else df
        df = df.drop("_source_file", "_cast_failures", "_id_valid", "_after_run_date")
        frames[name] = deidentify(df, contract, TEST_HASH_KEY, keep_name=True)
    tables = Tables(sims=frames["sim_registrations"], accounts=frames["bank_accounts"],
                    activity=frames["sim_activity"], transactions=frames["bank_transactions"],
                    registry=frames["id_registry"], labels=frames["labels"])
    parity.write_clean_tables(spark, tables, root / "clean", count=False)
    return root


def test_duckdb_features_equal_spark_features(spark: SparkSession, clean_world: Path) -> None:
    spark_run = parity.time_spark(spark, clean_world / "clean", clean_world / "spark_features", AS_OF)
    duck_run = parity.time_duckdb(clean_world / "clean", clean_world / "duck_features.parquet", AS_OF)
    report = parity.compare(clean_world / "spark_features", clean_world / "duck_features.parquet",
                            spark_run["columns"])
    assert report["rows_spark"] == duck_run["rows"] > 1500
    assert report["only_in_spark"] == report["only_in_duckdb"] == report["duplicate_keys_spark"] == 0
    assert report["mismatches_by_column"] == {}, report["examples"]
    assert report["columns_compared"] == len(spark_run["columns"]) + 5  # + recipient, id_hash, ... closed
