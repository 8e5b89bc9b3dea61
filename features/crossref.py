"""Cross-registry links: reserved phones and devices that tie cards of different IDs together."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from core.tables import Tables
from features.common import sim_cells
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
    """IMEI fan-in: a handset carrying SIMs of many IDs is a SIM box or a shared phone.

    Read from the shared activity pre-aggregate; the per-handset counts are windows over one
    shuffle by IMEI (distinct IDs as the highest dense rank) instead of an aggregate joined back.
    """
    owned = (
        sim_cells(t, ctx).where(F.col("imei").isNotNull()).select("msisdn", "imei", "id_hash").distinct()
    )
    handset = Window.partitionBy("imei")
    id_rank = F.dense_rank().over(handset.orderBy(F.col("id_hash").asc_nulls_last()))
    owned = owned.select(
        "msisdn",
        F.count(F.lit(1)).over(handset).alias("sims_on_imei"),
        F.when(F.col("id_hash").isNotNull(), id_rank).alias("id_rank"),
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
        .select(F.lit("SIM").alias("entity_type"), F.col("msisdn").alias("entity_id"), "imei_count",
                "imei_max_ids", "imei_max_sims")
    )
