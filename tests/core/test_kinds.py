"""A third card kind, declared once, travels through assembly, the training set and the lists.

The payment account (支付账户) is declared here, in the test, with its source table's contract;
no module of jobs/, models/ or policy/ names it, yet its cards get the `is_payment` model input,
train on their labels, and reach a list of their own under their own key and recipient columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from realname_guard.core import contract, kinds
from realname_guard.core.config import FeatureSpec, ModelConfig, PolicyConfig
from realname_guard.core.contract import TableContract
from realname_guard.core.kinds import CardKind, register_kind
from realname_guard.features.assemble import build_features
from realname_guard.features.registry import FeatureContext
from realname_guard.jobs.score import LIST_COLUMNS, kind_lists, persons_list
from realname_guard.models.dataset import build_training_set
from realname_guard.policy.lists import apply_tiers, evidence
from tests.features.literal import AS_OF, LABELS_DDL, ts, world

PAYMENTS_CONTRACT = TableContract(
    name="payment_accounts",
    ddl=(
        "payment_id STRING, provider STRING, id_type STRING, id_number STRING, holder_name STRING, "
        "open_time TIMESTAMP, channel STRING, agent_id STRING, agent_region STRING, status STRING, "
        "close_time TIMESTAMP"
    ),
    key=("payment_id",),
    required=False,
    pii=("id_number", "holder_name"),
    alias="payments",
    event_time="open_time",
    name_column="holder_name",
    as_of="since",
)
PAYMENT = CardKind(
    name="PAYMENT",
    table="payments",
    key="payment_id",
    recipient="provider",
    list_name="flagged_payments",
    plural="payments",
    opened_at="open_time",
    closed_status="CLOSED",
    closed_at="close_time",
    restricted_status="FROZEN",
    site="agent_id",
    site_region="agent_region",
    model_input="is_payment",
    description="Card is a payment account",
)
# The post-ingest shape: ID number hashed, masked and parsed; the name normalised.
PAYMENTS_DDL = (
    "payment_id STRING, provider STRING, id_type STRING, id_hash STRING, id_masked STRING, id_birth_date DATE, "
    "id_gender STRING, id_region STRING, name_norm STRING, open_time TIMESTAMP, channel STRING, agent_id STRING, "
    "agent_region STRING, status STRING, close_time TIMESTAMP"
)
GROUPS = (FeatureSpec("holder_cards"), FeatureSpec("card_registration"), FeatureSpec("registration_limits"))


@pytest.fixture
def payment_kind() -> Iterator[CardKind]:
    register_kind(PAYMENT, PAYMENTS_CONTRACT)
    try:
        yield PAYMENT
    finally:
        del kinds._KINDS[PAYMENT.name]
        del contract.TABLES[PAYMENTS_CONTRACT.name]


def payments(spark: SparkSession) -> DataFrame:
    born = dt.date(2001, 2, 3)
    rows = [
        # Holder B (the farmer-like burst of tests.features.literal) opens three wallets in a day.
        (f"pay{i}", "ALIPAY", "RESIDENT_ID", "B", "4401**11", born, "F", "440106", "李娜", ts(22, hour=9 + i),
         "AGENT", "ag1", "530102", "ACTIVE", None)
        for i in range(3)
    ] + [
        ("pay9", "WECHATPAY", "RESIDENT_ID", "A", "1101**2X", dt.date(1960, 5, 1), "M", "110105", "张伟",
         ts(1, month=2), "ONLINE", None, None, "ACTIVE", None),
    ]
    return spark.createDataFrame(rows, PAYMENTS_DDL)


def test_a_third_kind_reaches_features_training_and_its_own_list(spark: SparkSession, payment_kind: CardKind) -> None:
    tables = world(spark).with_(payments=payments(spark))
    fs = build_features(tables, FeatureContext(as_of=AS_OF), GROUPS)

    # Assembly: the kind's cards are rows of the feature table with their own model input.
    assert fs.columns[:2] == ("is_account", "is_payment")
    rows = {r.entity_id: r for r in fs.frame.where(F.col("entity_type") == "PAYMENT").collect()}
    assert sorted(rows) == ["pay0", "pay1", "pay2", "pay9"]
    assert {(r.recipient, r.is_payment, r.is_account) for r in rows.values()} == {
        ("ALIPAY", 1.0, 0.0), ("WECHATPAY", 1.0, 0.0)
    }
    assert fs.frame.where("entity_type = 'SIM'").agg(F.max("is_payment")).first()[0] == 0.0
    # The shared card shape counts them: B's three wallets were opened within a day of each other.
    assert rows["pay0"].cards_opened_within_1d >= 2.0
    assert rows["pay0"].sims_over_operator_limit is None  # a SIM limit says nothing of a wallet
    # ...and as cards of their holder, though neither SIMs nor accounts.
    holder_b = fs.frame.where("id_hash = 'B'").select("sims_total", "accounts_total").distinct().collect()
    sims_b = tables.sims.where("id_hash = 'B'").count()
    accounts_b = tables.accounts.where("id_hash = 'B'").count()
    assert [(r.sims_total, r.accounts_total) for r in holder_b] == [(float(sims_b), float(accounts_b))]

    # The training set: labels on the new kind are matched to its cards.
    t = dt.datetime
    labels = spark.createDataFrame(
        [
            ("PAYMENT", "pay0", 1, t(2026, 6, 24), "POLICE_NOTICE"),
            ("PAYMENT", "pay1", 1, t(2026, 6, 27), "POLICE_NOTICE"),
            ("PAYMENT", "pay9", 0, t(2026, 6, 26), "REVERIFY_PASSED"),
            ("SIM", "13900000001", 1, t(2026, 6, 23), "POLICE_NOTICE"),
            ("SIM", "13800000001", 0, t(2026, 6, 28), "REVERIFY_PASSED"),
        ],
        LABELS_DDL,
    )
    cfg = ModelConfig(min_positives=1, negatives_per_positive=None, unlabeled_negative_rate=0.0,
                      validation_fraction=0.5)
    training = build_training_set(fs.frame, labels, AS_OF, cfg)
    got = {(r.entity_type, r.entity_id): r.label for r in training.collect()}
    assert got[("PAYMENT", "pay0")] == 1 and got[("PAYMENT", "pay1")] == 1 and got[("PAYMENT", "pay9")] == 0
    assert "is_payment" in training.columns

    # The lists: the new kind is decided like any card and listed apart, under payment_id/provider.
    scored = fs.frame.select(
        "entity_type", "entity_id", "recipient", "id_hash", "id_masked", "opened_at", "closed",
        F.when(F.col("entity_id") == "pay2", 0.97).otherwise(0.05).alias("score"),
    )
    policy = PolicyConfig(rules=("CONFIRMED_MISUSE",), list_on_rules=("CONFIRMED_MISUSE",))
    ev = evidence(scored, labels, None, policy, AS_OF)
    decisions = apply_tiers(ev, (0.95, 0.8), policy, AS_OF)
    listed = decisions.where("listed")
    assert {(r.entity_type, r.entity_id) for r in listed.collect()} >= {
        ("PAYMENT", "pay0"), ("PAYMENT", "pay1"), ("PAYMENT", "pay2")
    }
    explained = listed.select(
        "*",
        F.array(F.lit("burst of cards")).alias("reasons"),
        F.lit("m").alias("model_name"), F.lit("1").alias("model_version"), F.lit("run").alias("run_id"),
    ).select("entity_type", "entity_id", "recipient", "score", *LIST_COLUMNS)
    lists = {kind.list_name: frame for kind, frame in kind_lists(explained)}
    assert set(lists) == {"flagged_sims", "flagged_accounts", "flagged_payments"}
    own = lists["flagged_payments"]
    assert own.columns == ["payment_id", *LIST_COLUMNS, "provider"]
    assert {r.payment_id for r in own.collect()} == {"pay0", "pay1", "pay2"}
    assert "pay2" not in {r[0] for r in lists["flagged_sims"].collect()}

    persons = {r.id_hash: r for r in persons_list(decisions, explained).collect()}
    assert persons["B"].payments_held == 3 and persons["B"].payments_flagged == 3
