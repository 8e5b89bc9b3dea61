"""Behaviour against profile: how a SIM is used and how money moves through an account."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from core.tables import Tables
from features.common import holders
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
    act = t.get("activity")
    home = t.sims.select("msisdn", "id_hash").join(holders(t).select("id_hash", "home_region"), "id_hash", "left")
    rows = act.join(home.select("msisdn", "home_region"), "msisdn")
    cell_prov = province(F.col("cell_region"))
    away = F.when(
        (F.col("cell_region") == "ABROAD")
        | (cell_prov.isNotNull() & province(F.col("home_region")).isNotNull()
           & (cell_prov != province(F.col("home_region")))),
        F.lit(1),
    ).otherwise(F.lit(0))
    agg = rows.groupBy("msisdn").agg(
        F.count_distinct("day").alias("active_days"),
        F.sum("calls_out").alias("calls_out"),
        F.sum("calls_in").alias("calls_in"),
        F.sum("call_out_seconds").alias("call_secs"),
        F.sum("distinct_callees").alias("callees"),
        F.sum("sms_out").alias("sms_out"),
        F.sum("data_mb").alias("data_mb"),
        F.count_distinct(F.when(away == 1, F.col("day"))).alias("away_days"),
        F.count_distinct(F.when(F.col("cell_region") == "ABROAD", F.col("day"))).alias("days_abroad"),
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
    """A card someone else uses is never where the holder's own SIM is (null for single-SIM holders)."""
    act = t.get("activity").select("msisdn", "day", "cell_region").distinct()
    owned = act.join(t.sims.select("msisdn", "id_hash"), "msisdn")
    multi = t.sims.groupBy("id_hash").agg(F.count(F.lit(1)).alias("n_sims")).where("n_sims > 1")
    owned = owned.join(multi.select("id_hash"), "id_hash")
    places = owned.groupBy("id_hash", "day", "cell_region").agg(F.count(F.lit(1)).alias("sims_here"))
    per_sim = (
        owned.join(places, ["id_hash", "day", "cell_region"])
        .groupBy("msisdn")
        .agg(
            F.count_distinct("day").alias("days"),
            F.count_distinct(F.when(F.col("sims_here") > 1, F.col("day"))).alias("together"),
        )
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
    """Pass-through, counterparties, night activity and dormancy followed by a burst."""
    home = t.accounts.select("account_id", "id_hash", "open_time").join(
        holders(t).select("id_hash", "home_region"), "id_hash", "left"
    )
    tx = (
        t.get("transactions")
        .select(
            "account_id", "ts", "direction", "counterparty_account", "ip_region",
            F.col("amount").cast("double").alias("amount"),
        )
        .join(home.select("account_id", "home_region", "open_time"), "account_id", "left")
    )
    secs = F.col("ts").cast("long")
    last24h = Window.partitionBy("account_id").orderBy(secs).rangeBetween(-24 * _HOUR, 0)
    by_time = Window.partitionBy("account_id").orderBy(secs)
    tx = tx.withColumn(
        "in_24h", F.sum(F.when(F.col("direction") == "IN", F.col("amount")).otherwise(0.0)).over(last24h)
    ).withColumn("gap_days", (secs - F.lag(secs).over(by_time)) / 86400.0)
    is_out = F.col("direction") == "OUT"
    ip_prov = province(F.col("ip_region"))
    away = (F.col("ip_region") == "ABROAD") | (
        ip_prov.isNotNull() & (ip_prov != F.coalesce(province(F.col("home_region")), ip_prov))
    )
    recent = F.col("ts") >= (F.lit(ctx.as_of) - F.expr("INTERVAL 6 DAYS")).cast("timestamp")
    agg = tx.groupBy("account_id").agg(
        F.count(F.lit(1)).alias("txn_count"),
        F.sum(F.when(~is_out, F.col("amount")).otherwise(0.0)).alias("amount_in"),
        F.sum(F.when(is_out, F.col("amount")).otherwise(0.0)).alias("amount_out"),
        F.sum(is_out.cast("int")).alias("n_out"),
        F.sum((is_out & (F.col("in_24h") >= F.col("amount"))).cast("int")).alias("n_pass"),
        F.count_distinct("counterparty_account").alias("counterparties"),
        F.sum((F.hour("ts") < 6).cast("int")).alias("n_night"),
        F.max("gap_days").alias("max_gap_days"),
        F.sum(recent.cast("int")).alias("n_recent"),
        F.min("ts").alias("first_ts"),
        F.max("open_time").alias("open_time"),
        F.sum(away.cast("int")).alias("n_away"),
        F.count("ip_region").alias("n_ip"),
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
