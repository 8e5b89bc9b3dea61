"""Registration: how many cards an ID holds, how and when they were opened, and the SIM limits
(一证五户) they exceed.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from realname_guard.core.identity import age_on, province
from realname_guard.core.kinds import ACCOUNT, SIM
from realname_guard.core.tables import Tables
from realname_guard.features.common import cards, holders
from realname_guard.features.registry import FeatureContext, Output, feature

_DAY = 86400


@feature(
    "registration_limits",
    level="card",
    needs=("sims", "accounts"),
    outputs={
        "sims_over_operator_limit": Output(
            "Open SIMs this ID holds at the card's operator beyond the per-operator limit (一证五户)",
            zh="超一证五户",
            description_zh="该证件在本卡运营商的在用号码数超出单运营商上限的部分（一证五户）",
        ),
        "sims_over_total_limit": Output(
            "Open SIMs this ID holds across operators beyond the total limit", zh="一证多号",
            description_zh="该证件在各运营商的在用号码合计超出总量上限的部分（一证多号）",
        ),
        "cards_opened_within_1d": Output(
            "Other cards of this ID opened within a day of this one", zh="集中开卡",
            description_zh="该证件在本卡开立前后1天内开立的其他卡数（集中开卡）",
        ),
        "cards_opened_within_30d": Output(
            "Other cards of this ID opened within 30 days of this one",
            description_zh="该证件在本卡开立前后30天内开立的其他卡数",
        ),
    },
)
def registration_limits(t: Tables, ctx: FeatureContext) -> DataFrame:
    """Excess over the policy's SIM limits (per operator, with its overrides, and in total),
    counting the SIMs open on the as-of date (a cancelled number is no longer held), and bursts
    of cards around each card; SIM columns null for accounts."""
    overrides = ctx.sims_per_operator_limit_overrides
    total_limit = ctx.sims_total_limit
    limit = F.lit(ctx.sims_per_operator_limit)
    if overrides:
        pairs = [F.lit(x) for kv in sorted(overrides.items()) for x in kv]
        limit = F.coalesce(F.create_map(*pairs)[F.col("recipient")], limit)
    is_sim = F.col("entity_type") == SIM.name
    is_open = (F.col("closed_at").isNull() | (F.col("closed_at") >= ctx.as_of_end)).cast("int")
    secs = F.col("opened_at").cast("long")
    around = {
        days: Window.partitionBy("id_hash").orderBy(secs).rangeBetween(-days * _DAY, days * _DAY) for days in (1, 30)
    }
    per_operator = Window.partitionBy("id_hash", "entity_type", "recipient")
    per_holder = Window.partitionBy("id_hash", "entity_type")
    return (
        cards(t)
        .withColumn("same_op", F.sum(is_open).over(per_operator))
        .withColumn("same_type", F.sum(is_open).over(per_holder))
        .select(
            "entity_type",
            "entity_id",
            F.when(is_sim, F.greatest(F.col("same_op") - limit, F.lit(0))).alias("sims_over_operator_limit"),
            F.when(is_sim, F.greatest(F.col("same_type") - F.lit(total_limit), F.lit(0))).alias(
                "sims_over_total_limit"
            ),
            (F.count(F.lit(1)).over(around[1]) - 1).alias("cards_opened_within_1d"),
            (F.count(F.lit(1)).over(around[30]) - 1).alias("cards_opened_within_30d"),
        )
    )


@feature(
    "account_limits",
    level="card",
    needs=("accounts",),
    outputs={
        "class_i_over_bank_limit": Output(
            "Open Class-I accounts this ID holds at the account's bank beyond the limit (一人一行一类户)",
            zh="超一人一行一类户",
            description_zh="该证件在本账户所属银行的在用I类户数超出上限的部分（一人一行一类户）",
        ),
    },
)
def account_limits(t: Tables, ctx: FeatureContext) -> DataFrame:
    """Per Class-I account: the open Class-I accounts of its holder at its bank beyond the policy's
    limit (``accounts_class_i_per_bank_limit``, one by the 2016 rule); 0 for Class II and III."""
    a = t.accounts
    is_open = ~(
        (F.col(ACCOUNT.status) == ACCOUNT.closed_status)
        & F.coalesce(F.col(ACCOUNT.closed_at) < ctx.as_of_end, F.lit(True))
    )
    class_i = F.col("account_class") == "I"
    per_bank = Window.partitionBy("id_hash", ACCOUNT.recipient)
    held = F.sum((class_i & is_open).cast("int")).over(per_bank)
    return a.select(
        F.lit(ACCOUNT.name).alias("entity_type"),
        F.col(ACCOUNT.key).alias("entity_id"),
        F.when(class_i, F.greatest(held - F.lit(ctx.accounts_class_i_per_bank_limit), F.lit(0)))
        .otherwise(F.lit(0))
        .alias("class_i_over_bank_limit"),
    )


@feature(
    "holder_channels",
    level="holder",
    needs=("sims", "accounts"),
    outputs={
        "holder_noface_sim_share": Output(
            "Share of the ID's SIMs registered without a live face check", unit="share", zh="未人证比对占比",
            description_zh="该证件名下号码中未经活体人证比对登记的占比（未人证比对占比）",
        ),
        "holder_agent_card_share": Output(
            "Share of the ID's SIMs and accounts opened through agents", unit="share", zh="代理渠道占比",
            description_zh="该证件名下号码和银行账户中经代理商渠道开立的占比（代理渠道占比）",
        ),
    },
)
def holder_channels(t: Tables, ctx: FeatureContext) -> DataFrame:
    """How the ID's cards were opened; a null face check counts as none, as in card_registration."""
    is_sim = F.col("entity_type") == SIM.name
    return (
        cards(t)
        .groupBy("id_hash")
        .agg(
            F.avg(F.when(is_sim, (~F.coalesce(F.col("face_verified"), F.lit(False))).cast("double"))).alias(
                "holder_noface_sim_share"
            ),
            F.avg((F.col("channel") == "AGENT").cast("double")).alias("holder_agent_card_share"),
        )
    )


@feature(
    "holder_cards",
    level="holder",
    needs=("sims", "accounts"),
    outputs={
        "sims_total": Output(
            "SIMs registered to this ID across operators", zh="一证多号",
            description_zh="该证件在各运营商登记的号码总数（一证多号）",
        ),
        "sim_operators": Output(
            "Operators holding a SIM of this ID", description_zh="该证件名下有号码的运营商数"
        ),
        "accounts_total": Output(
            "Bank accounts opened under this ID", description_zh="该证件名下开立的银行账户数"
        ),
        "banks_distinct": Output(
            "Banks holding an account of this ID", description_zh="该证件名下有账户的银行数"
        ),
        "cards_opened_30d": Output(
            "SIMs and accounts this ID opened in the 30 days to the run date",
            description_zh="截至运行日的30天内该证件开立的号码和银行账户数",
        ),
    },
)
def holder_cards(t: Tables, ctx: FeatureContext) -> DataFrame:
    """Card counts per ID holder in one aggregation over SIMs and accounts together.

    Counted per (holder, card type, operator or bank) first and summed per holder: a distinct
    operator is one of those rows, so no ``count(DISTINCT ...)`` (which would expand the cards
    once per distinct column before the shuffle).
    """
    recent = F.col("opened_at") >= F.lit(ctx.as_of).cast("timestamp") - F.expr("INTERVAL 29 DAYS")
    is_sim = F.col("entity_type") == SIM.name
    is_account = F.col("entity_type") == ACCOUNT.name
    per_recipient = (
        cards(t)
        .groupBy("id_hash", "entity_type", "recipient")
        .agg(F.count(F.lit(1)).alias("n"), F.sum(recent.cast("int")).alias("n_recent"))
    )
    has_recipient = F.col("recipient").isNotNull()
    return per_recipient.groupBy("id_hash").agg(
        F.sum(F.when(is_sim, F.col("n")).otherwise(0)).alias("sims_total"),
        F.count(F.when(is_sim & has_recipient, F.lit(1))).alias("sim_operators"),
        F.sum(F.when(is_account, F.col("n")).otherwise(0)).alias("accounts_total"),
        F.count(F.when(is_account & has_recipient, F.lit(1))).alias("banks_distinct"),
        F.sum("n_recent").alias("cards_opened_30d"),
    )


@feature(
    "card_registration",
    level="card",
    needs=("sims", "accounts"),
    outputs={
        "sims_same_operator": Output(
            "SIMs this ID holds at the same operator (一证五户 limit)", zh="同运营商号码数",
            description_zh="该证件在本卡运营商名下的号码数（一证五户限额）",
        ),
        "cards_opened_7d_before": Output(
            "Cards this ID opened in the 7 days up to this one", zh="短期集中开卡",
            description_zh="截至本卡开立的7天内该证件开立的卡数（短期集中开卡）",
        ),
        "opened_via_agent": Output(
            "Opened through an agent", unit="flag", zh="代理商渠道", description_zh="经代理商渠道开立"
        ),
        "opened_remotely": Output(
            "Opened online or in an app, not in person", unit="flag",
            description_zh="线上或App开立，非现场办理",
        ),
        "opened_corporate": Output(
            "Registered to a company (corporate/IoT channel)", unit="flag", zh="单位证件",
            description_zh="以单位证件登记（政企/物联网渠道）",
        ),
        "no_face_check": Output(
            "SIM registered without a live face check", unit="flag", zh="未人证比对",
            description_zh="号码登记时未经活体人证比对（未人证比对）",
        ),
        "site_far_from_home": Output(
            "Opened in a province other than the holder's home province", unit="flag", zh="异地开卡",
            description_zh="开卡省份不是持证人户籍地省份（异地开卡）",
        ),
        "age_at_opening": Output(
            "Holder's age when the card was opened", unit="years", description_zh="开卡时持证人年龄"
        ),
        "card_age_days": Output(
            "Days since the card was opened", unit="days", description_zh="开卡至今的天数"
        ),
    },
)
def card_registration(t: Tables, ctx: FeatureContext) -> DataFrame:
    """Per card: the ID's SIMs at this operator, the burst it was opened in, channel and place."""
    c = cards(t)
    open_secs = F.col("opened_at").cast("long")
    burst = Window.partitionBy("id_hash").orderBy(open_secs).rangeBetween(-7 * _DAY, 0)
    per_operator = Window.partitionBy("id_hash", "entity_type", "recipient")
    h = holders(t).select("id_hash", "home_region", "birth_date")
    is_sim = F.col("entity_type") == SIM.name
    return (
        c.withColumn("cards_7d", F.count(F.lit(1)).over(burst) - 1)
        .withColumn("same_op", F.count(F.lit(1)).over(per_operator))
        .join(h, "id_hash", "left")
        .select(
            "entity_type",
            "entity_id",
            F.when(is_sim, F.col("same_op")).alias("sims_same_operator"),
            F.col("cards_7d").alias("cards_opened_7d_before"),
            (F.col("channel") == "AGENT").cast("int").alias("opened_via_agent"),
            F.col("channel").isin("ONLINE", "MOBILE_APP").cast("int").alias("opened_remotely"),
            (F.col("channel") == "CORPORATE").cast("int").alias("opened_corporate"),
            F.when(is_sim, (~F.coalesce(F.col("face_verified"), F.lit(False))).cast("int")).alias("no_face_check"),
            F.when(
                province(F.col("site_region")).isNotNull() & province(F.col("home_region")).isNotNull(),
                (province(F.col("site_region")) != province(F.col("home_region"))).cast("int"),
            ).alias("site_far_from_home"),
            age_on(F.col("birth_date"), F.col("opened_at")).alias("age_at_opening"),
            F.datediff(F.lit(ctx.as_of), F.to_date("opened_at")).alias("card_age_days"),
        )
    )
