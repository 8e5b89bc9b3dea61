"""Outlets and branches: batches of registrations at one site, the site's record, and where its cards
are then used.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from realname_guard.core.identity import age_on, province
from realname_guard.core.kinds import SIM
from realname_guard.core.tables import Tables
from realname_guard.features.common import cards, holders, sim_cells
from realname_guard.features.known_labels import confirmed_misuse
from realname_guard.features.registry import FeatureContext, Output, feature


@feature(
    "site_batches",
    level="card",
    needs=("sims", "accounts"),
    outputs={
        "site_window_ids": Output(
            "Distinct IDs (this one included) opening cards at this outlet or branch within `window_days` of this "
            "card", zh="网点批量开卡",
            description_zh="本卡前后`window_days`天内在本营业厅或开户网点开卡的不同证件数（含本证件，"
            "网点批量开卡）",
        ),
        "site_window_noface_ids": Output(
            "Distinct IDs registering a SIM without face check at this outlet within `window_days` of this card",
            description_zh="本卡前后`window_days`天内在本营业厅未经人证比对登记号码的不同证件数",
        ),
        "site_window_elderly_ids": Output(
            "Distinct IDs aged 65 or more at opening with cards at this outlet or branch within `window_days`",
            zh="网点批量为老人开卡",
            description_zh="`window_days`天内在本营业厅或开户网点开卡、开卡时年满65周岁的不同证件数"
            "（网点批量为老人开卡）",
        ),
    },
)
def site_batches(t: Tables, ctx: FeatureContext, window_days: int = 7) -> DataFrame:
    """Batch openings: one outlet (or bank branch) registering cards for many IDs in a short window.

    An ID is counted on day d at a site when one of its cards there opened within `window_days` of
    d: each ID covers the union of the intervals [day - w, day + w] around its opening days. Each
    opening day (in day order per site and ID) adds its interval from where the previous one ended,
    so the intervals of one ID never overlap, and a running sum of +1 at each interval's start and
    -1 after its end, per site in day order, is the number of IDs covering a day. The cost is
    linear in registrations (no row per card and nearby day), and an outlet with 50,000 cards is
    one sorted run of its opening days. The same sweep over the no-face-check SIMs and over the
    cards of holders aged 65 or more at opening gives the other two counts. Null when the card has
    no site (online openings).
    """
    w = window_days
    site = ["entity_type", "site_id"]
    h = holders(t).select("id_hash", "birth_date")
    c = (
        cards(t)
        .where(F.col("site_id").isNotNull() & F.col("opened_at").isNotNull())
        .join(h, "id_hash", "left")
        .select(
            "entity_type",
            "entity_id",
            "site_id",
            "id_hash",
            F.unix_date(F.to_date("opened_at")).alias("day"),
            ((F.col("entity_type") == SIM.name) & ~F.coalesce(F.col("face_verified"), F.lit(False))).alias("noface"),
            F.coalesce(age_on(F.col("birth_date"), F.col("opened_at")) >= 65, F.lit(False)).alias("elderly"),
        )
        # One shuffle by site: the per-ID sort, the events per day and the running count all keep it.
        .repartition(*site)
    )
    by_id = Window.partitionBy(*site, "id_hash").orderBy("day")
    before = by_id.rowsBetween(Window.unboundedPreceding, -1)
    day = F.col("day")
    # Per card, in day order per site and ID: the ID's previous opening day there, of any card, of
    # a SIM without face check, of a card opened at 65 or more. Cards of one ID opened the same day
    # get an empty interval (their +1 and -1 fall on the same day and cancel).
    kinds = ("all", "noface", "elderly")
    days = c.select(
        *site,
        "day",
        F.lit(1).alias("all"),
        F.col("noface").cast("int").alias("noface"),
        F.col("elderly").cast("int").alias("elderly"),
        F.lag("day").over(by_id).alias("prev_all"),
        F.last(F.when(F.col("noface"), day), ignorenulls=True).over(before).alias("prev_noface"),
        F.last(F.when(F.col("elderly"), day), ignorenulls=True).over(before).alias("prev_elderly"),
    )

    def event(at: Column, deltas: dict[str, Column]) -> Column:
        return F.struct(at.alias("at"), *[deltas.get(k, F.lit(0)).alias(k) for k in kinds])

    # Each day's interval starts where the previous one ended, and ends after day + w.
    starts = [
        event(F.greatest(day - w, F.coalesce(F.col(f"prev_{k}") + w + 1, day - w)), {k: F.col(k)}) for k in kinds
    ]
    end = event(day + w + 1, {k: -F.col(k) for k in kinds})
    events = (
        days.select(*site, F.explode(F.array(*starts, end)).alias("e"))
        .select(*site, "e.*")
        .groupBy(*site, "at")
        .agg(*[F.sum(k).alias(k) for k in kinds])
        .select(*site, "at", F.lit(None).cast("string").alias("entity_id"), *kinds)
    )
    # The cards themselves are the queries: on a day, the intervals that start that day count and
    # those that ended the day before do not, so events sort before the cards of their day.
    queries = c.select(*site, F.col("day").alias("at"), "entity_id", *[F.lit(0).cast("long").alias(k) for k in kinds])
    running = Window.partitionBy(*site).orderBy("at", F.col("entity_id").asc_nulls_first()).rowsBetween(
        Window.unboundedPreceding, 0
    )
    names = {"all": "site_window_ids", "noface": "site_window_noface_ids", "elderly": "site_window_elderly_ids"}
    return (
        events.unionByName(queries)
        .select("entity_type", "entity_id", *[F.sum(k).over(running).alias(names[k]) for k in kinds])
        .where(F.col("entity_id").isNotNull())
    )


@feature(
    "site_misuse",
    level="card",
    needs=("sims", "accounts", "labels"),
    outputs={
        "site_confirmed_misuse": Output(
            "Other cards of this outlet or branch confirmed as misuse by the run date (own label left out)",
            zh="网点涉诈卡数",
            description_zh="本营业厅或开户网点截至运行日已确认涉诈的其他卡数（不计本卡标签）",
        ),
        "site_misuse_share": Output(
            "Share of the outlet's or branch's other cards confirmed as misuse by the run date", unit="share",
            zh="网点涉诈率",
            description_zh="本营业厅或开户网点的其他卡中截至运行日已确认涉诈的占比（网点涉诈率）",
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
            description_zh="开卡省份内持证人的其他号码在统计窗口内均无流量（开卡地远离常住地）",
        ),
    },
)
def site_vs_usage(t: Tables, ctx: FeatureContext) -> DataFrame:
    """Residence is where the holder's own SIMs are used; a card opened elsewhere was likely not theirs.

    Unlike the hukou (migrants live far from it), this compares with where the holder lives now.
    The card's own usage is left out. Null when the holder has no other SIM with domestic traffic.
    Read from ``sim_cells``; per holder, the SIMs used and how many in each province (a map), per
    SIM the provinces it was used in: two joins onto the cards.
    """
    used = (
        sim_cells(t, ctx)
        .select("msisdn", "id_hash", province(F.col("cell_region")).alias("prov"))
        .where(F.col("prov").isNotNull())
        .distinct()
    )
    per_holder = (
        used.groupBy("id_hash", "prov")
        .agg(F.count(F.lit(1)).alias("n"))
        .groupBy("id_hash")
        .agg(F.map_from_entries(F.collect_list(F.struct("prov", "n"))).alias("sims_by_prov"))
    )
    sims_used = used.groupBy("id_hash").agg(F.count_distinct("msisdn").alias("sims_used"))
    own = used.groupBy(F.col("msisdn").alias("entity_id")).agg(F.collect_set("prov").alias("own_provs"))
    c = cards(t).select("entity_type", "entity_id", "id_hash", province(F.col("site_region")).alias("prov"))
    is_sim = F.col("entity_type") == SIM.name
    own_here = F.coalesce(F.array_contains("own_provs", F.col("prov")).cast("int"), F.lit(0))
    own_used = F.col("own_provs").isNotNull().cast("int")
    others_total = F.coalesce("sims_used", F.lit(0)) - F.when(is_sim, own_used).otherwise(0)
    others_here = F.coalesce(F.col("sims_by_prov")[F.col("prov")], F.lit(0)) - F.when(is_sim, own_here).otherwise(0)
    return (
        c.join(per_holder.join(sims_used, "id_hash"), "id_hash", "left")
        .join(own, "entity_id", "left")
        .select(
            "entity_type",
            "entity_id",
            F.when(F.col("prov").isNotNull() & (others_total > 0), (others_here == 0).cast("int")).alias(
                "site_far_from_holder_usage"
            ),
        )
    )
