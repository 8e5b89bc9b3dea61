"""Worlds that disagree: the self-tuned choice does as well as each fixed setting on each.

Each world is a generator setting of conf/worlds/. The backtest trains every candidate on what
was known two weeks before the run date; each is then judged by the world's truth on the cards
nobody had labelled then. The choice the job makes, with its shipped gate, must be within noise of
the best fixed setting on every world, and must refuse a setting that collapses on that world.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from realname_guard.config import load_config
from realname_guard.core.generator_config import GeneratorConfig
from realname_guard.generator.world import generate_world
from realname_guard.jobs.backtest import build_snapshots, run_backtest, snapshot_dates
from realname_guard.jobs.context import open_context
from realname_guard.jobs.evaluate import _ap
from realname_guard.jobs.ingest import ingest
from tests.pipelines.core_features import CORE_OVERRIDES

RUN_DATE = dt.date(2026, 6, 30)
WORLDS = Path(__file__).resolve().parents[2] / "conf" / "worlds"
NOISE = 0.1  # of average precision: what a 5,000-person world's ranking moves by between settings


def _truth(spark: SparkSession, truth: Path) -> DataFrame:
    sims = spark.read.parquet(str(truth / "sims")).select(
        F.lit("SIM").alias("entity_type"), F.col("msisdn").alias("entity_id"), "is_misuse")
    accounts = spark.read.parquet(str(truth / "accounts")).select(
        F.lit("ACCOUNT").alias("entity_type"), F.col("account_id").alias("entity_id"), "is_misuse")
    return sims.unionByName(accounts)


@pytest.mark.slow
@pytest.mark.parametrize("world", ["demo", "scarce-negatives"])
def test_the_choice_is_as_good_as_each_fixed_setting(
    spark: SparkSession, tmp_path: Path, world: str
) -> None:
    settings = yaml.safe_load((WORLDS / f"{world}.yaml").read_text(encoding="utf-8"))["generator"] or {}
    # scarce-negatives: its labels come 1-20 days after the misuse began, so with misuse spread over
    # the years a 5,000-person world may have one confirmation in the backtest's two weeks; misuse
    # within two months (as in the whole-job tests) gives it some whatever the seed draws.
    recent = {"misuse_recent_days": 60} if world == "scarce-negatives" else {}
    gen = GeneratorConfig(**{**settings, "persons": 5000, "chunk_persons": 5000, "card_farmer_share": 0.008,
                             **recent})
    generate_world(tmp_path / "world", gen, RUN_DATE)
    cfg = load_config(local_dir=None, overrides=[
        f"run.input={tmp_path / 'world' / 'input'}", f"run.output={tmp_path / 'out'}", f"run.run_date={RUN_DATE}",
        # The tuning gate as shipped (model.tuning.min_confirmations): a choice made on a handful of
        # confirmations is a coin toss. With the gate lowered to 3, the demo world's 4 confirmations
        # all ranked higher by labelled-only (a 100% win share in the bootstrap) chose it at a truth
        # AP of 0.77 against pu-20's 0.91; choose() itself is tested in tests/jobs/test_backtest.py.
        "spark.shuffle_partitions=2", "model.backtest.min_positives=3", "model.xgb.n_estimators=60",
        *CORE_OVERRIDES,
        "model.tuning.candidates=[{name: labelled-only, negatives_per_positive: 0}, "
        "{name: pu-20, negatives_per_positive: 20}]",
        # One snapshot (the backtest's start) and no naive baseline: the choice among settings is
        # under test, not the point-in-time ladder (tests/models/test_point_in_time.py).
        "model.point_in_time.snapshot_days_back=[14]", "model.backtest.baseline_features=[]",
    ])
    ctx = open_context(cfg)
    ingested = ingest(spark, cfg, ctx.key)
    snapshots = build_snapshots(ctx, ingested.tables, snapshot_dates(RUN_DATE, cfg.model))
    assert ingested.tables.labels is not None
    result = run_backtest(ctx, snapshots, ingested.tables.labels)
    assert result.chosen is not None, "too few confirmations in the window to choose"
    truth = _truth(spark, tmp_path / "world" / "truth")
    judged = {}
    for r in result.candidates:
        assert r.frame is not None
        judged[r.name] = _ap(r.frame.join(truth, ["entity_type", "entity_id"]).withColumn(
            "label", F.col("is_misuse").cast("int")))
    print(world, result.chosen.name, judged)
    best = max(v for v in judged.values() if v is not None)
    chosen = judged[result.chosen.name]
    assert chosen is not None and chosen >= best - NOISE, (result.chosen.name, judged)
    for name, value in judged.items():  # at least as well as each fixed setting, within noise
        assert value is None or chosen >= value - NOISE, (name, judged)
    if world == "scarce-negatives":  # hardly any cleared cards: labelled rows alone collapse
        assert result.chosen.name != "labelled-only"
