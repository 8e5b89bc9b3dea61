"""Behaviour against profile, beyond the usage aggregates: roaming to border countries soon after
registration, usage out of line with the holder's age, and transaction devices shared across IDs."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from core.tables import Tables
from features.common import account_key, count_days, day_bits, day_words, holders, sim_cells, txn_device_pairs
from features.identity import age_on
from features.registry import FeatureContext, Output, feature

# Countries where the scam compounds that buy card-farmer SIMs sit (缅北, 柬埔寨, ...).
BORDER_COUNTRIES = ("MM", "LA", "VN", "KH", "PH", "TH", "MY")


@feature(
    "border_roaming",
    level="card",
    needs=("sims", "activity"),
    outputs={
        "border_roaming_days_after_reg": Output(
            "Days roaming in a border / South-East Asian country within `days_after_registration` of registration",
            unit="days", zh="开卡后短期境外漫游",
        ),
        "days_reg_to_abroad": Output(
            "Days from registration to the SIM's first day abroad in the window", unit="days", zh="开卡至出境天数",
        ),
    },
)
def border_roaming(
    t: Tables, ctx: FeatureContext, days_after_registration: int = 30, countries: tuple[str, ...] = BORDER_COUNTRIES
) -> DataFrame:
    """A SIM bought to be shipped abroad roams there within days of being registered.

    One row per SIM with usage in the window; ``days_reg_to_abroad`` is null when it never roamed
    (in the window). Country codes are compared upper-case.
    """
    codes = [c.upper() for c in countries]
    abroad = (
        t.get("activity")
        .where(F.col("cell_region") == "ABROAD")
        .select("msisdn", "day", "roam_country")
        .join(t.sims.select("msisdn", "reg_time"), "msisdn")
    )
    since_reg = F.datediff(F.col("day"), F.to_date("reg_time"))
    soon = F.upper(F.col("roam_country")).isin(codes) & since_reg.between(0, days_after_registration)
    trips = abroad.groupBy("msisdn").agg(
        F.count_distinct(F.when(soon, F.col("day"))).alias("border_roaming_days_after_reg"),
        F.min(since_reg).alias("days_reg_to_abroad"),
    )
    # Every SIM with usage in the window has a row (``sim_cells`` is grouped by SIM already); only
    # the few rows abroad are shuffled and joined with the registrations.
    used = sim_cells(t, ctx).select("msisdn").distinct()
    return used.join(trips, "msisdn", "left").select(
        F.lit("SIM").alias("entity_type"),
        F.col("msisdn").alias("entity_id"),
        F.coalesce(F.col("border_roaming_days_after_reg"), F.lit(0)).alias("border_roaming_days_after_reg"),
        "days_reg_to_abroad",
    )


@feature(
    "age_intensity",
    level="card",
    needs=("sims", "accounts", "activity"),
    outputs={
        "calls_out_vs_age_band": Output(
            "Outgoing calls per active day against the median of SIMs whose holders are in the same age band "
            "((x+1)/(median+1))", unit="ratio", zh="通话强度与年龄不符",
        ),
        "sms_out_vs_age_band": Output(
            "SMS sent per active day against the median of the holder's age band ((x+1)/(median+1))", unit="ratio"
        ),
        "data_mb_vs_age_band": Output(
            "Mobile data per active day against the median of the holder's age band ((x+1)/(median+1))", unit="ratio"
        ),
    },
)
def age_intensity(t: Tables, ctx: FeatureContext, band_years: int = 10) -> DataFrame:
    """A 75-year-old's SIM making 60 calls a day is not used by a 75-year-old.

    Usage per SIM is summed from ``sim_cells`` (the window's usage, already grouped by SIM). Medians
    per age band (`band_years` wide, age on the run date) are approximate percentiles of one
    aggregation over all SIMs with usage, a handful of rows joined back (no collect); the +1 keeps
    a band whose median is zero (no SMS) from dividing by zero. Null when the holder's age is unknown.
    """
    words = day_words(ctx)
    per_sim = (
        sim_cells(t, ctx)
        .groupBy("msisdn", "id_hash")
        .agg(
            count_days([F.bit_or(w) for w in words]).alias("days"),
            F.sum("calls_out").alias("calls"),
            F.sum("sms_out").alias("sms"),
            F.sum("data_mb").alias("mb"),
        )
        .join(holders(t).select("id_hash", "birth_date"), "id_hash", "left")
        .select(
            "msisdn",
            (F.floor(age_on(F.col("birth_date"), F.lit(ctx.as_of)) / band_years) * band_years).alias("band"),
            (F.col("calls") / F.col("days")).alias("calls"),
            (F.col("sms") / F.col("days")).alias("sms"),
            (F.col("mb") / F.col("days")).alias("mb"),
        )
        .where(F.col("band").isNotNull())
    )
    metrics = ("calls", "sms", "mb")
    medians = per_sim.groupBy("band").agg(
        *[F.percentile_approx(F.coalesce(F.col(m), F.lit(0.0)), 0.5).alias(f"{m}_median") for m in metrics]
    )
    names = {"calls": "calls_out_vs_age_band", "sms": "sms_out_vs_age_band", "mb": "data_mb_vs_age_band"}
    return per_sim.join(F.broadcast(medians), "band").select(
        F.lit("SIM").alias("entity_type"),
        F.col("msisdn").alias("entity_id"),
        *[((F.col(m) + 1) / (F.col(f"{m}_median") + 1)).alias(names[m]) for m in metrics],
    )


@feature(
    "txn_devices",
    level="card",
    needs=("accounts", "transactions"),
    outputs={
        "txn_device_max_ids": Output(
            "Most IDs whose accounts opened on or transacted from one device this account transacted from",
            zh="一机多户",
        ),
        "txn_abroad_share": Output(
            "Share of transactions with a known IP region made from abroad", unit="share", zh="境外交易占比"
        ),
        "txn_abroad_days": Output("Days with a transaction from abroad", unit="days"),
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
        F.lit("ACCOUNT").alias("entity_type"),
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
        "txn_device_foreign_share": Output(
            "Share of the account's device transactions made from a device none of the holder's other "
            "accounts ever opened on or transacted from",
            unit="share", zh="非本人常用设备交易占比",
        ),
    },
)
def holder_devices(t: Tables, ctx: FeatureContext) -> DataFrame:
    """A sold or lent account is worked from the buyer's phone, not the holder's usual one.

    The holder's usual devices are the devices of the holder's *other* accounts (opening device or
    transaction device). Null when the account made no transaction with a device, or when no other
    account of the holder has a known device (nothing to compare with). Read from
    ``txn_device_pairs``: a device's share of the account's transactions is its transaction count.
    """
    pairs = txn_device_pairs(t).where(F.col("id_hash").isNotNull())
    seen = pairs.select("id_hash", "device_id", "account_id").unionByName(
        t.accounts.where(F.col("open_device_id").isNotNull()).select(
            "id_hash", F.col("open_device_id").alias("device_id"), "account_id"
        )
    ).distinct()
    # Per holder and device: on how many of the holder's accounts it appears; per holder: how many
    # accounts have any known device.
    per_device = seen.groupBy("id_hash", "device_id").agg(F.count(F.lit(1)).alias("device_accounts"))
    per_holder = seen.groupBy("id_hash").agg(F.count_distinct("account_id").alias("holder_device_accounts"))
    tx = pairs.join(per_device, ["id_hash", "device_id"]).join(per_holder, "id_hash")
    # This account counts in both: a device is foreign when it appears on no *other* account.
    foreign = F.when(F.col("device_accounts") <= 1, F.col("txns")).otherwise(0)
    return (
        tx.groupBy("ak", "account_id")
        .agg(
            (F.sum(foreign) / F.sum("txns")).alias("_share"),
            F.max("holder_device_accounts").alias("_others"),
        )
        .select(
            F.lit("ACCOUNT").alias("entity_type"),
            F.col("account_id").alias("entity_id"),
            F.when(F.col("_others") >= 2, F.col("_share")).alias("txn_device_foreign_share"),
        )
    )
