"""Proposals for the 失信惩戒 list, from confirmed outcomes only (反电信网络诈骗法 Art. 31).

The authorities list persons found to have sold, rented or lent cards; the job only proposes. A
holder is proposed when their **confirmed** outcomes (label 1 from a police notice or a failed
re-verification, on their cards or on them as a PERSON) meet the configured criteria: at least
``min_cards`` cards confirmed, or confirmations on at least ``min_occasions`` days. Scores never
count: a model alone puts nobody here. Each row names the criteria met and the confirmations
behind them, proposes a period from the run date, and shows the holder's current listing period
if the authorities already listed them (the job never starts, extends or ends one).
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from realname_guard.core.config import DisciplinaryConfig
from realname_guard.core.kinds import kind_names
from realname_guard.policy.lists import CONFIRMING_SOURCES

CRITERIA = {
    "CONFIRMED_CARDS": "at least {min_cards} cards confirmed sold, rented or lent",
    "CONFIRMED_OCCASIONS": "confirmations on at least {min_occasions} days",
}


def disciplinary_candidates(
    labels: DataFrame | None,
    cards: DataFrame,
    listed: DataFrame | None,
    cfg: DisciplinaryConfig,
    run_date: dt.date,
) -> DataFrame | None:
    """One row per holder whose confirmed outcomes meet a criterion, or None without labels.

    `cards` carries ``entity_type, entity_id, id_hash, id_masked`` of every card known today;
    `listed` is the de-identified ``disciplinary_list`` (``id_hash, listed_from, listed_until``)
    or None. Labels after the run date are not read.
    """
    if labels is None:
        return None
    day = F.to_date(F.col("label_time").cast("timestamp"))
    confirmed = labels.where(
        (F.col("label") == 1) & F.col("source").isin(*CONFIRMING_SOURCES) & (day <= F.lit(run_date))
    ).select("entity_type", "entity_id", day.alias("confirmed_on"), "source")
    on_cards = confirmed.where(F.col("entity_type").isin(*kind_names())).join(
        cards.select("entity_type", "entity_id", "id_hash"), ["entity_type", "entity_id"]
    )
    on_holders = confirmed.where(F.col("entity_type") == "PERSON").select(
        "entity_type", F.lit(None).cast("string").alias("entity_id"), "confirmed_on", "source",
        F.col("entity_id").alias("id_hash"),
    )
    evidence = on_cards.unionByName(on_holders)
    card_key = F.when(F.col("entity_id").isNotNull(), F.concat_ws("|", "entity_type", "entity_id"))
    per_holder = evidence.groupBy("id_hash").agg(
        F.count_distinct(card_key).alias("confirmed_cards"),
        F.count_distinct("confirmed_on").alias("confirmation_days"),
        F.min("confirmed_on").alias("first_confirmed_on"),
        F.max("confirmed_on").alias("last_confirmed_on"),
        F.array_sort(F.collect_set(F.struct("confirmed_on", "entity_type", "entity_id", "source"))).alias("evidence"),
    )
    met = [
        F.when(F.col("confirmed_cards") >= cfg.min_cards, F.lit("CONFIRMED_CARDS")),
        F.when(F.col("confirmation_days") >= cfg.min_occasions, F.lit("CONFIRMED_OCCASIONS")),
    ]
    out = per_holder.withColumn("criteria_met", F.filter(F.array(*met), lambda x: x.isNotNull())).where(
        F.size("criteria_met") > 0
    )
    masks = cards.groupBy("id_hash").agg(F.max("id_masked").alias("id_masked"))
    out = out.join(masks, "id_hash", "left")
    if listed is not None:
        today = F.lit(run_date)
        current = (
            listed.where((F.col("listed_from") <= today) & (F.col("listed_until") >= today))
            .groupBy("id_hash")
            .agg(F.max("listed_until").alias("listed_until_now"))
        )
        out = out.join(current, "id_hash", "left")
    else:
        out = out.withColumn("listed_until_now", F.lit(None).cast("date"))
    start = F.lit(run_date)
    return out.select(
        "id_hash",
        "id_masked",
        "criteria_met",
        "confirmed_cards",
        "confirmation_days",
        "first_confirmed_on",
        "last_confirmed_on",
        "evidence",
        start.alias("proposed_from"),
        F.date_sub(F.add_months(start, 12 * cfg.proposed_years), 1).alias("proposed_until"),
        "listed_until_now",
    )
