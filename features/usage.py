"""Usage: how a SIM is used over the activity window (traffic, cells, handsets, roaming near the
border, intensity against the holder's age).
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from realname_guard.core.identity import age_on
from realname_guard.core.kinds import SIM
from realname_guard.core.tables import Tables
from realname_guard.features.common import (
    CELL_SUMS,
    KB_PER_MB,
    away_from_home,
    count_days,
    day_words,
    holders,
    memo,
    sim_cells,
)
from realname_guard.features.registry import FeatureContext, Output, feature


@feature(
    "sim_usage",
    level="card",
    needs=("sims", "activity"),
    outputs={
        "active_days": Output(
            "Days with traffic in the activity window", unit="days",
            description_zh="统计窗口内有话务或流量的天数",
        ),
        "calls_out_per_day": Output(
            "Outgoing calls per active day", unit="calls/day", description_zh="活跃日日均主叫次数"
        ),
        "call_out_in_ratio": Output(
            "Outgoing calls per incoming call", unit="ratio", zh="主被叫比",
            description_zh="主叫次数与被叫次数之比（主被叫比）",
        ),
        "callees_per_day": Output(
            "Distinct numbers called per active day", unit="numbers/day",
            description_zh="活跃日日均拨打的不同号码数",
        ),
        "avg_call_seconds": Output(
            "Mean outgoing call duration", unit="seconds", description_zh="主叫平均通话时长"
        ),
        "sms_out_per_day": Output(
            "SMS sent per active day", unit="sms/day", description_zh="活跃日日均发送短信数"
        ),
        "sms_in_per_day": Output(
            "SMS received per active day", unit="sms/day",
            description_zh="活跃日日均接收短信数",
        ),
        "data_mb_per_day": Output(
            "Mobile data per active day", unit="MB/day", description_zh="活跃日日均移动数据流量"
        ),
        "share_days_away_from_home": Output(
            "Share of traffic days carried outside the holder's home province", unit="share", zh="异地使用",
            description_zh="有话务或流量的天数中在持证人户籍地省份以外产生的占比（异地使用）",
        ),
        "days_abroad": Output(
            "Days the SIM was roaming abroad", unit="days", zh="境外漫游",
            description_zh="号码境外漫游天数（境外漫游）",
        ),
    },
)
def sim_usage(t: Tables, ctx: FeatureContext) -> DataFrame:
    """Daily usage aggregates over the activity window, against the holder's home province."""
    cells = sim_cells(t, ctx)
    words = day_words(ctx)
    abroad = F.col("cell_region") == "ABROAD"
    away = away_from_home()
    zero = F.lit(0).cast("long")
    agg = cells.groupBy("msisdn").agg(
        *[F.bit_or(w).alias(f"all_{w}") for w in words],
        *[F.bit_or(F.when(away, F.col(w)).otherwise(zero)).alias(f"away_{w}") for w in words],
        *[F.bit_or(F.when(abroad, F.col(w)).otherwise(zero)).alias(f"abroad_{w}") for w in words],
        *[F.sum(c).alias(c) for c in CELL_SUMS],
    ).select(
        "*",
        count_days([F.col(f"all_{w}") for w in words]).alias("active_days"),
        count_days([F.col(f"away_{w}") for w in words]).alias("away_days"),
        count_days([F.col(f"abroad_{w}") for w in words]).alias("days_abroad"),
    )
    days = F.col("active_days").cast("double")
    return agg.select(
        F.lit(SIM.name).alias("entity_type"),
        F.col("msisdn").alias("entity_id"),
        "active_days",
        F.try_divide(F.col("calls_out"), days).alias("calls_out_per_day"),
        F.try_divide(F.col("calls_out").cast("double"), F.greatest(F.col("calls_in"), F.lit(1))).alias(
            "call_out_in_ratio"
        ),
        F.try_divide(F.col("callees"), days).alias("callees_per_day"),
        F.try_divide(F.col("call_secs").cast("double"), F.col("calls_out")).alias("avg_call_seconds"),
        F.try_divide(F.col("sms_out"), days).alias("sms_out_per_day"),
        F.try_divide(F.col("sms_in"), days).alias("sms_in_per_day"),
        F.try_divide(F.col("data_kb") / KB_PER_MB, days).alias("data_mb_per_day"),
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
            zh="同证号码同地占比",
            description_zh="本号码活跃日中，持证人另一号码也在同一区域的天数占比",
        ),
    },
)
def sim_colocation(t: Tables, ctx: FeatureContext) -> DataFrame:
    """A card someone else uses is never where the holder's own SIM is (null for single-SIM holders).

    Per holder and region, the days on which two or more of the holder's SIMs were there are the
    days a SIM shares with the SIMs before it (in any fixed order): a running ``bit_or`` window,
    no self-join. A SIM was colocated on its own days in that set.
    """
    words = day_words(ctx)
    per_region = (
        sim_cells(t, ctx)
        .where((F.col("n_sims") > 1) & F.col("id_hash").isNotNull() & F.col("cell_region").isNotNull())
        .groupBy("id_hash", "cell_region", "msisdn")
        .agg(*[F.bit_or(w).alias(w) for w in words])
    )
    place = Window.partitionBy("id_hash", "cell_region")
    before = place.orderBy("msisdn").rowsBetween(Window.unboundedPreceding, -1)
    zero = F.lit(0).cast("long")
    per_region = per_region.select(
        "id_hash", "cell_region", "msisdn", *words,
        *[(F.col(w).bitwiseAND(F.coalesce(F.bit_or(w).over(before), zero))).alias(f"dup_{w}") for w in words],
    ).select(
        "id_hash", "msisdn", *words,
        *[F.col(w).bitwiseAND(F.bit_or(f"dup_{w}").over(place)).alias(f"together_{w}") for w in words],
    )
    per_sim = per_region.groupBy("msisdn").agg(
        *[F.bit_or(w).alias(w) for w in words],
        *[F.bit_or(f"together_{w}").alias(f"together_{w}") for w in words],
    ).select(
        "msisdn",
        count_days([F.col(w) for w in words]).alias("days"),
        count_days([F.col(f"together_{w}") for w in words]).alias("together"),
    )
    return per_sim.select(
        F.lit(SIM.name).alias("entity_type"),
        F.col("msisdn").alias("entity_id"),
        F.try_divide(F.col("together").cast("double"), F.col("days")).alias("colocated_day_share"),
    )


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
            description_zh="开卡后`days_after_registration`天内在周边/东南亚国家漫游的天数"
            "（开卡后短期境外漫游）",
        ),
        "days_reg_to_abroad": Output(
            "Days from registration to the SIM's first day abroad in the window", unit="days", zh="开卡至出境天数",
            description_zh="开卡至统计窗口内首次境外漫游的天数（开卡至出境天数）",
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
        F.lit(SIM.name).alias("entity_type"),
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
            description_zh="活跃日日均主叫次数相对同年龄段持证人号码中位数的比值（(x+1)/(中位数+1)，"
            "通话强度与年龄不符）",
        ),
        "sms_out_vs_age_band": Output(
            "SMS sent per active day against the median of the holder's age band ((x+1)/(median+1))",
            unit="ratio",
            description_zh="活跃日日均发送短信数相对持证人所在年龄段中位数的比值（(x+1)/(中位数+1)）",
        ),
        "data_mb_vs_age_band": Output(
            "Mobile data per active day against the median of the holder's age band ((x+1)/(median+1))",
            unit="ratio",
            description_zh="活跃日日均移动数据流量相对持证人所在年龄段中位数的比值（(x+1)/(中位数+1)）",
        ),
        "away_vs_age_band": Output(
            "Share of SIMs whose holders are in the same age band used away from home on a smaller share of "
            "their days (high: rare for the holder's age)", unit="share", zh="异地使用与年龄不符",
            description_zh="同年龄段持证人的号码中，异地使用天数占比低于本号码的号码所占比例"
            "（越高越少见，异地使用与年龄不符）",
        ),
    },
)
def age_intensity(t: Tables, ctx: FeatureContext, band_years: int = 10) -> DataFrame:
    """A 75-year-old's SIM making 60 calls a day is not used by a 75-year-old.

    Usage per SIM is summed from ``sim_cells`` (the window's usage, already grouped by SIM). Medians
    per age band (`band_years` wide, age on the run date) are approximate percentiles of one
    aggregation over all SIMs with usage, a handful of rows joined back (no collect); the +1 keeps
    a band whose median is zero (no SMS) from dividing by zero. Null when the holder's age is unknown.

    A SIM on a 78-year-old's ID used away from home every day (老人卡 registered by an agent and
    carried off) is rare for its band where a 30-year-old's is not: ``away_vs_age_band`` is the share
    of the band's SIMs used away on a smaller share of their days (whole percent; 0 for a SIM never
    away), from a count per band and percent (at most 101 rows per band) joined back. Larger is
    never more honest, so it can take a monotone constraint (model.monotone_increasing).

    The per-SIM frame is kept (``memo``, released with the other derived frames once the feature
    table is written): three branches read it, and recomputing it cost about 4 s per 1M build.
    """
    words = day_words(ctx)
    zero = F.lit(0).cast("long")
    per_sim = memo(t, f"age_per_sim:{band_years}:{ctx.window_start}:{ctx.as_of}", lambda tt: (
        sim_cells(tt, ctx)
        .groupBy("msisdn", "id_hash")
        .agg(
            count_days([F.bit_or(w) for w in words]).alias("days"),
            count_days([F.bit_or(F.when(away_from_home(), F.col(w)).otherwise(zero)) for w in words]).alias("away"),
            F.sum("calls_out").alias("calls"),
            F.sum("sms_out").alias("sms"),
            (F.sum("data_kb") / KB_PER_MB).alias("mb"),
        )
        .join(holders(tt).select("id_hash", "birth_date"), "id_hash", "left")
        .select(
            "msisdn",
            (F.floor(age_on(F.col("birth_date"), F.lit(ctx.as_of)) / band_years) * band_years).alias("band"),
            (F.col("calls") / F.col("days")).alias("calls"),
            (F.col("sms") / F.col("days")).alias("sms"),
            (F.col("mb") / F.col("days")).alias("mb"),
            F.round(F.col("away") * 100 / F.col("days")).cast("int").alias("away_pct"),
        )
        .where(F.col("band").isNotNull())
    ))
    metrics = ("calls", "sms", "mb")
    medians = per_sim.groupBy("band").agg(
        *[F.percentile_approx(F.coalesce(F.col(m), F.lit(0.0)), 0.5).alias(f"{m}_median") for m in metrics]
    )
    band = Window.partitionBy("band")
    nearer = band.orderBy("away_pct").rowsBetween(Window.unboundedPreceding, -1)
    tails = per_sim.groupBy("band", "away_pct").count().select(
        "band", "away_pct",
        (F.coalesce(F.sum("count").over(nearer), F.lit(0)) / F.sum("count").over(band)).alias("away_vs_age_band"),
    )
    names = {"calls": "calls_out_vs_age_band", "sms": "sms_out_vs_age_band", "mb": "data_mb_vs_age_band"}
    return per_sim.join(F.broadcast(medians), "band").join(F.broadcast(tails), ["band", "away_pct"]).select(
        F.lit(SIM.name).alias("entity_type"),
        F.col("msisdn").alias("entity_id"),
        *[((F.col(m) + 1) / (F.col(f"{m}_median") + 1)).alias(names[m]) for m in metrics],
        "away_vs_age_band",
    )
