"""Training set: point-in-time labels joined to features, PU negatives, a time-based validation split.

Labels are cut at the end of the as-of day (session time zone), the latest label per entity wins,
person labels reach the holder's cards, and unlabelled cards enter as sampled negatives. Every
random choice is a seeded hash of the entity key, so a rerun on the same data gives the same set
whatever the partition layout.
"""

from __future__ import annotations

import datetime as dt
import logging

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from core.config import ModelConfig

log = logging.getLogger(__name__)

KEY_COLS: tuple[str, ...] = ("entity_type", "entity_id", "recipient", "id_hash")
CARD_TYPES: tuple[str, ...] = ("SIM", "ACCOUNT")
_HASH_BUCKETS = 1_000_000_007  # a prime: pmod of a 64-bit hash is close to uniform on [0, 1)


class InsufficientLabelsError(ValueError):
    """Too few positive labels (or none on one side of the split) to train a model worth using."""


def feature_columns(features: DataFrame) -> list[str]:
    """The model's inputs: every numeric column of the features frame that is not a key column."""
    numeric = ("int", "bigint", "smallint", "tinyint", "double", "float")
    return [name for name, dtype in features.dtypes if name not in KEY_COLS and dtype in numeric]


def seeded_uniform(seed: int, salt: str, *cols: str) -> Column:
    """A deterministic pseudo-uniform number in [0, 1) per row, from the given key columns and seed.

    Unlike ``rand()``, it does not depend on how the rows are partitioned.
    """
    h = F.xxhash64(F.lit(salt), F.lit(seed), *[F.col(c) for c in cols])
    return F.pmod(h, F.lit(_HASH_BUCKETS)) / F.lit(float(_HASH_BUCKETS))


def _latest_labels(labels: DataFrame, as_of: dt.date) -> DataFrame:
    """One label per (entity_type, entity_id): the latest one known by the end of `as_of`.

    Ties on label_time go to the positive label, then to the source name, so the choice is stable.
    """
    known = labels.where(
        F.col("label").isin(0, 1)
        & F.col("label_time").isNotNull()
        # to_date uses the session time zone: "end of as_of" is the end of that local day.
        & (F.to_date(F.col("label_time").cast("timestamp")) <= F.lit(as_of))
    ).select(
        "entity_type",
        "entity_id",
        F.col("label").cast("int").alias("label"),
        F.col("label_time").cast("timestamp").alias("label_time"),
        "source",
    )
    latest_first = Window.partitionBy("entity_type", "entity_id").orderBy(
        F.col("label_time").desc(), F.col("label").desc(), F.col("source").asc_nulls_last()
    )
    return (
        known.withColumn("_rn", F.row_number().over(latest_first))
        .where(F.col("_rn") == 1)
        .drop("_rn", "source")
    )


def negative_rate(joined: DataFrame, positives: int, cfg: ModelConfig) -> float:
    """The sampling rate of unlabelled cards as negatives: fixed, or about k per positive label."""
    if cfg.negatives_per_positive is None:
        return cfg.unlabeled_negative_rate
    unlabelled = joined.where(F.col("label").isNull()).count()
    rate = min(1.0, cfg.negatives_per_positive * positives / unlabelled) if unlabelled else 0.0
    log.info(
        "unlabelled negatives: %.4f of %d unlabelled cards (%.1f per positive label)",
        rate,
        unlabelled,
        cfg.negatives_per_positive,
    )
    return rate


def build_training_set(features: DataFrame, labels: DataFrame, as_of: dt.date, cfg: ModelConfig) -> DataFrame:
    """Labelled cards plus sampled unlabelled negatives, with ``label`` and ``is_validation``.

    A card's own label beats a label on its holder (PERSON, keyed by id_hash). Labelled rows whose
    label_time is in the latest ``cfg.validation_fraction`` form the validation part; sampled
    negatives are split by a seeded hash in the same proportion. Raises InsufficientLabelsError
    when there are fewer than ``cfg.min_positives`` positives or a part has none.
    """
    feature_cols = feature_columns(features)
    latest = _latest_labels(labels, as_of)

    card_labels = latest.where(F.col("entity_type").isin(*CARD_TYPES)).select(
        "entity_type",
        "entity_id",
        F.col("label").alias("_card_label"),
        F.col("label_time").alias("_card_time"),
    )
    joined = features.join(card_labels, ["entity_type", "entity_id"], "left")
    if cfg.person_labels_apply_to_cards:
        person_labels = latest.where(F.col("entity_type") == "PERSON").select(
            F.col("entity_id").alias("id_hash"),
            F.col("label").alias("_person_label"),
            F.col("label_time").alias("_person_time"),
        )
        joined = joined.join(person_labels, "id_hash", "left")
        own = F.col("_card_label").isNotNull()
        label = F.when(own, F.col("_card_label")).otherwise(F.col("_person_label"))
        label_time = F.when(own, F.col("_card_time")).otherwise(F.col("_person_time"))
    else:
        label, label_time = F.col("_card_label"), F.col("_card_time")
    joined = joined.select(
        *feature_cols, "entity_type", "entity_id", label.alias("label"), label_time.alias("_label_time")
    )

    labelled = joined.where(F.col("label").isNotNull())
    # Time split: the latest labels validate. `ts > cut` keeps ties at the cut in training, so that
    # a batch of labels sharing one timestamp is not split across the two parts.
    ts = F.unix_timestamp(F.col("_label_time"))
    quantiles = labelled.select(ts.alias("_ts")).approxQuantile("_ts", [1.0 - cfg.validation_fraction], 0.001)
    cut = quantiles[0] if quantiles else 0.0  # no labelled rows: the count below raises
    split = labelled.withColumn("is_validation", ts > F.lit(cut))
    stats = split.agg(
        F.count(F.lit(1)).alias("rows"),
        F.sum("label").alias("positives"),
        F.sum(F.when(F.col("is_validation"), F.col("label")).otherwise(0)).alias("val_positives"),
    ).first()  # small: one row of counts
    rows = int(stats["rows"] or 0) if stats else 0
    positives = int(stats["positives"] or 0) if stats else 0
    val_positives = int(stats["val_positives"] or 0) if stats else 0
    if positives < cfg.min_positives:
        raise InsufficientLabelsError(
            f"only {positives} positive labels known by {as_of.isoformat()} "
            f"(model.min_positives={cfg.min_positives}); cannot train"
        )
    if val_positives == 0 or val_positives == positives:
        raise InsufficientLabelsError(
            f"the time split at label_time quantile {1.0 - cfg.validation_fraction:.2f} leaves "
            f"{positives - val_positives} positives for training and {val_positives} for "
            "validation; both need some (are all labels on one timestamp?)"
        )
    log.info(
        "training labels as of %s: %d labelled rows, %d positives (%d train / %d validation)",
        as_of,
        rows,
        positives,
        positives - val_positives,
        val_positives,
    )

    rate = negative_rate(joined, positives, cfg)
    negatives = joined.where(
        F.col("label").isNull() & (seeded_uniform(cfg.seed, "negative", "entity_type", "entity_id") < rate)
    ).select(
        *feature_cols,
        "entity_type",
        "entity_id",
        F.lit(0).alias("label"),
        (seeded_uniform(cfg.seed, "validation", "entity_type", "entity_id") < cfg.validation_fraction).alias(
            "is_validation"
        ),
    )
    out_cols = [*feature_cols, "label", "is_validation", "entity_type", "entity_id"]
    return split.select(*out_cols).unionByName(negatives.select(*out_cols))
