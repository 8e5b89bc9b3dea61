"""Names: the registered name against the registry's and across registries (normalised, surname, one
character off).
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from realname_guard.core.names import name_distance, surname
from realname_guard.core.tables import Tables
from realname_guard.features.common import cards, holders
from realname_guard.features.registry import FeatureContext, Output, feature


@feature(
    "name_consistency",
    level="card",
    needs=("sims", "accounts"),
    outputs={
        "name_mismatch_registry": Output(
            "Name on the card differs from the registry's name for the ID", unit="flag",
            zh="登记姓名与公民身份信息不符",
            description_zh="卡登记姓名与公民身份信息库中该证件的姓名不符",
        ),
        "name_distance_registry": Output(
            "Edit distance between card name and registry name", unit="characters",
            description_zh="卡登记姓名与公民身份信息库姓名的编辑距离",
        ),
        "name_mismatch_other_cards": Output(
            "Share of the holder's other cards registered under a different name", unit="share",
            zh="同证不同名",
            description_zh="持证人其他卡中以不同姓名登记的占比（同证不同名）",
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


def _one_char_off(a: F.Column, b: F.Column) -> F.Column:
    """Same length and exactly one character replaced (李娜 / 李那): a typo or a forged name."""
    return (F.length(a) == F.length(b)) & (F.levenshtein(a, b) == 1)


@feature(
    "registry_name_detail",
    level="card",
    needs=("sims", "accounts", "registry"),
    outputs={
        "name_given_differs_registry": Output(
            "Same surname as the registry's name but a different given name", unit="flag", zh="同姓不同名",
            description_zh="与公民身份信息库姓名同姓但名不同（同姓不同名）",
        ),
        "name_surname_differs_registry": Output(
            "Surname differs from the registry's name for the ID", unit="flag", zh="姓氏不符",
            description_zh="姓氏与公民身份信息库中该证件的姓名不符",
        ),
        "name_one_char_off_registry": Output(
            "Name differs from the registry's name in exactly one character", unit="flag", zh="一字之差",
            description_zh="与公民身份信息库姓名恰好相差一个字（一字之差）",
        ),
    },
)
def registry_name_detail(t: Tables, ctx: FeatureContext) -> DataFrame:
    """How a card name differs from the registry's name; null when either name is missing."""
    reg = t.get("registry").select("id_hash", F.col("name_norm").alias("registry_name"))
    a, b = F.col("name_norm"), F.col("registry_name")
    known = a.isNotNull() & b.isNotNull()
    same_surname = surname(a) == surname(b)
    return (
        cards(t)
        .select("entity_type", "entity_id", "id_hash", "name_norm")
        .join(reg, "id_hash", "left")
        .select(
            "entity_type",
            "entity_id",
            F.when(known, ((a != b) & same_surname).cast("int")).alias("name_given_differs_registry"),
            F.when(known, (~same_surname).cast("int")).alias("name_surname_differs_registry"),
            F.when(known, _one_char_off(a, b).cast("int")).alias("name_one_char_off_registry"),
        )
    )


@feature(
    "cross_registry_names",
    level="card",
    needs=("sims", "accounts"),
    outputs={
        "cross_registry_name_mismatch_share": Output(
            "Share of the ID's cards in the other registry (bank for a SIM, operator for an account) "
            "registered under a different name", unit="share", zh="电话卡与银行卡登记姓名不一致",
            description_zh="该证件在另一侧（SIM卡看银行，银行账户看运营商）的卡中以不同姓名登记的占比"
            "（电话卡与银行卡登记姓名不一致）",
        ),
        "cross_registry_one_char_off": Output(
            "A card of the same ID in the other registry carries a name one character off this card's",
            unit="flag", zh="一字之差",
            description_zh="该证件在另一侧有一张卡的登记姓名与本卡一字之差",
        ),
    },
)
def cross_registry_names(t: Tables, ctx: FeatureContext) -> DataFrame:
    """SIM registration name against the bank holder names of the same ID, and vice versa.

    Compared against the distinct names of the other side (with their card counts), so an ID with
    hundreds of cards costs cards x names, not cards x cards. Null when either side has no name.
    """
    c = cards(t).select("entity_type", "entity_id", "id_hash", "name_norm")
    other = (
        c.where(F.col("name_norm").isNotNull())
        .groupBy(F.col("id_hash").alias("o_id"), F.col("entity_type").alias("o_type"), F.col("name_norm").alias("o_name"))
        .agg(F.count(F.lit(1)).alias("o_cards"))
    )
    pairs = c.where(F.col("name_norm").isNotNull()).join(
        other, (F.col("id_hash") == F.col("o_id")) & (F.col("entity_type") != F.col("o_type"))
    )
    differs = F.col("name_norm") != F.col("o_name")
    return pairs.groupBy("entity_type", "entity_id").agg(
        (F.sum(F.when(differs, F.col("o_cards")).otherwise(0)) / F.sum("o_cards")).alias(
            "cross_registry_name_mismatch_share"
        ),
        F.max(_one_char_off(F.col("name_norm"), F.col("o_name")).cast("int")).alias("cross_registry_one_char_off"),
    )
