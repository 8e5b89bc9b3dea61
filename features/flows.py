"""Flows: how an account's money moves over the activity window (pass-through, night activity)."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from realname_guard.core.identity import province
from realname_guard.core.kinds import ACCOUNT
from realname_guard.core.tables import Tables
from realname_guard.features.common import (
    account_key,
    holders,
)
from realname_guard.features.registry import FeatureContext, Output, feature

_HOUR = 3600
_CENTS_PER_YUAN = 100


@feature(
    "account_flows",
    level="card",
    needs=("accounts", "transactions"),
    outputs={
        "txn_count": Output("Transactions in the activity window", description_zh="统计窗口内的交易笔数"),
        "amount_in": Output(
            "Money received in the window", unit="yuan", description_zh="统计窗口内的入账金额"
        ),
        "out_in_amount_ratio": Output(
            "Money paid out per yuan received", unit="ratio", description_zh="每入账1元对应的转出金额"
        ),
        "passthrough_share": Output(
            "Share of payments out made within 24 h of a receipt at least as large", unit="share",
            zh="快进快出",
            description_zh="转出交易中，此前24小时内有一笔不低于其金额的入账的占比（快进快出）",
        ),
        "counterparties": Output("Distinct counterparty accounts", description_zh="不同对手方账户数"),
        "night_share": Output(
            "Share of transactions between 00:00 and 06:00", unit="share",
            description_zh="00:00至06:00之间的交易占比",
        ),
        "max_gap_days": Output(
            "Longest pause between transactions (dormancy)", unit="days", zh="久悬户激活",
            description_zh="相邻交易间的最长间隔天数（休眠，久悬户激活）",
        ),
        "last7_share": Output(
            "Share of the window's transactions in its last 7 days", unit="share",
            description_zh="统计窗口内的交易落在窗口最后7天的占比",
        ),
        "quiet_days_before_first_txn": Output(
            "Days of the window (or since opening) before the first transaction", unit="days",
            zh="久悬后突然活跃",
            description_zh="统计窗口内（或开户以来）首笔交易前的天数（久悬后突然活跃）",
        ),
        "ip_away_share": Output(
            "Share of transactions from abroad or another province than the holder's home", unit="share",
            description_zh="来自境外或持证人户籍地以外省份的交易占比",
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
    night and last-7-days flags, the time in whole seconds, and amounts in whole cents (a long: a
    sum of doubles follows the order the shuffle delivers its rows, and its last bits moved cards
    between two runs of one date, local mode against a cluster).
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
        F.round(F.col("amount") * _CENTS_PER_YUAN).cast("long").alias("cents"),
        F.when(cp.isNotNull(), F.xxhash64(cp)).alias("cp_hash"),
        (F.hour("ts") < 6).alias("night"),
        recent.alias("recent"),
        (F.col("ip_region") == "ABROAD").alias("ip_abroad"),
        province(F.col("ip_region")).alias("ip_prov"),
        F.col("ip_region").isNotNull().alias("ip_known"),
    )
    by_time = Window.partitionBy("ak", "account_id").orderBy("secs")
    last24h = by_time.rangeBetween(-24 * _HOUR, 0)
    zero = F.lit(0).cast("long")
    tx = tx.select(
        "*",
        F.sum(F.when(F.col("is_in"), F.col("cents")).otherwise(zero)).over(last24h).alias("in_24h"),
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
        F.sum(F.when(~is_out, F.col("cents")).otherwise(zero)).alias("cents_in"),
        F.sum(F.when(is_out, F.col("cents")).otherwise(zero)).alias("cents_out"),
        F.sum(is_out.cast("int")).alias("n_out"),
        F.sum((is_out & (F.col("in_24h") >= F.col("cents"))).cast("int")).alias("n_pass"),
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
        F.lit(ACCOUNT.name).alias("entity_type"),
        F.col("account_id").alias("entity_id"),
        "txn_count",
        (F.col("cents_in") / _CENTS_PER_YUAN).alias("amount_in"),
        F.try_divide(F.col("cents_out").cast("double"), F.col("cents_in")).alias("out_in_amount_ratio"),
        F.try_divide(F.col("n_pass").cast("double"), F.col("n_out")).alias("passthrough_share"),
        "counterparties",
        F.try_divide(F.col("n_night").cast("double"), n).alias("night_share"),
        "max_gap_days",
        F.try_divide(F.col("n_recent").cast("double"), n).alias("last7_share"),
        F.greatest(F.datediff(F.to_date("first_ts"), quiet_from), F.lit(0)).alias("quiet_days_before_first_txn"),
        F.try_divide(F.col("n_away").cast("double"), F.col("n_ip")).alias("ip_away_share"),
    )
