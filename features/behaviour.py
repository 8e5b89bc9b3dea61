"""Behaviour against profile: how a SIM is used and how money moves through an account."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from core.tables import Tables
from features.common import CELL_SUMS, account_key, count_days, day_words, holders, sim_cells
from features.identity import province
from features.registry import FeatureContext, Output, feature

_HOUR = 3600


@feature(
    "sim_usage",
    level="card",
    needs=("sims", "activity"),
    outputs={
        "active_days": Output("Days with traffic in the activity window", unit="days"),
        "calls_out_per_day": Output("Outgoing calls per active day", unit="calls/day"),
        "call_out_in_ratio": Output("Outgoing calls per incoming call", unit="ratio", zh="主被叫比"),
        "callees_per_day": Output("Distinct numbers called per active day", unit="numbers/day"),
        "avg_call_seconds": Output("Mean outgoing call duration", unit="seconds"),
        "sms_out_per_day": Output("SMS sent per active day", unit="sms/day"),
        "data_mb_per_day": Output("Mobile data per active day", unit="MB/day"),
        "share_days_away_from_home": Output(
            "Share of traffic days carried outside the holder's home province", unit="share", zh="异地使用"
        ),
        "days_abroad": Output("Days the SIM was roaming abroad", unit="days", zh="境外漫游"),
    },
)
def sim_usage(t: Tables, ctx: FeatureContext) -> DataFrame:
    """Daily usage aggregates over the activity window, against the holder's home province."""
    cells = sim_cells(t, ctx)
    words = day_words(ctx)
    cell_prov = province(F.col("cell_region"))
    home_prov = province(F.col("home_region"))
    abroad = F.col("cell_region") == "ABROAD"
    away = abroad | (cell_prov.isNotNull() & home_prov.isNotNull() & (cell_prov != home_prov))
    zero = F.lit(0).cast("long")
    agg = cells.groupBy("msisdn").agg(
        *[F.bit_or(w).alias(f"all_{w}") for w in words],
        *[F.bit_or(F.when(away, F.col(w)).otherwise(zero)).alias(f"away_{w}") for w in words],
        *[F.bit_or(F.when(abroad, F.col(w)).otherwise(zero)).alias(f"abroad_{w}") for w in words],
        *[F.sum(c).alias(c) for c in CELL_SUMS],
    ).select(
        "*",
        count_days([F.col(f"all_{w}") for w in words]).alias("active_days"),
        count_days([F.col(f"away_{w}") for w in words]).alias("away_days"),
        count_days([F.col(f"abroad_{w}") for w in words]).alias("days_abroad"),
    )
    days = F.col("active_days").cast("double")
    return agg.select(
        F.lit("SIM").alias("entity_type"),
        F.col("msisdn").alias("entity_id"),
        "active_days",
        F.try_divide(F.col("calls_out"), days).alias("calls_out_per_day"),
        F.try_divide(F.col("calls_out").cast("double"), F.greatest(F.col("calls_in"), F.lit(1))).alias(
            "call_out_in_ratio"
        ),
        F.try_divide(F.col("callees"), days).alias("callees_per_day"),
        F.try_divide(F.col("call_secs").cast("double"), F.col("calls_out")).alias("avg_call_seconds"),
        F.try_divide(F.col("sms_out"), days).alias("sms_out_per_day"),
        F.try_divide(F.col("data_mb"), days).alias("data_mb_per_day"),
        F.try_divide(F.col("away_days").cast("double"), days).alias("share_days_away_from_home"),
        "days_abroad",
    )


@feature(
    "sim_colocation",
    level="card",
    needs=("sims", "activity"),
    outputs={
        "colocated_day_share": Output(
            "Share of the SIM's active days on which another SIM of the same holder was in the same region",
            unit="share",
            zh="同证号码不同行",
        ),
    },
)
def sim_colocation(t: Tables, ctx: FeatureContext) -> DataFrame:
    """A card someone else uses is never where the holder's own SIM is (null for single-SIM holders).

    Per holder and region, the days on which two or more of the holder's SIMs were there are the
    days a SIM shares with the SIMs before it (in any fixed order): a running ``bit_or`` window,
    no self-join. A SIM was colocated on its own days in that set.
    """
    words = day_words(ctx)
    per_region = (
        sim_cells(t, ctx)
        .where((F.col("n_sims") > 1) & F.col("id_hash").isNotNull() & F.col("cell_region").isNotNull())
        .groupBy("id_hash", "cell_region", "msisdn")
        .agg(*[F.bit_or(w).alias(w) for w in words])
    )
    place = Window.partitionBy("id_hash", "cell_region")
    before = place.orderBy("msisdn").rowsBetween(Window.unboundedPreceding, -1)
    zero = F.lit(0).cast("long")
    per_region = per_region.select(
        "id_hash", "cell_region", "msisdn", *words,
        *[(F.col(w).bitwiseAND(F.coalesce(F.bit_or(w).over(before), zero))).alias(f"dup_{w}") for w in words],
    ).select(
        "id_hash", "msisdn", *words,
        *[F.col(w).bitwiseAND(F.bit_or(f"dup_{w}").over(place)).alias(f"together_{w}") for w in words],
    )
    per_sim = per_region.groupBy("msisdn").agg(
        *[F.bit_or(w).alias(w) for w in words],
        *[F.bit_or(f"together_{w}").alias(f"together_{w}") for w in words],
    ).select(
        "msisdn",
        count_days([F.col(w) for w in words]).alias("days"),
        count_days([F.col(f"together_{w}") for w in words]).alias("together"),
    )
    return per_sim.select(
        F.lit("SIM").alias("entity_type"),
        F.col("msisdn").alias("entity_id"),
        F.try_divide(F.col("together").cast("double"), F.col("days")).alias("colocated_day_share"),
    )


@feature(
    "account_flows",
    level="card",
    needs=("accounts", "transactions"),
    outputs={
        "txn_count": Output("Transactions in the activity window"),
        "amount_in": Output("Money received in the window", unit="yuan"),
        "out_in_amount_ratio": Output("Money paid out per yuan received", unit="ratio"),
        "passthrough_share": Output(
            "Share of payments out made within 24 h of a receipt at least as large", unit="share", zh="快进快出"
        ),
        "counterparties": Output("Distinct counterparty accounts"),
        "night_share": Output("Share of transactions between 00:00 and 06:00", unit="share"),
        "max_gap_days": Output("Longest pause between transactions (dormancy)", unit="days", zh="久悬户激活"),
        "last7_share": Output("Share of the window's transactions in its last 7 days", unit="share"),
        "quiet_days_before_first_txn": Output(
            "Days of the window (or since opening) before the first transaction", unit="days", zh="久悬后突然活跃"
        ),
        "ip_away_share": Output(
            "Share of transactions from abroad or another province than the holder's home", unit="share"
        ),
    },
)
def account_flows(t: Tables, ctx: FeatureContext) -> DataFrame:
    """Pass-through, counterparties, night activity and dormancy followed by a burst.

    Both windows share one shuffle by account and one sort by time; the holder's home joins
    after them, on the same partitioning and order, so the aggregate needs no further shuffle.
    What the aggregate reads is reduced to flags and numbers before that shuffle (the 12M rows
    at 1M persons were 1.5 GB of strings): counterparties as 64-bit hashes (a collision between
    two counterparties of one account is about n^2 / 2^65), the province of the IP region, the
    night and last-7-days flags, and the time in whole seconds.
    """
    home = t.accounts.select("account_id", account_key(), "id_hash", "open_time").join(
        holders(t).select("id_hash", "home_region"), "id_hash", "left"
    )
    cp = F.col("counterparty_account")
    recent = F.col("ts") >= (F.lit(ctx.as_of) - F.expr("INTERVAL 6 DAYS")).cast("timestamp")
    tx = t.get("transactions").select(
        "account_id",
        account_key(),
        F.col("ts").cast("long").alias("secs"),
        (F.col("direction") == "OUT").alias("is_out"),
        (F.col("direction") == "IN").alias("is_in"),
        F.col("amount").cast("double").alias("amount"),
        F.when(cp.isNotNull(), F.xxhash64(cp)).alias("cp_hash"),
        (F.hour("ts") < 6).alias("night"),
        recent.alias("recent"),
        (F.col("ip_region") == "ABROAD").alias("ip_abroad"),
        province(F.col("ip_region")).alias("ip_prov"),
        F.col("ip_region").isNotNull().alias("ip_known"),
    )
    by_time = Window.partitionBy("ak", "account_id").orderBy("secs")
    last24h = by_time.rangeBetween(-24 * _HOUR, 0)
    tx = tx.select(
        "*",
        F.sum(F.when(F.col("is_in"), F.col("amount")).otherwise(0.0)).over(last24h).alias("in_24h"),
        ((F.col("secs") - F.lag("secs").over(by_time)) / 86400.0).alias("gap_days"),
    ).join(
        home.select("ak", "account_id", province(F.col("home_region")).alias("home_prov"), "open_time"),
        ["ak", "account_id"],
        "left",
    )
    is_out = F.col("is_out")
    ip_prov = F.col("ip_prov")
    away = F.col("ip_abroad") | (ip_prov.isNotNull() & (ip_prov != F.coalesce(F.col("home_prov"), ip_prov)))
    agg = tx.groupBy("ak", "account_id").agg(
        F.count(F.lit(1)).alias("txn_count"),
        F.sum(F.when(~is_out, F.col("amount")).otherwise(0.0)).alias("amount_in"),
        F.sum(F.when(is_out, F.col("amount")).otherwise(0.0)).alias("amount_out"),
        F.sum(is_out.cast("int")).alias("n_out"),
        F.sum((is_out & (F.col("in_24h") >= F.col("amount"))).cast("int")).alias("n_pass"),
        # A set per account, not count(DISTINCT): that would aggregate per (account, counterparty) first.
        F.size(F.collect_set("cp_hash")).cast("long").alias("counterparties"),
        F.sum(F.col("night").cast("int")).alias("n_night"),
        F.max("gap_days").alias("max_gap_days"),
        F.sum(F.col("recent").cast("int")).alias("n_recent"),
        F.timestamp_seconds(F.min("secs")).alias("first_ts"),
        F.max("open_time").alias("open_time"),
        F.sum(away.cast("int")).alias("n_away"),
        F.sum(F.col("ip_known").cast("int")).alias("n_ip"),
    )
    quiet_from = F.greatest(F.lit(ctx.window_start), F.to_date("open_time"))
    n = F.col("txn_count").cast("double")
    return agg.select(
        F.lit("ACCOUNT").alias("entity_type"),
        F.col("account_id").alias("entity_id"),
        "txn_count",
        "amount_in",
        F.try_divide(F.col("amount_out"), F.col("amount_in")).alias("out_in_amount_ratio"),
        F.try_divide(F.col("n_pass").cast("double"), F.col("n_out")).alias("passthrough_share"),
        "counterparties",
        F.try_divide(F.col("n_night").cast("double"), n).alias("night_share"),
        "max_gap_days",
        F.try_divide(F.col("n_recent").cast("double"), n).alias("last7_share"),
        F.greatest(F.datediff(F.to_date("first_ts"), quiet_from), F.lit(0)).alias("quiet_days_before_first_txn"),
        F.try_divide(F.col("n_away").cast("double"), F.col("n_ip")).alias("ip_away_share"),
    )
