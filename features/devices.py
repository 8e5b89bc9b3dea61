"""Devices: handsets and devices shared between ID holders (one IMEI for many SIMs, one device opening
or using many accounts).
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from realname_guard.core.kinds import ACCOUNT, SIM
from realname_guard.core.tables import Tables
from realname_guard.features.common import (
    account_key,
    count_days,
    day_bits,
    day_words,
    sim_cells,
    txn_device_pairs,
)
from realname_guard.features.registry import FeatureContext, Output, feature

# A SIM stays in a handset when it is seen in it on this many days or more. Once is a shop's or a
# repair desk's handset, or an activation: the meaning of "stayed", not a fitted value.
STAY_DAYS = 2


@feature(
    "device_sharing",
    level="card",
    needs=("sims", "activity"),
    outputs={
        "imei_count": Output(
            "Handsets (IMEIs) this SIM was seen in", description_zh="本号码出现过的终端（IMEI）数"
        ),
        "imei_max_ids": Output(
            "Most IDs whose SIMs stayed (seen on two days or more) in one handset this SIM used",
            zh="一机多卡",
            description_zh="本号码用过的单台终端上常驻（两天及以上）号码所属证件数的最大值（一机多卡）",
        ),
        "imei_max_sims": Output(
            "Most SIMs that stayed (seen on two days or more) in one handset this SIM used (SIM-box sign)",
            description_zh="本号码用过的单台终端上常驻（两天及以上）号码数的最大值（猫池特征）",
        ),
    },
)
def device_sharing(t: Tables, ctx: FeatureContext) -> DataFrame:
    """IMEI fan-in: a handset keeping SIMs of many IDs is a SIM box or a shared phone.

    Only the SIMs that stayed in the handset count (seen in it on ``STAY_DAYS`` days or more); the
    SIM itself need not have. A SIM box keeps its SIMs for days. A shop's or repair desk's handset,
    where customers' SIMs go in once to be activated or tested, sees many holders' SIMs for a day
    each, and so may an IMEI cloned onto many cheap handsets: honest, and counted over every SIM
    they look like SIM boxes to a model that must treat more holders as never more honest
    (``model.monotone_increasing``).

    Read from the shared activity pre-aggregate; the per-handset counts are windows over one
    shuffle by IMEI (distinct IDs as the highest dense rank) instead of an aggregate joined back.
    """
    words = day_words(ctx)
    owned = (
        sim_cells(t, ctx).where(F.col("imei").isNotNull())
        .groupBy("msisdn", "imei", "id_hash")
        .agg(*[F.bit_or(w).alias(w) for w in words])
        .withColumn("_stays", count_days([F.col(w) for w in words]) >= STAY_DAYS)
    )
    handset = Window.partitionBy("imei")
    # Holders of staying SIMs rank first; the rest (and unknown holders) rank after them, unread.
    staying_id = F.when(F.col("_stays"), F.col("id_hash"))
    id_rank = F.dense_rank().over(handset.orderBy(staying_id.asc_nulls_last()))
    owned = owned.select(
        "msisdn",
        F.sum(F.col("_stays").cast("long")).over(handset).alias("sims_on_imei"),
        F.when(staying_id.isNotNull(), id_rank).alias("id_rank"),
        "imei",
    ).select(
        "msisdn", "sims_on_imei", F.coalesce(F.max("id_rank").over(handset), F.lit(0)).cast("long").alias("ids_on_imei")
    )
    return (
        owned.groupBy("msisdn")
        .agg(
            F.count(F.lit(1)).alias("imei_count"),
            F.max("ids_on_imei").alias("imei_max_ids"),
            F.max("sims_on_imei").alias("imei_max_sims"),
        )
        .select(F.lit(SIM.name).alias("entity_type"), F.col("msisdn").alias("entity_id"), "imei_count",
                "imei_max_ids", "imei_max_sims")
    )


@feature(
    "txn_devices",
    level="card",
    needs=("accounts", "transactions"),
    outputs={
        "txn_device_max_ids": Output(
            "Most IDs whose accounts opened on or transacted from one device this account transacted from",
            zh="一机多户",
            description_zh="本账户交易所用的单台设备上开户或交易过的账户所属证件数的最大值（一机多户）",
        ),
        "txn_abroad_share": Output(
            "Share of transactions with a known IP region made from abroad", unit="share", zh="境外交易占比",
            description_zh="IP归属地已知的交易中，来自境外的交易占比（境外交易占比）",
        ),
        "txn_abroad_days": Output(
            "Days with a transaction from abroad", unit="days", description_zh="有境外交易的天数"
        ),
    },
)
def txn_devices(t: Tables, ctx: FeatureContext) -> DataFrame:
    """Transaction devices shared with accounts of other IDs, and activity abroad.

    IP regions are not compared across IDs: thousands of honest accounts share a city's region.
    ``txn_device_max_ids`` is null when no transaction carried a device. Devices are read from
    ``txn_device_pairs`` (one row per account and device, shared with ``holder_devices``); the
    abroad days are a bit set per account, like the usage days of ``sim_cells``.
    """
    pairs = txn_device_pairs(t)
    users = pairs.where(F.col("id_hash").isNotNull()).select("device_id", "id_hash").unionByName(
        t.accounts.where(F.col("open_device_id").isNotNull()).select(
            F.col("open_device_id").alias("device_id"), "id_hash"
        )
    )
    per_device = users.groupBy("device_id").agg(F.count_distinct("id_hash").alias("ids"))
    device_max = (
        pairs.select("ak", "account_id", "device_id")
        .join(per_device, "device_id")
        .groupBy("ak", "account_id")
        .agg(F.max("ids").alias("txn_device_max_ids"))
    )
    abroad = F.col("ip_region") == "ABROAD"
    flows = (
        t.get("transactions")
        .select("account_id", account_key(), F.when(abroad, F.to_date("ts")).alias("abroad_day"), "ip_region")
        .groupBy("ak", "account_id")
        .agg(
            F.try_divide(F.sum(abroad.cast("int")).cast("double"), F.count("ip_region")).alias("txn_abroad_share"),
            count_days(day_bits(F.col("abroad_day"), ctx)).alias("txn_abroad_days"),
        )
    )
    return flows.join(device_max, ["ak", "account_id"], "left").select(
        F.lit(ACCOUNT.name).alias("entity_type"),
        F.col("account_id").alias("entity_id"),
        "txn_device_max_ids",
        "txn_abroad_share",
        "txn_abroad_days",
    )


@feature(
    "holder_devices",
    level="card",
    needs=("accounts", "transactions"),
    outputs={
        "txn_device_not_own_share": Output(
            "Share of the account's device transactions made from a device other than the holder's own "
            "(a device of this holder alone that opened or moved money for two or more of their accounts)",
            unit="share", zh="非本人常用设备交易占比",
            description_zh="本账户带设备信息的交易中，不在持证人本人常用设备（仅本人使用、且用于其两个及以上账户开户或交易的设备）"
            "上发生的交易占比（非本人常用设备交易占比）",
        ),
    },
)
def holder_devices(t: Tables, ctx: FeatureContext) -> DataFrame:
    """A sold or lent account is worked from the buyer's phone, not the holder's own.

    The holder's own devices are the devices that opened or moved money for at least two of the
    holder's accounts and for no other ID's. Both conditions matter: a holder with two accounts on
    two devices has no device to call their own (each account would look foreign to the other,
    the honest one included), and a card farmer's sold accounts share the buyer's device, which
    also serves other IDs (it must not become the "usual" device that makes the holder's own
    account look foreign). Null when the account made no transaction with a device, or when the
    holder has no own device. Read from ``txn_device_pairs``: a device's share of the account's
    transactions is its transaction count. (Named ``txn_device_foreign_share`` while it compared with
    any device of the holder's other accounts: a model trained on that meaning finds it missing.)
    """
    pairs = txn_device_pairs(t).where(F.col("id_hash").isNotNull())
    seen = pairs.select("id_hash", "device_id", "account_id").unionByName(
        t.accounts.where(F.col("open_device_id").isNotNull() & F.col("id_hash").isNotNull()).select(
            "id_hash", F.col("open_device_id").alias("device_id"), "account_id"
        )
    ).distinct()
    # Per device: how many IDs used it; per holder and device: on how many of the holder's accounts.
    device_ids = seen.groupBy("device_id").agg(F.count_distinct("id_hash").alias("device_ids"))
    own = (
        seen.groupBy("id_hash", "device_id")
        .agg(F.count(F.lit(1)).alias("device_accounts"))
        .join(device_ids, "device_id")
        .where((F.col("device_accounts") >= 2) & (F.col("device_ids") == 1))
        .select("id_hash", "device_id", F.lit(True).alias("own"))
    )
    holders = own.select("id_hash", F.lit(True).alias("has_own")).distinct()
    tx = pairs.join(holders, "id_hash", "left").join(own, ["id_hash", "device_id"], "left")
    foreign = F.when(F.col("own").isNull(), F.col("txns")).otherwise(0)
    return (
        tx.groupBy("ak", "account_id")
        .agg((F.sum(foreign) / F.sum("txns")).alias("_share"), F.max("has_own").alias("_has_own"))
        .select(
            F.lit(ACCOUNT.name).alias("entity_type"),
            F.col("account_id").alias("entity_id"),
            F.when(F.col("_has_own"), F.col("_share")).alias("txn_device_not_own_share"),
        )
    )


@feature(
    "open_device_fanin",
    level="card",
    needs=("accounts",),
    outputs={
        "open_device_ids": Output(
            "IDs whose accounts were opened on this account's opening device", zh="一机多开",
            description_zh="在本账户开户设备上开户的账户所属证件数（一机多开）",
        ),
        "open_device_accounts": Output(
            "Accounts opened on this account's opening device",
            description_zh="在本账户开户设备上开立的账户数",
        ),
    },
)
def open_device_fanin(t: Tables, ctx: FeatureContext) -> DataFrame:
    """One phone or browser opening accounts for many IDs is a mule factory; null without a device."""
    acc = t.accounts.where(F.col("open_device_id").isNotNull())
    per_device = acc.groupBy("open_device_id").agg(
        F.count_distinct("id_hash").alias("open_device_ids"), F.count(F.lit(1)).alias("open_device_accounts")
    )
    return acc.join(per_device, "open_device_id").select(
        F.lit(ACCOUNT.name).alias("entity_type"),
        F.col("account_id").alias("entity_id"),
        "open_device_ids",
        "open_device_accounts",
    )
