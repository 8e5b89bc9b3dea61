"""From scores to listings: tiers, measures, episodes and expiry (反电信网络诈骗法 Art. 11, 18).

- A newly listed card gets ``REVERIFY`` (二次实人认证).
- ``RESTRICT`` (medium) or ``SUSPEND`` (high) only when the card stayed listed past its
  re-verification deadline without being cleared.
- ``REVOKE`` only for confirmed misuse: a label 1 from a police notice or a failed re-verification.
- A clearing label (0) after the card was last listed keeps it off the lists until new evidence
  arrives after that time (a later confirmed label or complaint, or a card the holder opened later).
- Every listing expires ``list_ttl_days`` after the run that last renewed it.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from core.config import PolicyConfig
from policy.rules import rule_hits

CONFIRMING_SOURCES = ("POLICE_NOTICE", "REVERIFY_FAILED")


def tier(score: Column, high: float, medium: float) -> Column:
    return F.when(score >= high, "HIGH").when(score >= medium, "MEDIUM").otherwise("NONE")


def label_state(labels: DataFrame | None, entities: DataFrame) -> DataFrame:
    """Per card: when misuse was confirmed, complained of, or cleared, as of the labels given.

    Card labels apply to their card; PERSON labels (entity_id = id_hash) to every card of the
    holder. Returns entity_type, entity_id, confirmed_at, complaint_at, cleared_at.
    """
    keys = entities.select("entity_type", "entity_id", "id_hash")
    empty = keys.select(
        "entity_type",
        "entity_id",
        *[F.lit(None).cast("timestamp").alias(c) for c in ("confirmed_at", "complaint_at", "cleared_at")],
    )
    if labels is None:
        return empty
    card = labels.where(F.col("entity_type").isin("SIM", "ACCOUNT")).select(
        F.when(F.col("entity_type") == "SIM", "SIM").otherwise("ACCOUNT").alias("entity_type"),
        "entity_id",
        "label",
        "label_time",
        "source",
    )
    person = (
        labels.where(F.col("entity_type") == "PERSON")
        .select(F.col("entity_id").alias("id_hash"), "label", "label_time", "source")
        .join(keys, "id_hash")
        .select("entity_type", "entity_id", "label", "label_time", "source")
    )
    both = card.unionByName(person)
    confirming = (F.col("label") == 1) & F.col("source").isin(*CONFIRMING_SOURCES)
    return both.groupBy("entity_type", "entity_id").agg(
        F.max(F.when(confirming, F.col("label_time"))).alias("confirmed_at"),
        F.max(F.when((F.col("label") == 1) & ~confirming, F.col("label_time"))).alias("complaint_at"),
        F.max(F.when(F.col("label") == 0, F.col("label_time"))).alias("cleared_at"),
    )


def decide(
    scored: DataFrame,
    labels: DataFrame | None,
    history: DataFrame | None,
    thresholds: tuple[float, float],
    cfg: PolicyConfig,
    run_date: dt.date,
) -> DataFrame:
    """One row per scored card with its tier, rule hits, action and whether it is listed.

    `scored` holds the feature table plus ``score``; `history` holds earlier listings
    (entity_type, entity_id, first_flagged_date, last_flagged_date, expires_on) or is None.
    """
    high, medium = thresholds
    today = F.lit(run_date)
    state = label_state(labels, scored)
    df = scored.join(state, ["entity_type", "entity_id"], "left")
    if history is None:
        df = df.select(
            "*",
            *[F.lit(None).cast("date").alias(c) for c in ("first_flagged_date_prev", "last_flagged_date", "expires_prev")],
        )
    else:
        hist = history.select(
            "entity_type",
            "entity_id",
            F.col("first_flagged_date").alias("first_flagged_date_prev"),
            "last_flagged_date",
            F.col("expires_on").alias("expires_prev"),
        )
        df = df.join(hist, ["entity_type", "entity_id"], "left")
    cleared = F.col("cleared_at")
    df = df.withColumn(
        "confirmed_misuse", F.coalesce((F.col("confirmed_at") > F.coalesce(cleared, F.lit(dt.datetime(1900, 1, 1)))), F.lit(False))
    ).withColumn(
        "complaint", F.coalesce((F.col("complaint_at") > F.coalesce(cleared, F.lit(dt.datetime(1900, 1, 1)))), F.lit(False))
    )
    df = df.withColumn("rule_hits", rule_hits(cfg, set(scored.columns)))
    listing_rule = F.exists("rule_hits", lambda r: r.isin(*cfg.list_on_rules)) if cfg.list_on_rules else F.lit(False)
    holder_last_opened = F.max("opened_at").over(Window.partitionBy("id_hash"))
    new_evidence = (
        F.col("confirmed_misuse") | F.col("complaint") | F.coalesce(holder_last_opened > cleared, F.lit(False))
    )
    cleared_since_listing = cleared.isNotNull() & (
        F.col("last_flagged_date").isNull() | (F.to_date(cleared) >= F.col("last_flagged_date"))
    )
    model_tier = tier(F.col("score"), high, medium)
    df = (
        df.withColumn("model_tier", model_tier)
        .withColumn("suppressed", cleared_since_listing & ~new_evidence)
        .withColumn(
            "listed",
            ~F.col("closed") & ((F.col("model_tier") != "NONE") | listing_rule) & ~F.col("suppressed"),
        )
    )
    episode_on = (
        F.col("expires_prev").isNotNull()
        & (F.col("expires_prev") >= today)
        & ~F.coalesce(F.to_date(cleared) >= F.col("last_flagged_date"), F.lit(False))
    )
    first = F.when(episode_on, F.col("first_flagged_date_prev")).otherwise(today)
    risk = F.when(F.col("confirmed_misuse") | (F.col("model_tier") == "HIGH"), "HIGH").otherwise("MEDIUM")
    overdue = episode_on & (F.datediff(today, F.col("first_flagged_date_prev")) > cfg.reverify_deadline_days)
    action = (
        F.when(F.col("confirmed_misuse"), "REVOKE")
        .when(overdue & (risk == "HIGH"), "SUSPEND")
        .when(overdue, "RESTRICT")
        .otherwise("REVERIFY")
    )
    return df.select(
        *scored.columns,
        "model_tier",
        F.when(F.col("listed"), risk).otherwise("NONE").alias("risk_tier"),
        F.when(F.col("listed"), action).alias("action"),
        "rule_hits",
        (F.size("rule_hits") == 0).alias("needs_human_review"),
        F.when(F.col("listed"), first).alias("first_flagged_date"),
        F.when(F.col("listed"), F.date_add(today, cfg.list_ttl_days)).alias("expires_on"),
        "listed",
        "suppressed",
    )
