"""Identity features: who the ID holder is, and whether the names on their cards agree."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from core.tables import Tables
from features.common import cards, holders
from features.identity import age_on
from features.names import name_distance
from features.registry import FeatureContext, Output, feature


@feature(
    "holder_identity",
    level="holder",
    needs=("sims", "accounts"),
    outputs={
        "holder_age": Output("Age of the ID holder on the run date", unit="years", zh="持证人年龄"),
        "holder_is_elderly": Output("ID holder is 65 or older", unit="flag", zh="老年人证件"),
        "id_status_invalid": Output(
            "Registry reports the ID lost, the holder deceased or the ID expired", unit="flag", zh="证件挂失/注销/过期"
        ),
    },
)
def holder_identity(t: Tables, ctx: FeatureContext) -> DataFrame:
    """Age from the registry (or the ID number) and the registry's status of the ID."""
    age = age_on(F.col("birth_date"), F.lit(ctx.as_of))
    return holders(t).select(
        "id_hash",
        age.alias("holder_age"),
        (age >= 65).cast("int").alias("holder_is_elderly"),
        F.when(F.col("id_status").isNull(), F.lit(None).cast("int"))
        .otherwise((F.col("id_status") != "VALID").cast("int"))
        .alias("id_status_invalid"),
    )


@feature(
    "name_consistency",
    level="card",
    needs=("sims", "accounts"),
    outputs={
        "name_mismatch_registry": Output(
            "Name on the card differs from the registry's name for the ID", unit="flag", zh="登记姓名与公民身份信息不符"
        ),
        "name_distance_registry": Output("Edit distance between card name and registry name", unit="characters"),
        "name_mismatch_other_cards": Output(
            "Share of the holder's other cards registered under a different name", unit="share", zh="同证不同名"
        ),
    },
)
def name_consistency(t: Tables, ctx: FeatureContext) -> DataFrame:
    """Names are compared after normalisation, so a traditional/simplified spelling is no mismatch."""
    c = cards(t).select("entity_type", "entity_id", "id_hash", "name_norm")
    h = holders(t).select("id_hash", "registry_name")
    per_name = Window.partitionBy("id_hash", "name_norm")
    per_holder = Window.partitionBy("id_hash")
    c = c.withColumn("same_name_cards", F.count(F.lit(1)).over(per_name)).withColumn(
        "holder_cards", F.count(F.lit(1)).over(per_holder)
    )
    dist = name_distance(F.col("name_norm"), F.col("registry_name"))
    return c.join(h, "id_hash", "left").select(
        "entity_type",
        "entity_id",
        F.when(dist.isNotNull(), (dist > 0).cast("int")).alias("name_mismatch_registry"),
        dist.alias("name_distance_registry"),
        F.when(
            F.col("holder_cards") > 1,
            (F.col("holder_cards") - F.col("same_name_cards")) / (F.col("holder_cards") - 1),
        ).alias("name_mismatch_other_cards"),
    )
