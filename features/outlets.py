"""Registration behaviour beyond counts: the 一证五户 limits, bursts, channel shares, outlets that
register cards for many IDs at once, outlets with confirmed misuse, and cards opened far from
where the holder's other SIMs live."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from core.tables import Tables
from features.common import cards, holders
from features.identity import age_on, province
from features.known_labels import confirmed_misuse
from features.registry import FeatureContext, Output, feature

_DAY = 86400


@feature(
    "registration_limits",
    level="card",
    needs=("sims", "accounts"),
    outputs={
        "sims_over_operator_limit": Output(
            "SIMs this ID holds at the card's operator beyond the per-operator limit (一证五户)", zh="超一证五户"
        ),
        "sims_over_total_limit": Output("SIMs this ID holds across operators beyond the total limit", zh="一证多号"),
        "cards_opened_within_1d": Output("Other cards of this ID opened within a day of this one", zh="集中开卡"),
        "cards_opened_within_30d": Output("Other cards of this ID opened within 30 days of this one"),
    },
)
def registration_limits(
    t: Tables,
    ctx: FeatureContext,
    per_operator_limit: int | None = None,
    operator_limits: dict[str, int] | None = None,
    total_limit: int = 10,
) -> DataFrame:
    """Excess over the SIM limits (per operator: `operator_limits` overrides, else `per_operator_limit`,
    else the policy's limit) and bursts of cards around each card; SIM columns null for accounts."""
    default = ctx.sims_per_operator_limit if per_operator_limit is None else per_operator_limit
    overrides = operator_limits or {}
    limit = F.lit(default)
    if overrides:
        pairs = [F.lit(x) for kv in sorted(overrides.items()) for x in kv]
        limit = F.coalesce(F.create_map(*pairs)[F.col("recipient")], limit)
    is_sim = F.col("entity_type") == "SIM"
    secs = F.col("opened_at").cast("long")
    around = {
        days: Window.partitionBy("id_hash").orderBy(secs).rangeBetween(-days * _DAY, days * _DAY) for days in (1, 30)
    }
    per_operator = Window.partitionBy("id_hash", "entity_type", "recipient")
    per_holder = Window.partitionBy("id_hash", "entity_type")
    return (
        cards(t)
        .withColumn("same_op", F.count(F.lit(1)).over(per_operator))
        .withColumn("same_type", F.count(F.lit(1)).over(per_holder))
        .select(
            "entity_type",
            "entity_id",
            F.when(is_sim, F.greatest(F.col("same_op") - limit, F.lit(0))).alias("sims_over_operator_limit"),
            F.when(is_sim, F.greatest(F.col("same_type") - F.lit(total_limit), F.lit(0))).alias(
                "sims_over_total_limit"
            ),
            (F.count(F.lit(1)).over(around[1]) - 1).alias("cards_opened_within_1d"),
            (F.count(F.lit(1)).over(around[30]) - 1).alias("cards_opened_within_30d"),
        )
    )


@feature(
    "holder_channels",
    level="holder",
    needs=("sims", "accounts"),
    outputs={
        "holder_noface_sim_share": Output(
            "Share of the ID's SIMs registered without a live face check", unit="share", zh="未人证比对占比"
        ),
        "holder_agent_card_share": Output(
            "Share of the ID's SIMs and accounts opened through agents", unit="share", zh="代理渠道占比"
        ),
    },
)
def holder_channels(t: Tables, ctx: FeatureContext) -> DataFrame:
    """How the ID's cards were opened; a null face check counts as none, as in card_registration."""
    is_sim = F.col("entity_type") == "SIM"
    return (
        cards(t)
        .groupBy("id_hash")
        .agg(
            F.avg(F.when(is_sim, (~F.coalesce(F.col("face_verified"), F.lit(False))).cast("double"))).alias(
                "holder_noface_sim_share"
            ),
            F.avg((F.col("channel") == "AGENT").cast("double")).alias("holder_agent_card_share"),
        )
    )


@feature(
    "site_batches",
    level="card",
    needs=("sims", "accounts"),
    outputs={
        "site_window_ids": Output(
            "Distinct IDs (this one included) opening cards at this outlet or branch within `window_days` of this "
            "card", zh="网点批量开卡",
        ),
        "site_window_noface_ids": Output(
            "Distinct IDs registering a SIM without face check at this outlet within `window_days` of this card",
        ),
        "site_window_elderly_ids": Output(
            "Distinct IDs aged 65 or more at opening with cards at this outlet or branch within `window_days`",
            zh="网点批量为老人开卡",
        ),
    },
)
def site_batches(t: Tables, ctx: FeatureContext, window_days: int = 7) -> DataFrame:
    """Batch openings: one outlet (or bank branch) registering cards for many IDs in a short window.

    Each registration is spread over the days it is "near" (day +- window_days), deduplicated per
    (site, day, ID) and counted per day: the cost is linear in registrations whatever the outlet. Null when the card
    has no site (online openings).
    """
    h = holders(t).select("id_hash", "birth_date")
    c = (
        cards(t)
        .where(F.col("site_id").isNotNull())
        .join(h, "id_hash", "left")
        .select(
            "entity_type",
            "entity_id",
            "site_id",
            "id_hash",
            F.to_date("opened_at").alias("day"),
            ((F.col("entity_type") == "SIM") & ~F.coalesce(F.col("face_verified"), F.lit(False))).alias("noface"),
            F.coalesce(age_on(F.col("birth_date"), F.col("opened_at")) >= 65, F.lit(False)).alias("elderly"),
        )
    )
    w = window_days
    near = (
        c.select(
            "entity_type", "site_id", "id_hash", "noface", "elderly",
            F.explode(F.sequence(F.date_sub("day", w), F.date_add("day", w))).alias("day"),
        )
        .groupBy("entity_type", "site_id", "day", "id_hash")
        .agg(F.max("noface").cast("int").alias("noface"), F.max("elderly").cast("int").alias("elderly"))
        .groupBy("entity_type", "site_id", "day")
        .agg(
            F.count(F.lit(1)).alias("site_window_ids"),
            F.sum("noface").alias("site_window_noface_ids"),
            F.sum("elderly").alias("site_window_elderly_ids"),
        )
    )
    return c.join(near, ["entity_type", "site_id", "day"]).select(
        "entity_type", "entity_id", "site_window_ids", "site_window_noface_ids", "site_window_elderly_ids"
    )


@feature(
    "site_misuse",
    level="card",
    needs=("sims", "accounts", "labels"),
    outputs={
        "site_confirmed_misuse": Output(
            "Other cards of this outlet or branch confirmed as misuse by the run date (own label left out)",
            zh="网点涉诈卡数",
        ),
        "site_misuse_share": Output(
            "Share of the outlet's or branch's other cards confirmed as misuse by the run date", unit="share",
            zh="网点涉诈率",
        ),
    },
)
def site_misuse(t: Tables, ctx: FeatureContext) -> DataFrame:
    """The outlet's record of confirmed misuse, leave-one-out: a card's own label never feeds its own row.

    Only labels known on the as-of date count (the as-of view); the latest label per card wins.
    """
    bad = confirmed_misuse(t.get("labels")).withColumn("own_bad", F.lit(1))
    c = (
        cards(t)
        .where(F.col("site_id").isNotNull())
        .select("entity_type", "entity_id", "site_id")
        .join(bad, ["entity_type", "entity_id"], "left")
        .withColumn("own_bad", F.coalesce("own_bad", F.lit(0)))
    )
    per_site = c.groupBy("entity_type", "site_id").agg(
        F.sum("own_bad").alias("site_bad"), F.count(F.lit(1)).alias("site_cards")
    )
    others_bad = F.col("site_bad") - F.col("own_bad")
    others = F.col("site_cards") - 1
    return c.join(per_site, ["entity_type", "site_id"]).select(
        "entity_type",
        "entity_id",
        others_bad.alias("site_confirmed_misuse"),
        F.when(others > 0, others_bad / others).alias("site_misuse_share"),
    )


@feature(
    "site_vs_usage",
    level="card",
    needs=("sims", "accounts", "activity"),
    outputs={
        "site_far_from_holder_usage": Output(
            "Opened in a province where none of the holder's other SIMs had traffic in the window", unit="flag",
            zh="开卡地远离常住地",
        ),
    },
)
def site_vs_usage(t: Tables, ctx: FeatureContext) -> DataFrame:
    """Residence is where the holder's own SIMs are used; a card opened elsewhere was likely not theirs.

    Unlike the hukou (migrants live far from it), this compares with where the holder lives now.
    The card's own usage is left out. Null when the holder has no other SIM with domestic traffic.
    """
    used = (
        t.get("activity")
        .select("msisdn", province(F.col("cell_region")).alias("prov"))
        .where(F.col("prov").isNotNull())
        .distinct()
        .join(t.sims.select("msisdn", "id_hash"), "msisdn")
    )
    in_prov = used.groupBy("id_hash", "prov").agg(F.count(F.lit(1)).alias("sims_in_prov"))
    sims_used = used.groupBy("id_hash").agg(F.count_distinct("msisdn").alias("sims_used"))
    own_prov = used.select(F.col("msisdn").alias("entity_id"), "prov", F.lit(1).alias("own_in_prov"))
    own_used = used.select(F.col("msisdn").alias("entity_id"), F.lit(1).alias("own_used")).distinct()
    c = cards(t).select("entity_type", "entity_id", "id_hash", province(F.col("site_region")).alias("prov"))
    is_sim = F.col("entity_type") == "SIM"
    others_total = F.coalesce("sims_used", F.lit(0)) - F.when(is_sim, F.coalesce("own_used", F.lit(0))).otherwise(0)
    others_here = F.coalesce("sims_in_prov", F.lit(0)) - F.when(is_sim, F.coalesce("own_in_prov", F.lit(0))).otherwise(
        0
    )
    return (
        c.join(sims_used, "id_hash", "left")
        .join(in_prov, ["id_hash", "prov"], "left")
        .join(own_prov, ["entity_id", "prov"], "left")
        .join(own_used, "entity_id", "left")
        .select(
            "entity_type",
            "entity_id",
            F.when(F.col("prov").isNotNull() & (others_total > 0), (others_here == 0).cast("int")).alias(
                "site_far_from_holder_usage"
            ),
        )
    )
