"""build_training_set: point-in-time labels, latest wins, person labels, seeded sampling, time split."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from realname_guard.core.config import AnomalyConfig, ModelConfig
from realname_guard.core.schema import feature_columns
from realname_guard.models.anomaly import FarOut
from realname_guard.models.dataset import InsufficientLabelsError, build_training_set

AS_OF = dt.date(2026, 6, 30)
FEATURES_DDL = (
    "entity_type string, entity_id string, recipient string, id_hash string, is_account int, f1 int"
)
LABELS_DDL = "entity_type string, entity_id string, label int, label_time timestamp, source string"
OUT_DDL = "is_account int, f1 int, label int, is_validation boolean, entity_type string, entity_id string"
CFG = ModelConfig(min_positives=1, negatives_per_positive=None, unlabeled_negative_rate=0.0, validation_fraction=0.5)


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.fixture
def features(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(
        [
            ("SIM", "s1", "OP1", "h0", 0, 1),
            ("SIM", "s2", "OP1", "h0", 0, 2),
            ("SIM", "s3", "OP2", "h3", 0, 3),
            ("SIM", "s4", "OP1", "h1", 0, 4),
            ("ACCOUNT", "a1", "B1", "h1", 1, None),
            ("ACCOUNT", "a2", "B2", "h2", 1, 6),
            ("SIM", "s5", "OP1", "h2", 0, 7),
        ],
        FEATURES_DDL,
    )


@pytest.fixture
def labels(spark: SparkSession) -> DataFrame:
    # Label times are read in the session time zone (Asia/Shanghai in the tests).
    return spark.createDataFrame(
        [
            ("SIM", "s1", 1, ts("2026-06-01 10:00:00"), "POLICE_NOTICE"),
            ("SIM", "s1", 0, ts("2026-06-20 10:00:00"), "APPEAL"),  # later: wins
            ("SIM", "s2", 0, ts("2026-06-02 10:00:00"), "REVERIFY"),
            ("SIM", "s2", 1, ts("2026-07-01 00:00:00"), "POLICE_NOTICE"),  # after as_of: ignored
            ("SIM", "s3", 1, ts("2026-06-30 23:30:00"), "POLICE_NOTICE"),  # end of the as-of day: kept
            ("PERSON", "h1", 1, ts("2026-06-10 10:00:00"), "POLICE_NOTICE"),  # reaches s4, not a1
            ("ACCOUNT", "a1", 0, ts("2026-06-05 10:00:00"), "REVERIFY"),  # own label beats the person's
            ("ACCOUNT", "a2", 1, ts("2026-06-15 10:00:00"), "BANK_REPORT"),
            ("SIM", "zz", 1, ts("2026-06-15 10:00:00"), "POLICE_NOTICE"),  # no features: dropped
            ("SIM", "s5", 1, None, "POLICE_NOTICE"),  # no time: cannot be placed before as_of
        ],
        LABELS_DDL,
    )


def test_labels_as_of_latest_wins_person_labels_and_time_split(
    spark: SparkSession, features: DataFrame, labels: DataFrame
) -> None:
    got = build_training_set(features, labels, AS_OF, CFG)
    # Label times: s2 06-02, a1 06-05, s4 06-10 | a2 06-15, s1 06-20, s3 06-30: the later half validates.
    expected = spark.createDataFrame(
        [
            (0, 1, 0, True, "SIM", "s1"),
            (0, 2, 0, False, "SIM", "s2"),
            (0, 3, 1, True, "SIM", "s3"),
            (0, 4, 1, False, "SIM", "s4"),
            (1, None, 0, False, "ACCOUNT", "a1"),
            (1, 6, 1, True, "ACCOUNT", "a2"),
        ],
        OUT_DDL,
    )
    assertDataFrameEqual(got, expected)


def test_person_labels_can_be_switched_off(
    spark: SparkSession, features: DataFrame, labels: DataFrame
) -> None:
    cfg = ModelConfig(
        min_positives=1,
        negatives_per_positive=None,
        unlabeled_negative_rate=0.0,
        validation_fraction=0.5,
        person_labels_apply_to_cards=False,
    )
    got = build_training_set(features, labels.where(F.col("entity_id") != "s2"), AS_OF, cfg)
    # a1 06-05 | a2 06-15, s1 06-20, s3 06-30 → cut at the 0.5 quantile (06-15): s1 and s3 validate.
    expected = spark.createDataFrame(
        [
            (0, 1, 0, True, "SIM", "s1"),
            (0, 3, 1, True, "SIM", "s3"),
            (1, None, 0, False, "ACCOUNT", "a1"),
            (1, 6, 1, False, "ACCOUNT", "a2"),
        ],
        OUT_DDL,
    )
    assertDataFrameEqual(got, expected)


def test_too_few_positives_raise(features: DataFrame, labels: DataFrame) -> None:
    with pytest.raises(InsufficientLabelsError, match=r"only 3 positive labels .*min_positives=4"):
        build_training_set(features, labels, AS_OF, ModelConfig(min_positives=4, validation_fraction=0.5))


def _many_cards(spark: SparkSession, n: int, dated: int) -> tuple[DataFrame, DataFrame]:
    """`n` SIMs with f1 = their index; the first `dated` labelled, alternately 0 and 1, a day apart."""
    feats = spark.createDataFrame([("SIM", f"m{i:05d}", "OP1", f"h{i}", 0, i) for i in range(n)], FEATURES_DDL)
    base = dt.datetime(2026, 1, 1, 12)
    labs = spark.createDataFrame(
        [("SIM", f"m{i:05d}", i % 2, base + dt.timedelta(days=i), "X") for i in range(dated)], LABELS_DDL
    )
    return feats, labs


def test_unlabelled_negatives_are_a_seeded_sample_independent_of_layout(spark: SparkSession) -> None:
    n, dated = 3000, 100
    feats, labs = _many_cards(spark, n, dated)
    cfg = ModelConfig(
        min_positives=1, negatives_per_positive=None, unlabeled_negative_rate=0.3, validation_fraction=0.2, seed=5
    )

    got = build_training_set(feats, labs, AS_OF, cfg).cache()
    again = build_training_set(feats.repartition(7), labs.repartition(3), AS_OF, cfg)
    assertDataFrameEqual(got, again)

    sampled = got.where(F.col("f1") >= dated)
    share = sampled.count() / (n - dated)
    assert 0.27 < share < 0.33
    val_share = sampled.where("is_validation").count() / sampled.count()
    assert 0.16 < val_share < 0.24
    assert sampled.where("label != 0").count() == 0

    reseeded = build_training_set(feats, labs, AS_OF, dataclasses.replace(cfg, seed=6))
    assert reseeded.select("entity_id").exceptAll(got.select("entity_id")).count() > 0

    # Time split of the labelled rows: every validation label is later than every training one.
    labelled = got.where(F.col("f1") < dated)
    last_train = labelled.where("not is_validation").agg(F.max("f1")).first()[0]
    first_val = labelled.where("is_validation").agg(F.min("f1")).first()[0]
    assert last_train < first_val
    assert 18 <= labelled.where("is_validation").count() <= 22


def test_negatives_per_positive_sets_the_sampling_rate(spark: SparkSession) -> None:
    n, dated = 3000, 100
    # 50 positives, 50 cleared: 4 negatives per positive is 200 of the 2,900 unlabelled cards.
    feats, labs = _many_cards(spark, n, dated)
    cfg = ModelConfig(min_positives=1, negatives_per_positive=4.0, validation_fraction=0.2, seed=5)
    sampled = build_training_set(feats, labs, AS_OF, cfg).where(F.col("f1") >= dated).count()
    assert 170 <= sampled <= 230
    # More than there are: every unlabelled card.
    everyone = dataclasses.replace(cfg, negatives_per_positive=1000.0)
    assert build_training_set(feats, labs, AS_OF, everyone).where(F.col("f1") >= dated).count() == n - dated


def test_negatives_can_come_from_the_oldest_snapshot_only(spark: SparkSession) -> None:
    """``point_in_time.negatives_from``: ``labels`` draws negatives where the positives were placed
    (here every label is old, so the run date's rows); ``oldest`` (the default) draws as many from
    the oldest snapshot, cards that had four weeks to be confirmed."""
    n, dated = 3000, 100
    feats, labs = _many_cards(spark, n, dated)
    old = feats.withColumn("f1", F.col("f1") + 10_000)  # the same cards four weeks back, told apart by f1
    snaps = {AS_OF - dt.timedelta(days=28): old, AS_OF: feats}
    cfg = ModelConfig(min_positives=1, negatives_per_positive=4.0, validation_fraction=0.2, seed=5)
    assert cfg.point_in_time.negatives_from == "oldest"
    cfg = dataclasses.replace(cfg, point_in_time=dataclasses.replace(cfg.point_in_time, negatives_from="labels"))

    def drawn(c: ModelConfig) -> tuple[int, int]:
        neg = build_training_set(snaps, labs, AS_OF, c).where(f"label = 0 AND f1 % 10000 >= {dated}").cache()
        return neg.where("f1 >= 10000").count(), neg.where("f1 < 10000").count()

    from_old, from_new = drawn(cfg)
    assert from_old == 0 and 170 <= from_new <= 230
    oldest = dataclasses.replace(cfg, point_in_time=dataclasses.replace(cfg.point_in_time, negatives_from="oldest"))
    from_old, from_new = drawn(oldest)
    assert from_new == 0 and 170 <= from_old <= 230


def test_cards_the_anomaly_rule_would_list_are_not_drawn_as_negatives(spark: SparkSession) -> None:
    """A cluster of unlabelled cards far out on two signals (a farm's fan-in and its outbound-only
    traffic) is no reliable negative: with `far_out` none of it is drawn, the rest is drawn as before;
    far out on one signal alone (a merchant's counterparties) is still drawn."""
    n, dated, farm = 3000, 100, range(2000, 2060)
    feats, labs = _many_cards(spark, n, dated)
    fan_in = F.when(F.col("f1").between(farm.start, farm.stop - 1), F.lit(40)).otherwise(F.lit(1))
    one_sided = F.when(F.col("f1").between(farm.start, farm.stop - 1) | (F.col("f1") >= 2950), F.lit(50.0))
    feats = feats.withColumn("fan_in", fan_in).withColumn("out_only", F.coalesce(one_sided, F.col("f1") % 7 * 1.0))
    cfg = ModelConfig(min_positives=1, negatives_per_positive=1000.0, validation_fraction=0.2, seed=5)
    anomaly = AnomalyConfig(features=("fan_in", "out_only"), extreme_tail=0.05, min_extreme_features=2)

    def drawn(far_out: FarOut | None, c: ModelConfig = cfg) -> set[int]:
        rows = build_training_set(feats, labs, AS_OF, c, far_out).where(f"label = 0 AND f1 >= {dated}")
        return {r["f1"] for r in rows.select("f1").collect()}

    everyone = set(range(dated, n))
    assert drawn(None) == everyone
    assert drawn(FarOut(anomaly)) == everyone - set(farm)  # the cards 2950+ are far out on one signal
    assert drawn(FarOut(anomaly), dataclasses.replace(cfg, skip_far_out_negatives=False)) == everyone
    assert drawn(FarOut(dataclasses.replace(anomaly, enabled=False))) == everyone

    # Negatives come from the oldest snapshot, and so do the tails they are judged by: a farm far out
    # only four weeks back is left out; far out only today, it was an ordinary card when drawn.
    plain = feats.withColumn("fan_in", F.lit(1)).withColumn("out_only", F.col("f1") % 7 * 1.0)
    old_day = AS_OF - dt.timedelta(days=28)

    def drawn_from(snaps: dict[dt.date, DataFrame]) -> set[int]:
        rows = build_training_set(snaps, labs, AS_OF, cfg, FarOut(anomaly)).where(f"label = 0 AND f1 >= {dated}")
        return {r["f1"] for r in rows.select("f1").collect()}

    assert cfg.point_in_time.negatives_from == "oldest"
    assert drawn_from({old_day: feats, AS_OF: plain}) == everyone - set(farm)
    assert drawn_from({old_day: plain, AS_OF: feats}) == everyone


def test_feature_columns_are_the_numeric_non_key_columns(features: DataFrame) -> None:
    assert feature_columns(features) == ["is_account", "f1"]


@pytest.mark.parametrize("window_days", [30, None])
def test_a_person_label_reaches_the_cards_of_the_confirmed_spree(spark: SparkSession, window_days: int | None) -> None:
    """h1 sold s1 (confirmed) and s2, opened in May; s3 is their own phone of 2021. h2 has only a
    PERSON label. Within 30 days of s1: s2 is a positive, s3 neither a positive nor a negative
    (every unlabelled card is drawn as a negative here); h2's card is a positive. None: every card."""
    feats = spark.createDataFrame(
        [
            ("SIM", "s1", "OP1", "h1", 0, 1, ts("2026-05-01 10:00:00")),
            ("SIM", "s2", "OP2", "h1", 0, 2, ts("2026-05-20 10:00:00")),
            ("SIM", "s3", "OP1", "h1", 0, 3, ts("2021-03-01 10:00:00")),
            ("ACCOUNT", "a1", "B1", "h2", 1, 4, ts("2019-01-01 10:00:00")),
            ("SIM", "s4", "OP1", "h3", 0, 5, ts("2020-01-01 10:00:00")),
        ],
        f"{FEATURES_DDL}, opened_at timestamp",
    )
    labs = spark.createDataFrame(
        [
            ("SIM", "s1", 1, ts("2026-06-01 10:00:00"), "POLICE_NOTICE"),
            ("PERSON", "h1", 1, ts("2026-06-02 10:00:00"), "POLICE_NOTICE"),
            ("PERSON", "h2", 1, ts("2026-06-20 10:00:00"), "POLICE_NOTICE"),
        ],
        LABELS_DDL,
    )
    cfg = dataclasses.replace(CFG, unlabeled_negative_rate=1.0, person_label_window_days=window_days)
    got = {(r["entity_id"], r["label"]) for r in build_training_set(feats, labs, AS_OF, cfg).collect()}
    own_phone = {("s3", 1)} if window_days is None else set()
    assert got == {("s1", 1), ("s2", 1), ("a1", 1), ("s4", 0)} | own_phone
