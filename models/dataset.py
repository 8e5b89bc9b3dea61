"""Training set: point-in-time labels joined to features, PU negatives, a time-based validation split.

Labels are cut at the end of the as-of day (session time zone), the latest label per entity wins,
person labels reach the holder's cards, and unlabelled cards enter as sampled negatives. Every
random choice is a seeded hash of the entity key, so a rerun on the same data gives the same set
whatever the partition layout.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from functools import reduce

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from realname_guard.core.config import ModelConfig
from realname_guard.core.kinds import kind_names
from realname_guard.core.schema import feature_columns
from realname_guard.models.anomaly import FarOut

log = logging.getLogger(__name__)

_HASH_BUCKETS = 1_000_000_007  # a prime: pmod of a 64-bit hash is close to uniform on [0, 1)


class InsufficientLabelsError(ValueError):
    """Too few positive labels (or none on one side of the split) to train a model worth using."""


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


Snapshots = Mapping[dt.date, DataFrame]


def snapshot_for(
    label_day: Column, dates: Sequence[dt.date], older_labels: str, untouched: Column | None = None
) -> Column:
    """The latest snapshot date strictly before `label_day`. A label older than every snapshot:

    - ``oldest``: the oldest snapshot;
    - ``drop``: null (left out);
    - ``unaffected``: the newest snapshot when `untouched` (nothing was done to the card: open and
      neither suspended nor frozen in the extract, so the label stopped none of its use), else the
      oldest. For labels from before the usage data began this keeps the card's use in its row;
    - ``untouched``: as ``unaffected`` for every label, recent ones too (only a card something was
      done to goes back to before its label): keeps a burst just before a label in its row.
    """
    before = [F.when(F.lit(d) < label_day, F.lit(d)) for d in dates]
    latest = before[0] if len(before) == 1 else F.greatest(*before)
    if older_labels == "drop":
        return latest
    if older_labels == "untouched" and untouched is not None:  # every label, not only the old ones
        return F.coalesce(F.when(untouched, F.lit(max(dates))), latest, F.lit(min(dates)))
    if older_labels == "unaffected" and untouched is not None:
        return F.coalesce(latest, F.when(untouched, F.lit(max(dates))), F.lit(min(dates)))
    return F.coalesce(latest, F.lit(min(dates)))


def _stacked(snapshots: Snapshots, cols: list[str]) -> DataFrame:
    """Every snapshot's cards with their model inputs and the snapshot date as ``_snap``."""
    frames = []
    for day, frame in sorted(snapshots.items()):
        values = [F.col(c) if c in frame.columns else F.lit(None).cast("double").alias(c) for c in cols]
        frames.append(frame.select(*values, "entity_type", "entity_id", F.lit(day).alias("_snap")))
    return reduce(DataFrame.unionByName, frames)


def _with_person_labels(
    joined: DataFrame, latest: DataFrame, window_days: int | None
) -> tuple[DataFrame, Column, Column, Column]:
    """`joined` (a card's keys, ``_opened``, its own ``_card_label``/``_card_time``) with its holder's
    PERSON label, and the card's resolved label, label time and whether it is held out of training.

    A card's own label wins. A PERSON label 1 applies to the holder's cards opened within
    `window_days` of a card of theirs with an own label 1 (a card of unknown opening time too); the
    holder's other cards are held out (neither a positive nor a sampled negative): the label says the
    holder misused cards, not that their own phone of years before was sold. A holder with no such
    card, a PERSON label 0, or `window_days` None: every card of theirs.
    """
    person_labels = latest.where(F.col("entity_type") == "PERSON").select(
        F.col("entity_id").alias("id_hash"),
        F.col("label").alias("_person_label"),
        F.col("label_time").alias("_person_time"),
    )
    joined = joined.join(person_labels, "id_hash", "left")
    applies = F.lit(True)
    if window_days is not None:
        # One shuffle: the holder's confirmed cards' opening times over a window on the holder. A
        # card with a null id_hash has no PERSON label, so its (null-holder) spree is never read.
        holder = Window.partitionBy("id_hash")
        confirmed_opened = F.when(F.col("_card_label") == 1, F.col("_opened"))
        joined = joined.withColumn("_spree_from", F.min(confirmed_opened).over(holder)).withColumn(
            "_spree_to", F.max(confirmed_opened).over(holder))
        window = F.make_dt_interval(F.lit(window_days))
        inside = (F.col("_opened") >= F.col("_spree_from") - window) & (F.col("_opened") <= F.col("_spree_to") + window)
        applies = (F.col("_person_label") != 1) | F.coalesce(inside, F.lit(True))
    own = F.col("_card_label").isNotNull()
    person = F.col("_person_label").isNotNull() & applies
    label = F.when(own, F.col("_card_label")).when(person, F.col("_person_label"))
    label_time = F.when(own, F.col("_card_time")).when(person, F.col("_person_time"))
    held_out = ~own & F.col("_person_label").isNotNull() & ~applies
    return joined, label, label_time, held_out


def build_training_set(
    features: DataFrame | Snapshots, labels: DataFrame, as_of: dt.date, cfg: ModelConfig,
    far_out: FarOut | None = None,
) -> DataFrame:
    """Labelled cards plus sampled unlabelled negatives, with ``label`` and ``is_validation``.

    Point in time: `features` is one frame or snapshots of it at earlier as-of dates. Each labelled
    card takes its row from the latest snapshot dated before its label's day (``snapshot_for``), so
    what happened because of the label (a freeze, silence, closure) never reaches its row; a card no
    snapshot before its label holds is left out. Unlabelled negatives come from the oldest snapshot,
    among the cards still unlabelled on `as_of` (``point_in_time.negatives_from='oldest'``: they had
    the longest to be confirmed, while today's unlabelled rows hold misuse too new to be), or from
    each snapshot in proportion to the positives placed there (``'labels'``). One
    frame is one snapshot dated `as_of`: every label falls back to it (``older_labels='oldest'``).
    With `far_out` and ``cfg.skip_far_out_negatives``, a drawn card the unsupervised score puts far
    out in its snapshot (models.anomaly.FarOut) is left out: it is no reliable negative.

    A card's own label beats a label on its holder (PERSON, keyed by id_hash), which reaches every
    card of theirs or, with ``cfg.person_label_window_days``, those of the confirmed spree
    (``_with_person_labels``). Labelled rows whose
    label_time is in the latest ``cfg.validation_fraction`` form the validation part; sampled
    negatives are split by a seeded hash in the same proportion. Raises InsufficientLabelsError
    when there are fewer than ``cfg.min_positives`` positives or a part has none.
    """
    snaps: dict[dt.date, DataFrame] = {as_of: features} if isinstance(features, DataFrame) else dict(features)
    if not snaps:
        raise ValueError("no feature snapshots to train on")
    dates = sorted(snaps)
    newest = snaps[dates[-1]]  # cards only accrue over time: the newest snapshot holds every card
    feature_cols = feature_columns(newest)
    latest = _latest_labels(labels, as_of)

    card_labels = latest.where(F.col("entity_type").isin(*kind_names())).select(
        "entity_type",
        "entity_id",
        F.col("label").alias("_card_label"),
        F.col("label_time").alias("_card_time"),
    )
    # Open and neither suspended nor frozen in the extract (a column absent: nothing known of it).
    untouched = F.lit(True)
    for c in ("closed", "restricted"):
        if c in newest.columns:
            untouched = untouched & ~F.coalesce(F.col(c), F.lit(False))
    opened = F.col("opened_at") if "opened_at" in newest.columns else F.lit(None).cast("timestamp")
    keys = newest.select("entity_type", "entity_id", "id_hash", untouched.alias("_untouched"), opened.alias("_opened"))
    joined = keys.join(card_labels, ["entity_type", "entity_id"], "left")
    held_out = F.lit(False)
    if cfg.person_labels_apply_to_cards:
        joined, label, label_time, held_out = _with_person_labels(joined, latest, cfg.person_label_window_days)
    else:
        label, label_time = F.col("_card_label"), F.col("_card_time")
    resolved = joined.select(
        "entity_type",
        "entity_id",
        "_untouched",
        label.alias("label"),
        label_time.alias("_label_time"),
        held_out.alias("_held_out"),
    )
    stacked = _stacked(snaps, feature_cols)

    placed = resolved.where(F.col("label").isNotNull()).withColumn(
        "_snap",
        snapshot_for(F.to_date(F.col("_label_time")), dates, cfg.point_in_time.older_labels, F.col("_untouched")),
    )
    labelled = placed.join(stacked, ["entity_type", "entity_id", "_snap"])
    # Time split: the latest labels validate. `ts > cut` keeps ties at the cut in training, so that
    # a batch of labels sharing one timestamp is not split across the two parts.
    ts = F.unix_timestamp(F.col("_label_time"))
    quantiles = labelled.select(ts.alias("_ts")).approxQuantile("_ts", [1.0 - cfg.validation_fraction], 0.001)
    cut = quantiles[0] if quantiles else 0.0  # no labelled rows: the count below raises
    split = labelled.withColumn("is_validation", ts > F.lit(cut))
    per_snapshot = (
        split.groupBy("_snap")
        .agg(
            F.count(F.lit(1)).alias("rows"),
            F.sum("label").alias("positives"),
            F.sum(F.when(F.col("is_validation"), F.col("label")).otherwise(0)).alias("val_positives"),
        )
        .collect()  # small: one row per snapshot
    )
    rows = sum(int(r["rows"] or 0) for r in per_snapshot)
    positives = sum(int(r["positives"] or 0) for r in per_snapshot)
    val_positives = sum(int(r["val_positives"] or 0) for r in per_snapshot)
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
        "training labels as of %s: %d labelled rows, %d positives (%d train / %d validation) over %d snapshots",
        as_of,
        rows,
        positives,
        positives - val_positives,
        val_positives,
        len(per_snapshot),
    )

    out_cols = [*feature_cols, "label", "is_validation", "entity_type", "entity_id"]
    result = split.select(*out_cols)
    unlabelled = resolved.where(F.col("label").isNull() & ~F.col("_held_out")).select("entity_type", "entity_id")
    rates = negative_rates({r["_snap"]: int(r["positives"] or 0) for r in per_snapshot}, positives, unlabelled, cfg)
    if cfg.point_in_time.negatives_from == "oldest" and rates:  # as many negatives, all from the oldest
        rates = {dates[0]: min(1.0, sum(rates.values()))}
    draws = []
    for day, rate in sorted(rates.items()):
        if rate <= 0:
            continue
        drawn = (
            stacked.where(F.col("_snap") == F.lit(day))
            .join(unlabelled, ["entity_type", "entity_id"], "left_semi")
            .where(seeded_uniform(cfg.seed, f"negative:{day.isoformat()}", "entity_type", "entity_id") < rate)
        )
        if far_out is not None and cfg.skip_far_out_negatives:
            drawn = far_out.keep(day, snaps[day], drawn)
        draws.append(drawn)
    if not draws:
        return result
    negatives = reduce(DataFrame.unionByName, draws).select(
        *feature_cols,
        F.lit(0).alias("label"),
        (seeded_uniform(cfg.seed, "validation", "entity_type", "entity_id") < cfg.validation_fraction).alias(
            "is_validation"
        ),
        "entity_type",
        "entity_id",
    )
    return result.unionByName(negatives.select(*out_cols))


def negative_rates(
    positives_by_snapshot: Mapping[dt.date, int], positives: int, unlabelled: DataFrame, cfg: ModelConfig
) -> dict[dt.date, float]:
    """Per snapshot, the sampling rate of unlabelled cards as negatives.

    ``negatives_per_positive`` k: about k unlabelled cards per positive placed in that snapshot
    (0: none, labelled rows only); null: the fixed ``unlabeled_negative_rate`` spread over the
    snapshots in proportion to their positives.
    """
    if cfg.negatives_per_positive == 0 or not positives:
        return {}
    if cfg.negatives_per_positive is None:
        return {d: cfg.unlabeled_negative_rate * p / positives for d, p in positives_by_snapshot.items()}
    count = unlabelled.count()
    if not count:
        return {}
    rates = {d: min(1.0, cfg.negatives_per_positive * p / count) for d, p in positives_by_snapshot.items()}
    log.info(
        "unlabelled negatives: %.1f per positive label from %d unlabelled cards (rates %s)",
        cfg.negatives_per_positive,
        count,
        {d.isoformat(): round(r, 5) for d, r in sorted(rates.items())},
    )
    return rates
