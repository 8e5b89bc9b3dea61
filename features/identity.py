"""Identity: the ID number against the registry and the holder's profile (lost, expired or deceased IDs, age,
region of issue against where the cards are used).
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from realname_guard.core.identity import age_on, province
from realname_guard.core.kinds import SIM
from realname_guard.core.tables import Tables
from realname_guard.features.common import cards, count_days, day_words, holders, parsed_ids, sim_cells
from realname_guard.features.registry import FeatureContext, Output, feature


@feature(
    "registry_checks",
    level="card",
    needs=("sims", "accounts", "registry"),
    outputs={
        "id_reported_lost": Output(
            "The registry reports the ID as lost", unit="flag", zh="证件挂失",
            description_zh="公民身份信息库登记该证件已挂失（证件挂失）",
        ),
        "id_holder_deceased": Output(
            "The registry reports the ID holder as deceased", unit="flag", zh="死亡注销",
            description_zh="公民身份信息库登记持证人已死亡（死亡注销）",
        ),
        "id_expired": Output(
            "The registry reports the ID as expired", unit="flag", zh="证件过期",
            description_zh="公民身份信息库登记该证件已过期（证件过期）",
        ),
        "id_birth_mismatch_registry": Output(
            "The birth date encoded in the ID number differs from the registry's record", unit="flag",
            zh="出生日期与公民身份信息不符",
            description_zh="证件号码中的出生日期与公民身份信息库记录不符",
        ),
        "id_gender_mismatch_registry": Output(
            "The gender encoded in the ID number differs from the registry's record", unit="flag",
            zh="性别与公民身份信息不符",
            description_zh="证件号码中的性别与公民身份信息库记录不符",
        ),
        "opened_recently_on_invalid_id": Output(
            "Card opened within `recent_days` of the run date on an ID the registry now reports lost, "
            "deceased or expired", unit="flag", zh="挂失后开卡",
            description_zh="卡在运行日前`recent_days`天内开立，且该证件现被公民身份信息库登记为挂失、"
            "死亡注销或过期（挂失后开卡）",
        ),
    },
)
def registry_checks(t: Tables, ctx: FeatureContext, recent_days: int = 180) -> DataFrame:
    """Registry status per card, and whether the registry's record agrees with the ID number.

    The contract carries no date of the loss report or death, so "opened after the loss report" is
    approximated by a card opened recently on an ID that is not valid now. All flags are null for
    an ID the registry does not know (no record is no evidence).
    """
    status = F.upper(F.col("id_status"))
    known = status.isNotNull()
    reg = t.get("registry").select(
        "id_hash", "id_status", F.col("birth_date").alias("r_birth"), F.upper(F.col("gender")).alias("r_gender")
    )
    since = F.lit(ctx.as_of - dt.timedelta(days=recent_days)).cast("timestamp")
    return (
        cards(t)
        .select("entity_type", "entity_id", "id_hash", "opened_at")
        .join(parsed_ids(t), "id_hash", "left")
        .join(reg, "id_hash", "left")
        .select(
            "entity_type",
            "entity_id",
            F.when(known, (status == "REPORTED_LOST").cast("int")).alias("id_reported_lost"),
            F.when(known, (status == "DECEASED").cast("int")).alias("id_holder_deceased"),
            F.when(known, (status == "EXPIRED").cast("int")).alias("id_expired"),
            F.when(
                F.col("id_birth_date").isNotNull() & F.col("r_birth").isNotNull(),
                (F.col("id_birth_date") != F.col("r_birth")).cast("int"),
            ).alias("id_birth_mismatch_registry"),
            F.when(
                F.col("id_gender").isNotNull() & F.col("r_gender").isNotNull(),
                (F.col("id_gender") != F.col("r_gender")).cast("int"),
            ).alias("id_gender_mismatch_registry"),
            F.when(known, ((status != "VALID") & (F.col("opened_at") >= since)).cast("int")).alias(
                "opened_recently_on_invalid_id"
            ),
        )
    )


@feature(
    "id_profile",
    level="holder",
    needs=("sims", "accounts"),
    outputs={
        "holder_is_male": Output(
            "ID holder is male (registry, else the sequence digit of the ID number)", unit="flag", zh="性别",
            description_zh="持证人为男性（取公民身份信息库，缺失时取证件号码的顺序码）",
        ),
        "id_province": Output(
            "Province of issue of the ID number (first two digits, GB/T 2260)", unit="code", zh="发证地省份",
            description_zh="证件号码的发证地省份（前两位，GB/T 2260）",
        ),
    },
)
def id_profile(t: Tables, ctx: FeatureContext) -> DataFrame:
    """Gender and province of issue parsed from the ID (GB 11643); null for non-resident IDs."""
    gender = F.upper(F.col("gender"))
    return (
        holders(t)
        .select("id_hash", "gender")
        .join(parsed_ids(t).select("id_hash", "id_region"), "id_hash", "left")
        .select(
            "id_hash",
            F.when(gender.isin("M", "F"), (gender == "M").cast("int")).alias("holder_is_male"),
            province(F.col("id_region")).cast("int").alias("id_province"),
        )
    )


@feature(
    "usage_vs_id_region",
    level="card",
    needs=("sims", "activity"),
    outputs={
        "main_usage_province_not_id": Output(
            "The province where the SIM had most traffic days is not the ID's province of issue", unit="flag",
            zh="主要使用地与发证地不符",
            description_zh="号码有流量天数最多的省份不是证件发证地省份（主要使用地与发证地不符）",
        ),
        "main_usage_county_not_outlet": Output(
            "The county where the SIM had most traffic days is not the county it was registered in", unit="flag",
            zh="异地使用",
            description_zh="号码有流量天数最多的区县不是其开卡所在区县（异地使用）",
        ),
    },
)
def usage_vs_id_region(t: Tables, ctx: FeatureContext) -> DataFrame:
    """Main domestic usage place of each SIM (most distinct days; ties to the lower code).

    Read from ``sim_cells`` (the window's usage per SIM and cell region, days as bit sets, grouped
    by SIM): the days in a province are the union of its counties' day sets. Null when the SIM had
    no domestic traffic or the compared region is missing or malformed.
    """
    words = day_words(ctx)
    per_county = (
        sim_cells(t, ctx)
        .where(province(F.col("cell_region")).isNotNull())
        .groupBy("msisdn", "cell_region")
        .agg(*[F.bit_or(w).alias(w) for w in words])
        .withColumn("prov", province(F.col("cell_region")))
    )
    per_prov = per_county.groupBy("msisdn", "prov").agg(*[F.bit_or(w).alias(w) for w in words])

    def main(frame: DataFrame, key: str) -> DataFrame:  # most days first, then the lower code
        first = F.min(F.struct((-count_days([F.col(w) for w in words])).alias("d"), F.col(key).alias("k")))
        return frame.groupBy("msisdn").agg(first.getField("k").alias(f"main_{key}"))

    sims = t.sims.select("msisdn", "id_hash", "outlet_region").join(
        parsed_ids(t).select("id_hash", "id_region"), "id_hash", "left"
    )
    id_prov = province(F.col("id_region"))
    outlet = F.when(F.col("outlet_region").rlike(r"^[0-9]{6}$"), F.col("outlet_region"))
    return (
        main(per_prov, "prov")
        .join(main(per_county, "cell_region"), "msisdn")
        .join(sims, "msisdn")
        .select(
            F.lit(SIM.name).alias("entity_type"),
            F.col("msisdn").alias("entity_id"),
            F.when(id_prov.isNotNull(), (F.col("main_prov") != id_prov).cast("int")).alias(
                "main_usage_province_not_id"
            ),
            F.when(outlet.isNotNull(), (F.col("main_cell_region") != outlet).cast("int")).alias(
                "main_usage_county_not_outlet"
            ),
        )
    )


@feature(
    "holder_identity",
    level="holder",
    needs=("sims", "accounts"),
    outputs={
        "holder_age": Output(
            "Age of the ID holder on the run date", unit="years", zh="持证人年龄",
            description_zh="运行日持证人年龄",
        ),
        "holder_is_elderly": Output(
            "ID holder is 65 or older", unit="flag", zh="老年人证件",
            description_zh="持证人年满65周岁（老年人证件）",
        ),
        "id_status_invalid": Output(
            "Registry reports the ID lost, the holder deceased or the ID expired", unit="flag",
            zh="证件挂失/注销/过期",
            description_zh="公民身份信息库登记该证件已挂失、持证人已死亡注销或证件已过期",
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
    "disciplinary_periods",
    level="card",
    needs=("sims", "accounts", "disciplinary"),
    outputs={
        "opened_while_disciplined": Output(
            "Opened while its holder was on the 失信惩戒 list (inside a listing period)",
            unit="flag",
            zh="失信惩戒期内开卡",
            description_zh="开卡时持证人处于失信惩戒期内（名单所列期间）",
        ),
    },
)
def disciplinary_periods(t: Tables, ctx: FeatureContext) -> DataFrame:
    """Per card: 1 when it was opened (local day) inside one of its holder's listing periods.

    The periods are few: the cards opened inside one are found with the periods broadcast, and
    every card takes its flag from that short list, with no shuffle of the cards.
    """
    periods = t.get("disciplinary").select("id_hash", "listed_from", "listed_until")
    opened = F.to_date("opened_at")
    c = cards(t).select("entity_type", "entity_id", "id_hash", "opened_at")
    inside = (
        c.join(F.broadcast(periods), "id_hash")
        .where((opened >= F.col("listed_from")) & (opened <= F.col("listed_until")))
        .select("entity_type", "entity_id", F.lit(1).alias("_inside"))
        .distinct()
    )
    return c.join(F.broadcast(inside), ["entity_type", "entity_id"], "left").select(
        "entity_type", "entity_id", F.coalesce(F.col("_inside"), F.lit(0)).alias("opened_while_disciplined")
    )
