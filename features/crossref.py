"""Cross-registry links: reserved phones and devices that tie cards of different IDs together."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from core.tables import Tables
from features.registry import FeatureContext, Output, feature


@feature(
    "reserved_phone",
    level="card",
    needs=("sims", "accounts"),
    outputs={
        "reserved_phone_other_id": Output(
            "Account's reserved phone is registered to a different ID", unit="flag", zh="预留手机号非本人"
        ),
        "reserved_phone_ids": Output("IDs whose accounts reserve the same phone as this account"),
        "sim_reserved_by_other_ids": Output("Other IDs whose bank accounts reserve this SIM's number"),
    },
)
def reserved_phone(t: Tables, ctx: FeatureContext) -> DataFrame:
    """The bank's reserved phone (预留手机号) should be the holder's own SIM."""
    sim_owner = t.sims.select(F.col("msisdn").alias("reserved_msisdn"), F.col("id_hash").alias("phone_owner"))
    acc = t.accounts.select("account_id", "id_hash", "reserved_msisdn")
    per_phone = (
        acc.where(F.col("reserved_msisdn").isNotNull())
        .groupBy("reserved_msisdn")
        .agg(F.collect_set("id_hash").alias("reserving_ids"))
    )
    linked = acc.join(sim_owner, "reserved_msisdn", "left").join(per_phone, "reserved_msisdn", "left")
    account_rows = linked.select(
        F.lit("ACCOUNT").alias("entity_type"),
        F.col("account_id").alias("entity_id"),
        F.when(F.col("phone_owner").isNotNull(), (F.col("phone_owner") != F.col("id_hash")).cast("int")).alias(
            "reserved_phone_other_id"
        ),
        F.size("reserving_ids").alias("reserved_phone_ids"),
        F.lit(None).cast("long").alias("sim_reserved_by_other_ids"),
    ).withColumn(
        "reserved_phone_ids", F.when(F.col("reserved_phone_ids") >= 0, F.col("reserved_phone_ids"))
    )
    sim_rows = (
        t.sims.select("msisdn", "id_hash")
        .join(per_phone.withColumnRenamed("reserved_msisdn", "msisdn"), "msisdn", "left")
        .select(
            F.lit("SIM").alias("entity_type"),
            F.col("msisdn").alias("entity_id"),
            F.lit(None).cast("int").alias("reserved_phone_other_id"),
            F.lit(None).cast("int").alias("reserved_phone_ids"),
            F.coalesce(
                F.size(F.filter("reserving_ids", lambda x: x != F.col("id_hash"))).cast("long"), F.lit(0).cast("long")
            ).alias("sim_reserved_by_other_ids"),
        )
    )
    return account_rows.unionByName(sim_rows)


@feature(
    "device_sharing",
    level="card",
    needs=("sims", "activity"),
    outputs={
        "imei_count": Output("Handsets (IMEIs) this SIM was seen in"),
        "imei_max_ids": Output("Most IDs whose SIMs shared one handset with this SIM", zh="一机多卡"),
        "imei_max_sims": Output("Most SIMs seen in one handset this SIM used (SIM-box sign)"),
    },
)
def device_sharing(t: Tables, ctx: FeatureContext) -> DataFrame:
    """IMEI fan-in: a handset carrying SIMs of many IDs is a SIM box or a shared phone."""
    act = t.get("activity")
    sim_imei = act.where(F.col("imei").isNotNull()).select("msisdn", "imei").distinct()
    owned = sim_imei.join(t.sims.select("msisdn", "id_hash"), "msisdn")
    per_imei = owned.groupBy("imei").agg(
        F.count_distinct("id_hash").alias("ids_on_imei"), F.count(F.lit(1)).alias("sims_on_imei")
    )
    return (
        owned.join(per_imei, "imei")
        .groupBy("msisdn")
        .agg(
            F.count(F.lit(1)).alias("imei_count"),
            F.max("ids_on_imei").alias("imei_max_ids"),
            F.max("sims_on_imei").alias("imei_max_sims"),
        )
        .select(F.lit("SIM").alias("entity_type"), F.col("msisdn").alias("entity_id"), "imei_count",
                "imei_max_ids", "imei_max_sims")
    )
