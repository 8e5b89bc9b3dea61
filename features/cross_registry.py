"""Cross-registry: one registry's record checked against another's (an account's reserved phone
registered to another ID).
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from realname_guard.core.kinds import ACCOUNT, SIM
from realname_guard.core.tables import Tables
from realname_guard.features.registry import FeatureContext, Output, feature


@feature(
    "reserved_phone",
    level="card",
    needs=("sims", "accounts"),
    outputs={
        "reserved_phone_other_id": Output(
            "Account's reserved phone is registered to a different ID", unit="flag", zh="预留手机号非本人",
            description_zh="银行账户的预留手机号登记在其他证件名下（预留手机号非本人）",
        ),
        "reserved_phone_ids": Output(
            "IDs whose accounts reserve the same phone as this account",
            description_zh="预留手机号与本账户相同的账户所属证件数",
        ),
        "sim_reserved_by_other_ids": Output(
            "Other IDs whose bank accounts reserve this SIM's number",
            description_zh="将本号码作为银行账户预留手机号的其他证件数",
        ),
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
        F.lit(ACCOUNT.name).alias("entity_type"),
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
            F.lit(SIM.name).alias("entity_type"),
            F.col("msisdn").alias("entity_id"),
            F.lit(None).cast("int").alias("reserved_phone_other_id"),
            F.lit(None).cast("int").alias("reserved_phone_ids"),
            F.coalesce(
                F.size(F.filter("reserving_ids", lambda x: x != F.col("id_hash"))).cast("long"), F.lit(0).cast("long")
            ).alias("sim_reserved_by_other_ids"),
        )
    )
    return account_rows.unionByName(sim_rows)
