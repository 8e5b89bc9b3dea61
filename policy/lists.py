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
import logging
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from realname_guard.core.config import PolicyConfig
from realname_guard.core.kinds import kind_names
from realname_guard.policy.rules import rule_hits

log = logging.getLogger(__name__)

CONFIRMING_SOURCES = ("POLICE_NOTICE", "REVERIFY_FAILED")
_PRIVATE = "_ev_"  # evidence columns that apply_tiers consumes
_QUANTILE_ERROR = 1e-4  # relative rank error of the capped thresholds


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
    card = labels.where(F.col("entity_type").isin(*kind_names())).select(
        "entity_type",
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


def evidence(
    scored: DataFrame,
    labels: DataFrame | None,
    history: DataFrame | None,
    cfg: PolicyConfig,
    run_date: dt.date,
) -> DataFrame:
    """Per scored card, everything its listing depends on except the tier thresholds.

    `scored` holds the feature table plus ``score``; `history` holds earlier listings
    (entity_type, entity_id, first_flagged_date, last_flagged_date, expires_on) or is None.
    Cache the result: :func:`capped_thresholds` and :func:`apply_tiers` both read it.
    """
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
    long_ago = F.lit(dt.datetime(1900, 1, 1))
    df = df.withColumn(
        "confirmed_misuse", F.coalesce(F.col("confirmed_at") > F.coalesce(cleared, long_ago), F.lit(False))
    ).withColumn("complaint", F.coalesce(F.col("complaint_at") > F.coalesce(cleared, long_ago), F.lit(False)))
    df = df.withColumn("rule_hits", rule_hits(cfg, set(scored.columns)))
    listing_rule = F.exists("rule_hits", lambda r: r.isin(*cfg.list_on_rules)) if cfg.list_on_rules else F.lit(False)
    holder_last_opened = F.max("opened_at").over(Window.partitionBy("id_hash"))
    new_evidence = (
        F.col("confirmed_misuse") | F.col("complaint") | F.coalesce(holder_last_opened > cleared, F.lit(False))
    )
    cleared_since_listing = cleared.isNotNull() & (
        F.col("last_flagged_date").isNull() | (F.to_date(cleared) >= F.col("last_flagged_date"))
    )
    episode_on = (
        F.col("expires_prev").isNotNull()
        & (F.col("expires_prev") >= today)
        & ~F.coalesce(F.to_date(cleared) >= F.col("last_flagged_date"), F.lit(False))
    )
    overdue = episode_on & (F.datediff(today, F.col("first_flagged_date_prev")) > cfg.reverify_deadline_days)
    return df.select(
        *scored.columns,
        "confirmed_misuse",
        "rule_hits",
        (cleared_since_listing & ~new_evidence).alias("suppressed"),
        listing_rule.alias(f"{_PRIVATE}rule_listed"),
        episode_on.alias(f"{_PRIVATE}episode_on"),
        overdue.alias(f"{_PRIVATE}overdue"),
        F.col("first_flagged_date_prev").alias(f"{_PRIVATE}first_prev"),
    )


def capped_thresholds(
    ev: DataFrame, thresholds: tuple[float, float], max_listed_share: float | None
) -> tuple[tuple[float, float], dict[str, Any]]:
    """The thresholds for this run, raised when more than `max_listed_share` of open cards reach MEDIUM.

    The cap is a capacity guard: a model scoring a whole population high (a new world, drifted
    inputs, too few negatives in training) would otherwise list more cards than re-verification can
    handle. Raised thresholds list about `max_listed_share` of the open cards (ties at the new
    threshold can add a few), the same part of them HIGH as before; cards listed by rule whatever
    their score are not capped. Returns the thresholds and what was found, for the run report.
    """
    high, medium = thresholds
    eligible = ~F.col("closed") & ~F.col("suppressed")
    row = ev.agg(
        F.count(F.when(~F.col("closed"), 1)).alias("open"),
        F.count(F.when(eligible, 1)).alias("eligible"),
        F.count(F.when(eligible & (F.col("score") >= medium), 1)).alias("medium"),
        F.count(F.when(eligible & (F.col("score") >= high), 1)).alias("high"),
    ).first()
    assert row is not None
    n_open, n_elig, n_medium, n_high = row["open"], row["eligible"], row["medium"], row["high"]
    info: dict[str, Any] = {
        "max_listed_share": max_listed_share,
        "open_cards": n_open,
        "share_at_medium": round(n_medium / n_open, 6) if n_open else 0.0,
        "configured": {"high": high, "medium": medium},
        "capped": False,
    }
    if max_listed_share is None or not n_open or n_medium <= max_listed_share * n_open:
        return thresholds, info
    allowed = max_listed_share * n_open
    probs = [1.0 - allowed / n_elig, 1.0 - allowed * (n_high / n_medium) / n_elig]
    q_medium, q_high = ev.where(eligible).approxQuantile("score", probs, _QUANTILE_ERROR)
    new_medium = max(medium, q_medium)
    new_high = max(high, q_high, new_medium)
    log.warning(
        "%.2f%% of open cards score at or above MEDIUM %.3f, above the cap of %.2f%% (policy.tiers."
        "max_listed_share): this run lists from MEDIUM %.4f, HIGH %.4f",
        100 * n_medium / n_open, medium, 100 * max_listed_share, new_medium, new_high,
    )
    info["capped"] = True
    return (new_high, new_medium), info


def apply_tiers(ev: DataFrame, thresholds: tuple[float, float], cfg: PolicyConfig, run_date: dt.date) -> DataFrame:
    """One row per scored card with its tier, action and whether it is listed, from :func:`evidence`."""
    high, medium = thresholds
    today = F.lit(run_date)
    p = _PRIVATE
    model_tier = tier(F.col("score"), high, medium)
    listed = ~F.col("closed") & ((model_tier != "NONE") | F.col(f"{p}rule_listed")) & ~F.col("suppressed")
    first = F.when(F.col(f"{p}episode_on"), F.col(f"{p}first_prev")).otherwise(today)
    risk = F.when(F.col("confirmed_misuse") | (model_tier == "HIGH"), "HIGH").otherwise("MEDIUM")
    action = (
        F.when(F.col("confirmed_misuse"), "REVOKE")
        .when(F.col(f"{p}overdue") & (risk == "HIGH"), "SUSPEND")
        .when(F.col(f"{p}overdue"), "RESTRICT")
        .otherwise("REVERIFY")
    )
    keep = [c for c in ev.columns if not c.startswith(p) and c not in ("confirmed_misuse", "rule_hits", "suppressed")]
    return ev.select(
        *keep,
        model_tier.alias("model_tier"),
        F.when(listed, risk).otherwise("NONE").alias("risk_tier"),
        F.when(listed, action).alias("action"),
        "rule_hits",
        (F.size("rule_hits") == 0).alias("needs_human_review"),
        F.when(listed, first).alias("first_flagged_date"),
        F.when(listed, F.date_add(today, cfg.list_ttl_days)).alias("expires_on"),
        listed.alias("listed"),
        "suppressed",
    )


def decide(
    scored: DataFrame,
    labels: DataFrame | None,
    history: DataFrame | None,
    thresholds: tuple[float, float],
    cfg: PolicyConfig,
    run_date: dt.date,
) -> DataFrame:
    """:func:`evidence` then :func:`apply_tiers` at fixed thresholds (no cap)."""
    return apply_tiers(evidence(scored, labels, history, cfg, run_date), thresholds, cfg, run_date)
