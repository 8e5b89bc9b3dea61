"""Shared shapes for feature functions: the as-of view, cards and holders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import reduce

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from realname_guard.core.contract import TableContract, by_alias
from realname_guard.core.identity import province
from realname_guard.core.kinds import CardKind, kinds
from realname_guard.core.tables import Tables
from realname_guard.features.registry import FeatureContext

_LONG_AGO = dt.datetime(1900, 1, 1)  # closing time of a card closed with no time given

DAY_WORD_BITS = 64  # days per bit-set word: one bit per day of the activity window
KB_PER_MB = 1000  # decimal kilobytes: 0.1 MB is 100 kB exactly
# Usage counters of ``sim_cells``: its column name, the activity column it sums, and how many of
# the sum's units make one of the column's (1 for counts; kB per MB for data). Every one is a whole
# number: data volume (megabytes, a double in the contract) is summed in whole kilobytes,
# ``data_kb``. A sum of doubles depends on the order a shuffle delivers its rows, and the last bits
# of a value on a split's threshold moved cards between the lists of two runs of one date (local
# mode against a cluster, 1M persons); a sum of longs does not.
CELL_SUMS: dict[str, tuple[str, int]] = {
    "calls_out": ("calls_out", 1),
    "calls_in": ("calls_in", 1),
    "call_secs": ("call_out_seconds", 1),
    "callees": ("distinct_callees", 1),
    "sms_out": ("sms_out", 1),
    "sms_in": ("sms_in", 1),
    "data_kb": ("data_mb", KB_PER_MB),
}


def cell_sum_source(name: str) -> Column:
    """What ``sim_cells`` sums into `name`: the activity column in whole units of its counter."""
    column, per_unit = CELL_SUMS[name]
    src = F.col(column)
    return src if per_unit == 1 else F.round(src * per_unit).cast("long")


def as_of_view(t: Tables, ctx: FeatureContext) -> Tables:
    """Only what was known by the end of the as-of date (point-in-time correctness).

    Cards registered later do not exist yet; usage and transactions are limited to the
    activity window ending on the as-of date; labels that became known later are invisible.
    Each table's rule is its contract's ``as_of`` (core.contract).
    """
    return Tables({name: _as_of(df, by_alias(name), ctx) for name, df in t.frames().items()})


def _as_of(df: DataFrame, contract: TableContract, ctx: FeatureContext) -> DataFrame:
    if contract.as_of == "always" or contract.event_time is None:
        return df
    event = F.col(contract.event_time)
    is_day = contract.types[contract.event_time] == "DATE"
    # A DATE is known on its day; a TIMESTAMP strictly before the end of the as-of day.
    known = event <= F.lit(ctx.as_of) if is_day else event < ctx.as_of_end
    if contract.as_of == "since":
        return df.where(known)
    start = F.lit(ctx.window_start)
    return df.where(known & (event >= (start if is_day else start.cast("timestamp"))))


def memo(t: Tables, name: str, build: Callable[[Tables], DataFrame]) -> DataFrame:
    """Build a derived frame once per Tables and keep it cached: several groups (or branches) read it."""
    if name not in t.derived:
        t.derived[name] = build(t).persist(StorageLevel.MEMORY_AND_DISK)
    return t.derived[name]


def release(t: Tables) -> None:
    """Drop the cached derived frames (after the feature table is written)."""
    for df in t.derived.values():
        df.unpersist()
    t.derived.clear()


def cards(t: Tables) -> DataFrame:
    """SIMs and accounts in one shape: who holds it, when and where it was opened, by what channel.

    Cached partitioned by the holder (``id_hash``) into the session's shuffle partitions: once
    filled, per-holder windows, aggregates and joins over it need no shuffle of their own, and
    every group reading it starts from that many parts of even size (at 1M persons on 2 cores the
    union of the two scans gave 5 parts).
    """
    return memo(t, "cards", lambda tt: _cards(tt).repartition("id_hash"))


def holders(t: Tables) -> DataFrame:
    """One row per ID holder: attributes parsed from the ID, overridden by the registry's record.

    ``home_region`` is the household registration region (户籍地) when the registry has it,
    else the region of issue encoded in the ID number.
    """
    return memo(t, "holders", _holders)


def parsed_ids(t: Tables) -> DataFrame:
    """What the ID number itself says, one row per ID: ``id_region`` (of issue), ``id_birth_date``,
    ``id_gender``, as parsed at ingest (``holders`` overrides them with the registry's record)."""
    return memo(t, "parsed_ids", _parsed_ids)


def txn_device_pairs(t: Tables) -> DataFrame:
    """One row per account and transaction device in the window: ``ak`` (``account_key``),
    ``account_id``, ``device_id``, ``txns`` (its transactions from that device) and the account's
    ``id_hash`` (null for an account not registered by the as-of date)."""
    return memo(t, "txn_device_pairs", _txn_device_pairs)


def account_key() -> Column:
    """A 64-bit hash of the account number, leading the account's shuffle and sort keys: card
    numbers share their first eight digits within a bank, so a sort by the number alone cannot
    settle comparisons on its 8-byte prefix. The number stays in the key (no collisions)."""
    return F.xxhash64("account_id").alias("ak")


def sim_owners(t: Tables) -> DataFrame:
    """One row per SIM: its holder, the holder's home region and how many SIMs the holder has."""
    return memo(t, "sim_owners", _sim_owners)


def sim_cells(t: Tables, ctx: FeatureContext) -> DataFrame:
    """SIM activity in the window, pre-aggregated once per (SIM, cell region, handset).

    Shared by the activity groups instead of each re-reading and re-shuffling the activity rows.
    Carries the owner columns of ``sim_owners`` (SIMs not registered on the as-of date drop out),
    the sums of the usage counters, and the days seen as a bit set (``day_words``: bit ``i`` of
    word ``w`` is day ``window_start + 64 w + i``), so that counting distinct days is a
    ``bit_or`` and a ``bit_count``, exact, and never an expanding ``count(DISTINCT day)``.
    """
    key = f"sim_cells:{ctx.window_start}:{ctx.as_of}"
    return memo(t, key, lambda tt: _sim_cells(tt, ctx))


def day_words(ctx: FeatureContext) -> list[str]:
    """Names of the bit-set words of ``sim_cells`` (one per 64 days of the window)."""
    n = (ctx.activity_window_days + DAY_WORD_BITS - 1) // DAY_WORD_BITS
    return [f"day_bits{w}" for w in range(max(n, 1))]


def day_bits(day: Column, ctx: FeatureContext) -> list[Column]:
    """Aggregates: the days `day` takes in the window as a bit set, one ``bit_or`` per word of
    ``day_words`` (null days and days outside the window set no bit)."""
    offset = F.datediff(day, F.lit(ctx.window_start))
    return [
        F.bit_or(
            F.when(
                (offset >= w * DAY_WORD_BITS) & (offset < (w + 1) * DAY_WORD_BITS),
                F.call_function("shiftleft", F.lit(1).cast("long"), offset - w * DAY_WORD_BITS),
            ).otherwise(F.lit(0).cast("long"))
        ).alias(name)
        for w, name in enumerate(day_words(ctx))
    ]


def away_from_home() -> Column:
    """A row of ``sim_cells`` carried abroad or in another province than the holder's home (false
    when either region is unknown)."""
    cell_prov, home_prov = province(F.col("cell_region")), province(F.col("home_region"))
    abroad = F.col("cell_region") == "ABROAD"
    return abroad | (cell_prov.isNotNull() & home_prov.isNotNull() & (cell_prov != home_prov))


def count_days(words: list[Column]) -> Column:
    """Days in a bit set given as words (a long, like ``count(DISTINCT day)``)."""
    return reduce(lambda a, b: a + b, [F.coalesce(F.bit_count(w), F.lit(0)) for w in words]).cast("long")


def _sim_owners(t: Tables) -> DataFrame:
    sims = t.sims.select("msisdn", "id_hash").withColumn(
        "n_sims", F.count(F.lit(1)).over(Window.partitionBy("id_hash"))
    )
    return sims.join(holders(t).select("id_hash", "home_region"), "id_hash", "left")


def _sim_cells(t: Tables, ctx: FeatureContext) -> DataFrame:
    day = F.col("day")
    # Rows outside the window have no bit; the as-of view has already dropped them.
    act = t.get("activity").where((day >= F.lit(ctx.window_start)) & (day <= F.lit(ctx.as_of)))
    words = day_bits(day, ctx)
    cells = act.groupBy("msisdn", "cell_region", "imei").agg(
        *words, *[F.sum(cell_sum_source(name)).alias(name) for name in CELL_SUMS]
    )
    # A hash join built on the owners (one row per SIM) instead of sorting both sides by the
    # phone number, whose 8-byte sort prefix is shared by a whole number block.
    return cells.join(sim_owners(t).hint("shuffle_hash"), "msisdn")


def _txn_device_pairs(t: Tables) -> DataFrame:
    pairs = (
        t.get("transactions")
        .where(F.col("device_id").isNotNull())
        .groupBy(account_key(), "account_id", "device_id")
        .agg(F.count(F.lit(1)).alias("txns"))
    )
    owners = t.accounts.select(account_key(), "account_id", "id_hash")
    return pairs.join(owners.hint("shuffle_hash"), ["ak", "account_id"], "left")


def card_tables(t: Tables) -> list[tuple[CardKind, DataFrame]]:
    """Each card kind with its delivered source table (SIMs and accounts are always delivered)."""
    return [(k, t.get(k.table)) for k in kinds() if t.has(k.table)]


def _cards(t: Tables) -> DataFrame:
    def shape(k: CardKind, df: DataFrame) -> DataFrame:
        face = F.col(k.face_verified) if k.face_verified else F.lit(None).cast("boolean")
        return df.select(
            F.lit(k.name).alias("entity_type"),
            F.col(k.key).alias("entity_id"),
            F.col(k.recipient).alias("recipient"),
            "id_hash",
            F.col(k.opened_at).alias("opened_at"),
            F.col(k.channel).alias("channel"),
            F.col(k.site).alias("site_id"),
            F.col(k.site_region).alias("site_region"),
            face.alias("face_verified"),
            "name_norm",
            # When the card was closed (null: open). A closed status without a time counts as
            # closed since ever, as in the entity base.
            F.when(
                F.col(k.status) == k.closed_status, F.coalesce(F.col(k.closed_at), F.lit(_LONG_AGO))
            ).alias("closed_at"),
        )

    return reduce(DataFrame.unionByName, [shape(k, df) for k, df in card_tables(t)])


def _parsed_ids(t: Tables) -> DataFrame:
    cols = ("id_hash", "id_region", "id_birth_date", "id_gender")
    return (
        reduce(DataFrame.unionByName, [df.select(*cols) for _, df in card_tables(t)])
        .groupBy("id_hash")
        .agg(
            F.min("id_region").alias("id_region"),
            F.min("id_birth_date").alias("id_birth_date"),
            F.min("id_gender").alias("id_gender"),
        )
    )


def _holders(t: Tables) -> DataFrame:
    # Its own parse, not the cached ``parsed_ids``: the core groups read only the holders, and one
    # cache is enough for them.
    parsed = _parsed_ids(t)
    if t.registry is None:
        return parsed.select(
            "id_hash",
            F.col("id_region").alias("home_region"),
            F.col("id_birth_date").alias("birth_date"),
            F.col("id_gender").alias("gender"),
            F.lit(None).cast("string").alias("id_status"),
            F.lit(None).cast("string").alias("registry_name"),
        )
    reg = t.registry.select(
        "id_hash",
        F.col("hukou_region").alias("r_region"),
        F.col("birth_date").alias("r_birth"),
        F.col("gender").alias("r_gender"),
        "id_status",
        F.col("name_norm").alias("registry_name"),
    )
    return parsed.join(reg, "id_hash", "left").select(
        "id_hash",
        F.coalesce("r_region", "id_region").alias("home_region"),
        F.coalesce("r_birth", "id_birth_date").alias("birth_date"),
        F.coalesce("r_gender", "id_gender").alias("gender"),
        "id_status",
        "registry_name",
    )
