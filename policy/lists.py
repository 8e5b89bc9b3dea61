"""From scores to listings: tiers, measures, episodes and expiry (反电信网络诈骗法 Art. 11, 18, 32;
PIPL Art. 24).

- A newly listed card gets ``REVERIFY`` (二次实人认证), due ``reverify_deadline_days`` later.
- ``RESTRICT`` (medium) or ``SUSPEND`` (high) only when the card stayed listed past its
  re-verification deadline without being cleared, and, for a listing that rests on the model
  alone (no rule fired), only once a person reviewed it: a ``HUMAN_REVIEW`` label 1 during the
  episode. Until then it stays at ``REVERIFY`` with ``needs_human_review`` (PIPL Art. 24).
- ``REVOKE`` only for confirmed misuse: a label 1 from a police notice or a failed
  re-verification on the card itself, or on its holder (a PERSON label) when the card has
  evidence of its own (a tier from the model or another rule). The holder's other cards are
  listed for ``REVERIFY`` (rule ``HOLDER_CONFIRMED``).
- A clearing label (0, a reviewer's included) after the card was last listed keeps it off the
  lists until new evidence arrives after that time (a later confirmed label or complaint, or a
  card the holder opened later).
- Every listing expires ``list_ttl_days`` after the run that last renewed it.
- Each listing says what put it there (``listing_source``), since when its measure stands
  (``measure_since``), the provisions it rests on (``legal_basis``, per action) and how to appeal
  (``appeal_channel``, per recipient): what a notice to the holder needs (Art. 32).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from realname_guard.core.config import AnomalyConfig, PolicyConfig
from realname_guard.core.kinds import kind_names
from realname_guard.policy.rules import rule_hits

log = logging.getLogger(__name__)

CONFIRMING_SOURCES = ("POLICE_NOTICE", "REVERIFY_FAILED")
# A reviewer's decision on a listing (PIPL Art. 24): label 1 upholds it, so a model-only listing
# may escalate past its deadline; label 0 clears it like any other clearing.
REVIEW_SOURCE = "HUMAN_REVIEW"
LISTING_SOURCES = ("RULE", "MODEL", "ANOMALY", "DISCIPLINARY")
DISCIPLINARY_RULE = "DISCIPLINARY_LISTED"  # its listings have listing_source DISCIPLINARY
_PRIVATE = "_ev_"  # evidence columns that apply_tiers consumes
_QUANTILE_ERROR = 1e-4  # relative rank error of the capped thresholds


def tier(score: Column, high: float, medium: float) -> Column:
    return F.when(score >= high, "HIGH").when(score >= medium, "MEDIUM").otherwise("NONE")


def label_state(labels: DataFrame | None, entities: DataFrame, run_date: dt.date | None = None) -> DataFrame:
    """Per card: when misuse was confirmed (on the card, or on its holder), complained of, upheld
    by a reviewer, or cleared, as of the labels given; with `run_date`, only labels whose local day
    is on or before it (an outcome that arrived later cannot inform that day's measure, whatever
    ``run.future_rows`` kept).

    Card labels apply to their card; PERSON labels (entity_id = id_hash) to every card of the
    holder. Returns entity_type, entity_id, confirmed_at, holder_confirmed_at, complaint_at,
    reviewed_at, cleared_at.
    """
    keys = entities.select("entity_type", "entity_id", "id_hash")
    times = ("confirmed_at", "holder_confirmed_at", "complaint_at", "reviewed_at", "cleared_at")
    empty = keys.select("entity_type", "entity_id", *[F.lit(None).cast("timestamp").alias(c) for c in times])
    if labels is None:
        return empty
    if run_date is not None:
        labels = labels.where(F.to_date(F.col("label_time").cast("timestamp")) <= F.lit(run_date))
    card = labels.where(F.col("entity_type").isin(*kind_names())).select(
        "entity_type", "entity_id", "label", "label_time", "source", F.lit(False).alias("of_holder")
    )
    person = (
        labels.where(F.col("entity_type") == "PERSON")
        .select(F.col("entity_id").alias("id_hash"), "label", "label_time", "source")
        .join(keys, "id_hash")
        .select("entity_type", "entity_id", "label", "label_time", "source", F.lit(True).alias("of_holder"))
    )
    both = card.unionByName(person)
    positive = F.col("label") == 1
    confirming = positive & F.col("source").isin(*CONFIRMING_SOURCES)
    reviewed = positive & (F.col("source") == REVIEW_SOURCE)
    return both.groupBy("entity_type", "entity_id").agg(
        F.max(F.when(confirming & ~F.col("of_holder"), F.col("label_time"))).alias("confirmed_at"),
        F.max(F.when(confirming & F.col("of_holder"), F.col("label_time"))).alias("holder_confirmed_at"),
        F.max(F.when(positive & ~confirming & ~reviewed, F.col("label_time"))).alias("complaint_at"),
        F.max(F.when(reviewed, F.col("label_time"))).alias("reviewed_at"),
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
    (entity_type, entity_id, first_flagged_date, last_flagged_date, expires_on, and, from lists
    that carry them, action and measure_since) or is None.
    Cache the result: :func:`capped_thresholds` and :func:`apply_tiers` both read it.
    """
    today = F.lit(run_date)
    state = label_state(labels, scored, run_date)
    df = scored.join(state, ["entity_type", "entity_id"], "left")
    prev = {
        "first_flagged_date_prev": "date",
        "last_flagged_date": "date",
        "expires_prev": "date",
        "action_prev": "string",
        "measure_since_prev": "date",
    }
    if history is None:
        df = df.select("*", *[F.lit(None).cast(t).alias(c) for c, t in prev.items()])
    else:
        have = set(history.columns)
        hist = history.select(
            "entity_type",
            "entity_id",
            F.col("first_flagged_date").alias("first_flagged_date_prev"),
            "last_flagged_date",
            F.col("expires_on").alias("expires_prev"),
            (F.col("action") if "action" in have else F.lit(None).cast("string")).alias("action_prev"),
            # Lists from before measure_since: the measure stood since the episode began.
            (F.col("measure_since") if "measure_since" in have else F.col("first_flagged_date")).alias(
                "measure_since_prev"
            ),
        )
        df = df.join(hist, ["entity_type", "entity_id"], "left")
    cleared = F.col("cleared_at")
    long_ago = F.lit(dt.datetime(1900, 1, 1))

    def since_clearing(at: str) -> Column:
        return F.coalesce(F.col(at) > F.coalesce(cleared, long_ago), F.lit(False))

    df = (
        df.withColumn("confirmed_misuse", since_clearing("confirmed_at"))
        .withColumn("holder_confirmed", since_clearing("holder_confirmed_at"))
        .withColumn("complaint", since_clearing("complaint_at"))
    )
    df = df.withColumn("rule_hits", rule_hits(cfg, set(df.columns)))
    listing_rule = F.exists("rule_hits", lambda r: r.isin(*cfg.list_on_rules)) if cfg.list_on_rules else F.lit(False)
    # Listed by a rule other than the 失信惩戒 list (its listings say DISCIPLINARY).
    others = [r for r in cfg.list_on_rules if r != DISCIPLINARY_RULE]
    other_listing_rule = F.exists("rule_hits", lambda r: r.isin(*others)) if others else F.lit(False)
    holder_last_opened = F.max("opened_at").over(Window.partitionBy("id_hash"))
    new_evidence = (
        F.col("confirmed_misuse")
        | F.col("holder_confirmed")
        | F.col("complaint")
        | F.coalesce(holder_last_opened > cleared, F.lit(False))
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
    # A reviewer upheld this episode's listing (a HUMAN_REVIEW label 1 on or after its first day).
    reviewed = episode_on & F.coalesce(
        (F.to_date("reviewed_at") >= F.col("first_flagged_date_prev")) & since_clearing("reviewed_at"), F.lit(False)
    )
    return df.select(
        *scored.columns,
        "confirmed_misuse",
        "holder_confirmed",
        "rule_hits",
        (cleared_since_listing & ~new_evidence).alias("suppressed"),
        listing_rule.alias(f"{_PRIVATE}rule_listed"),
        other_listing_rule.alias(f"{_PRIVATE}other_rule_listed"),
        episode_on.alias(f"{_PRIVATE}episode_on"),
        overdue.alias(f"{_PRIVATE}overdue"),
        reviewed.alias(f"{_PRIVATE}reviewed"),
        F.col("first_flagged_date_prev").alias(f"{_PRIVATE}first_prev"),
        F.col("action_prev").alias(f"{_PRIVATE}action_prev"),
        F.col("measure_since_prev").alias(f"{_PRIVATE}measure_since_prev"),
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


def anomaly_cuts(
    ev: DataFrame, thresholds: tuple[float, float], cfg: AnomalyConfig
) -> tuple[dict[str, float], dict[str, Any]]:
    """Per kind, the ECOD score (``anomaly_score``) from which a card the model and the rules leave
    unlisted is listed on the anomaly score alone, so that at most ``cfg.max_listed_share`` of the
    kind's open cards are; only cards beyond ``cfg.extreme_tail`` on ``cfg.min_extreme_features``
    features qualify. An empty dict when the scores are absent or the listing is off."""
    if not cfg.enabled or "anomaly_score" not in ev.columns:
        return {}, {"enabled": False}
    high, medium = thresholds
    eligible = _anomaly_eligible(medium, cfg)
    rows = ev.groupBy("entity_type").agg(
        F.count(F.when(~F.col("closed"), 1)).alias("open"), F.count(F.when(eligible, 1)).alias("eligible")
    ).collect()  # one row per kind
    cuts: dict[str, float] = {}
    info: dict[str, Any] = {"enabled": True, "max_listed_share": cfg.max_listed_share, "kinds": {}}
    for row in sorted(rows, key=lambda r: r["entity_type"]):
        kind, n_open, n_elig = row["entity_type"], row["open"], row["eligible"]
        allowed = int(cfg.max_listed_share * n_open)
        if not n_elig or not allowed:
            info["kinds"][kind] = {"open": n_open, "eligible": n_elig, "cut": None}
            continue
        if n_elig <= allowed:
            cut = -1.0  # every qualifying card (scores are >= 0)
        else:  # the allowed number lie above the quantile that many below the top
            part = ev.where(eligible & (F.col("entity_type") == kind))
            cut = float(part.approxQuantile("anomaly_score", [1.0 - allowed / n_elig], _QUANTILE_ERROR)[0])
        cuts[kind] = cut
        info["kinds"][kind] = {"open": n_open, "eligible": n_elig, "cut": round(cut, 4)}
    return cuts, info


def _anomaly_eligible(medium: float, cfg: AnomalyConfig) -> Column:
    """Open, not kept off by a clearing, left unlisted by the model and the rules, and extreme on
    enough features."""
    return (
        ~F.col("closed")
        & ~F.col("suppressed")
        & (F.col("score") < medium)
        & ~F.col(f"{_PRIVATE}rule_listed")
        & (F.coalesce(F.col("anomaly_extremes"), F.lit(0)) >= cfg.min_extreme_features)
    )


def _anomaly_listed(cuts: dict[str, float], medium: float, cfg: AnomalyConfig) -> Column:
    if not cuts:
        return F.lit(False)
    cut = F.create_map(*[F.lit(x) for kv in sorted(cuts.items()) for x in kv])[F.col("entity_type")]
    return _anomaly_eligible(medium, cfg) & F.coalesce(F.col("anomaly_score") > cut, F.lit(False))


def _lookup(mapping: dict[str, str], key: Column, default: str | None = None) -> Column:
    """``mapping[key]`` as a column (``default`` for keys not in it; null when neither)."""
    fallback = F.lit(default).cast("string")
    if not mapping:
        return fallback
    pairs = [F.lit(x) for kv in sorted(mapping.items()) for x in kv]
    return F.coalesce(F.create_map(*pairs)[key], fallback)


def apply_tiers(
    ev: DataFrame,
    thresholds: tuple[float, float],
    cfg: PolicyConfig,
    run_date: dt.date,
    anomaly: dict[str, float] | None = None,
) -> DataFrame:
    """One row per scored card with its tier, measure and whether it is listed, from :func:`evidence`.

    Also ``review_overdue``: a model-only listing past its re-verification deadline that waits
    for a reviewer (it stays at ``REVERIFY`` until one decides), for the report.

    `anomaly`: the per-kind cuts of :func:`anomaly_cuts`. A card listed on the anomaly score alone
    is MEDIUM, ``REVERIFY`` whatever its history, for a person to review, ``listing_source``
    ``ANOMALY``; its ``score`` (the listing score) is raised to the MEDIUM threshold, so that a
    cut-off on ``scores`` at MEDIUM gives the lists, and ``model_score`` keeps the model's.
    """
    high, medium = thresholds
    today = F.lit(run_date)
    p = _PRIVATE
    model_tier = tier(F.col("score"), high, medium)
    anomaly_only = _anomaly_listed(anomaly or {}, medium, cfg.anomaly)
    listed = ~F.col("closed") & ((model_tier != "NONE") | F.col(f"{p}rule_listed") | anomaly_only) & ~F.col(
        "suppressed")
    first = F.when(F.col(f"{p}episode_on"), F.col(f"{p}first_prev")).otherwise(today)
    # Evidence of the card's own: a tier from the model or a rule other than the holder's confirmation.
    own_evidence = (model_tier != "NONE") | F.exists("rule_hits", lambda r: r != "HOLDER_CONFIRMED")
    confirmed = F.col("confirmed_misuse") | (F.col("holder_confirmed") & own_evidence)
    risk = F.when(confirmed | (model_tier == "HIGH"), "HIGH").otherwise("MEDIUM")
    model_only = F.size("rule_hits") == 0
    needs_review = (model_only & ~F.col(f"{p}reviewed")) | anomaly_only
    may_escalate = F.col(f"{p}overdue") & ~needs_review
    action = (
        F.when(confirmed, "REVOKE")
        .when(may_escalate & (risk == "HIGH"), "SUSPEND")
        .when(may_escalate, "RESTRICT")
        .otherwise("REVERIFY")
    )
    source = (
        F.when(F.col(f"{p}other_rule_listed"), "RULE")
        .when(F.col(f"{p}rule_listed"), "DISCIPLINARY")
        .when(anomaly_only, "ANOMALY")
        .otherwise("MODEL")
    )
    # The measure stands since the run it took effect: carried while the episode keeps it.
    same_measure = F.col(f"{p}episode_on") & (F.col(f"{p}action_prev") == action)
    since = F.when(same_measure, F.coalesce(F.col(f"{p}measure_since_prev"), F.col(f"{p}first_prev"))).otherwise(
        today
    )
    due = F.when(action == "REVERIFY", F.date_add(first, cfg.reverify_deadline_days))
    appeal = _lookup({k: v for k, v in cfg.appeal_channels.items() if k != "default"}, F.col("recipient"),
                     cfg.appeal_channels.get("default"))
    hidden = ("confirmed_misuse", "holder_confirmed", "rule_hits", "suppressed", "score")
    keep = [c for c in ev.columns if not c.startswith(p) and c not in hidden]
    absent = [] if "anomaly_score" in ev.columns else [F.lit(None).cast("double").alias("anomaly_score")]
    return ev.select(
        *keep,
        *absent,
        F.when(anomaly_only & listed, F.greatest(F.col("score"), F.lit(medium))).otherwise(F.col("score")).alias(
            "score"),
        F.col("score").alias("model_score"),
        model_tier.alias("model_tier"),
        F.when(listed, risk).otherwise("NONE").alias("risk_tier"),
        F.when(listed, action).alias("action"),
        "rule_hits",
        needs_review.alias("needs_human_review"),
        F.when(listed, first).alias("first_flagged_date"),
        F.when(listed, F.date_add(today, cfg.list_ttl_days)).alias("expires_on"),
        F.when(listed, source).alias("listing_source"),
        F.when(listed, since).alias("measure_since"),
        F.when(listed, due).alias("reverify_due"),
        F.when(listed, _lookup(cfg.legal_basis, action)).alias("legal_basis"),
        F.when(listed, appeal).alias("appeal_channel"),
        (listed & model_only & F.col(f"{p}overdue") & needs_review).alias("review_overdue"),
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
    """:func:`evidence` then :func:`apply_tiers` at fixed thresholds (no cap), with the anomaly
    listing when `scored` carries the anomaly score."""
    ev = evidence(scored, labels, history, cfg, run_date)
    cuts, _ = anomaly_cuts(ev, thresholds, cfg.anomaly)
    return apply_tiers(ev, thresholds, cfg, run_date, cuts)
