"""Each feature group on the literal world of tests/features/literal.py, whole results asserted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from realname_guard.core.config import FeatureSpec
from realname_guard.features.assemble import build_features
from realname_guard.features.common import as_of_view
from realname_guard.features.registry import FeatureContext, registry
from tests.features.literal import ACTIVITY_DDL, AS_OF, LABELS_DDL, SIMS_DDL, TXNS_DDL, d, ts, world

CTX = FeatureContext(as_of=AS_OF, activity_window_days=30)


def run_group(spark: SparkSession, name: str):
    t = as_of_view(world(spark), CTX)
    return registry()[name].fn(t, CTX)


def test_holder_identity(spark: SparkSession) -> None:
    expected = spark.createDataFrame(
        [("A", 66, 1, 0), ("B", 25, 0, 0), ("C", 76, 1, 1)],
        "id_hash STRING, holder_age INT, holder_is_elderly INT, id_status_invalid INT",
    )
    assertDataFrameEqual(run_group(spark, "holder_identity"), expected)


def test_holder_cards(spark: SparkSession) -> None:
    expected = spark.createDataFrame(
        [("A", 2, 2, 1, 1, 0), ("B", 2, 1, 2, 2, 4), ("C", 1, 1, 0, 0, 1)],
        "id_hash STRING, sims_total LONG, sim_operators LONG, accounts_total LONG, banks_distinct LONG, "
        "cards_opened_30d LONG",
    )
    assertDataFrameEqual(run_group(spark, "holder_cards"), expected)


def test_card_registration(spark: SparkSession) -> None:
    rows = [
        ("SIM", "13800000001", 1, 0, 0, 0, 0, 0, 0, 65, 180),
        ("SIM", "13800000002", 1, 0, 0, 0, 0, 0, 0, 65, 121),
        ("ACCOUNT", "acc-A1", None, 0, 0, 0, 0, None, 0, 65, 149),
        ("SIM", "13900000001", 2, 0, 1, 0, 0, 1, 1, 25, 10),
        ("SIM", "13900000002", 2, 1, 1, 0, 0, 1, 1, 25, 9),
        ("ACCOUNT", "acc-B1", None, 2, 0, 1, 0, None, 0, 25, 8),
        ("ACCOUNT", "acc-B2", None, 3, 0, 1, 0, None, 0, 25, 8),
        # face_verified null counts as no face check; C's SIM was cancelled after it existed.
        ("SIM", "13700000001", 1, 0, 1, 0, 0, 1, 0, 76, 5),
    ]
    expected = spark.createDataFrame(
        rows,
        "entity_type STRING, entity_id STRING, sims_same_operator LONG, cards_opened_7d_before LONG, "
        "opened_via_agent INT, opened_remotely INT, opened_corporate INT, no_face_check INT, "
        "site_far_from_home INT, age_at_opening INT, card_age_days INT",
    )
    assertDataFrameEqual(run_group(spark, "card_registration"), expected)


def test_reserved_phone(spark: SparkSession) -> None:
    expected = spark.createDataFrame(
        [
            ("ACCOUNT", "acc-A1", 0, 2, None),
            ("ACCOUNT", "acc-B1", 1, 2, None),  # reserves A's number
            ("ACCOUNT", "acc-B2", None, None, None),  # no reserved phone: unknown, not "no"
            ("SIM", "13800000001", None, None, 1),
            ("SIM", "13800000002", None, None, 0),
            ("SIM", "13900000001", None, None, 0),
            ("SIM", "13900000002", None, None, 0),
            ("SIM", "13700000001", None, None, 0),
        ],
        "entity_type STRING, entity_id STRING, reserved_phone_other_id INT, reserved_phone_ids INT, "
        "sim_reserved_by_other_ids LONG",
    )
    assertDataFrameEqual(run_group(spark, "reserved_phone"), expected)


def test_device_sharing(spark: SparkSession) -> None:
    expected = spark.createDataFrame(
        [
            # 13800000001 stays in imeiA (two days); box1's three SIMs pass through it a day each
            # (a shop's handset), so box1 counts none of them.
            ("SIM", "13800000001", 1, 1, 1),
            ("SIM", "13900000001", 1, 0, 0),
            ("SIM", "13900000002", 1, 0, 0),
            ("SIM", "13700000001", 1, 0, 0),
        ],
        "entity_type STRING, entity_id STRING, imei_count LONG, imei_max_ids LONG, imei_max_sims LONG",
    )
    assertDataFrameEqual(run_group(spark, "device_sharing"), expected)


def test_device_sharing_counts_the_sims_that_stayed_in_a_handset(spark: SparkSession) -> None:
    """box1 keeps two of B's SIMs and one of A's for two days each (a SIM box) and sees C's SIM on
    one day: it counts three SIMs of two IDs, and C's SIM, which passed through, sees them too."""
    activity = spark.createDataFrame(
        [
            ("13800000001", d(28), "imeiA", "110105", None, 4, 5, 400, 3, 1, 2, 100.0),
            ("13800000001", d(29), "imeiA", "110108", None, 2, 3, 200, 2, 0, 1, 50.0),
            *[(sim, d(day), "box1", "ABROAD", "MM", 60, 0, 1800, 55, 0, 0, 0.0)
              for sim, days in (("13900000001", (27, 28)), ("13900000002", (28, 29)), ("13800000002", (27, 29)))
              for day in days],
            ("13700000001", d(26), "box1", "530102", None, 10, 0, 300, 9, 0, 0, 1.0),
        ],
        ACTIVITY_DDL,
    )
    t = as_of_view(world(spark).with_(activity=activity), CTX)
    expected = spark.createDataFrame(
        [
            ("SIM", "13800000001", 1, 1, 1),
            ("SIM", "13800000002", 1, 2, 3),
            ("SIM", "13900000001", 1, 2, 3),
            ("SIM", "13900000002", 1, 2, 3),
            ("SIM", "13700000001", 1, 2, 3),
        ],
        "entity_type STRING, entity_id STRING, imei_count LONG, imei_max_ids LONG, imei_max_sims LONG",
    )
    assertDataFrameEqual(registry()["device_sharing"].fn(t, CTX), expected)


def test_sim_usage(spark: SparkSession) -> None:
    expected = spark.createDataFrame(
        [
            ("SIM", "13800000001", 2, 3.0, 0.75, 2.5, 100.0, 0.5, 1.5, 75.0, 0.0, 0),
            ("SIM", "13900000001", 1, 60.0, 60.0, 55.0, 30.0, 0.0, 0.0, 0.0, 1.0, 1),
            ("SIM", "13900000002", 1, 40.0, 20.0, 40.0, 25.0, 0.0, 0.0, 0.0, 1.0, 1),
            ("SIM", "13700000001", 1, 10.0, 10.0, 9.0, 30.0, 0.0, 0.0, 1.0, 1.0, 0),
        ],
        "entity_type STRING, entity_id STRING, active_days LONG, calls_out_per_day DOUBLE, "
        "call_out_in_ratio DOUBLE, callees_per_day DOUBLE, avg_call_seconds DOUBLE, sms_out_per_day DOUBLE, "
        "sms_in_per_day DOUBLE, data_mb_per_day DOUBLE, share_days_away_from_home DOUBLE, days_abroad LONG",
    )
    assertDataFrameEqual(run_group(spark, "sim_usage"), expected)


def test_sim_colocation(spark: SparkSession) -> None:
    # A's second SIM has no usage; B's two SIMs sit in one SIM box abroad; C holds one SIM (no row).
    expected = spark.createDataFrame(
        [("SIM", "13800000001", 0.0), ("SIM", "13900000001", 1.0), ("SIM", "13900000002", 1.0)],
        "entity_type STRING, entity_id STRING, colocated_day_share DOUBLE",
    )
    assertDataFrameEqual(run_group(spark, "sim_colocation"), expected)


def test_account_flows(spark: SparkSession) -> None:
    expected = spark.createDataFrame(
        [
            # no ip_region at all -> share unknown (null), not zero
            ("ACCOUNT", "acc-A1", 1, 100.0, 0.0, None, 0, 0.0, None, 0.0, 1, None),
            ("ACCOUNT", "acc-B1", 4, 8000.0, 6990.0 / 8000.0, 0.5, 4, 0.5, 3.0, 0.5, 1, 0.0),
        ],
        "entity_type STRING, entity_id STRING, txn_count LONG, amount_in DOUBLE, out_in_amount_ratio DOUBLE, "
        "passthrough_share DOUBLE, counterparties LONG, night_share DOUBLE, max_gap_days DOUBLE, last7_share DOUBLE, "
        "quiet_days_before_first_txn INT, ip_away_share DOUBLE",
    )
    assertDataFrameEqual(run_group(spark, "account_flows"), expected)


def test_sums_do_not_depend_on_the_order_rows_arrive_in(spark: SparkSession) -> None:
    """A sum of doubles follows the order its rows arrive in ((0.1 + 0.2) + 0.3 is not
    (0.3 + 0.2) + 0.1), and a shuffle delivers them in no fixed order: at 1M persons a cluster and
    local mode listed different cards from the last bits of three such sums. Data volume and money
    are summed in whole kilobytes and cents, so either order gives the same features to the bit."""
    base = world(spark)
    mb, yuan = [0.1, 0.2, 0.3], [Decimal("0.10"), Decimal("0.20"), Decimal("0.30")]

    def groups(order: list[int]) -> list[list[object]]:
        activity = spark.createDataFrame(
            [("13800000001", d(26 + i), "imeiA", "110105", None, 1, 1, 60, 1, 0, 0, mb[i]) for i in order],
            ACTIVITY_DDL,
        ).coalesce(1)
        txns = spark.createDataFrame(
            [(f"t{i}", "acc-B1", ts(20 + i), yuan[i], direction, "x1", "MOBILE", "dev1", "440106")
             for i in order for direction in ("IN", "OUT")],
            TXNS_DDL,
        ).coalesce(1)
        t = as_of_view(base.with_(activity=activity, transactions=txns), CTX)
        return [sorted(map(tuple, registry()[name].fn(t, CTX).collect()))  # a handful of literal rows
                for name in ("sim_usage", "account_flows")]

    forward, backward = groups([0, 1, 2]), groups([2, 1, 0])
    assert forward == backward
    usage = {r[1]: r for r in forward[0]}
    assert usage["13800000001"][9] == pytest.approx(0.2)  # data_mb_per_day: 0.6 MB over 3 days


def test_name_consistency(spark: SparkSession) -> None:
    expected = spark.createDataFrame(
        [
            ("SIM", "13800000001", 0, 0, 0.0),
            ("SIM", "13800000002", 0, 0, 0.0),
            ("ACCOUNT", "acc-A1", 0, 0, 0.0),
            ("SIM", "13900000001", 0, 0, 1 / 3),
            ("SIM", "13900000002", 0, 0, 1 / 3),
            ("ACCOUNT", "acc-B1", 0, 0, 1 / 3),
            ("ACCOUNT", "acc-B2", 1, 1, 1.0),  # one character off the registry name
            ("SIM", "13700000001", 0, 0, None),
        ],
        "entity_type STRING, entity_id STRING, name_mismatch_registry INT, name_distance_registry INT, "
        "name_mismatch_other_cards DOUBLE",
    )
    assertDataFrameEqual(run_group(spark, "name_consistency"), expected)


# The first feature set; the catalogue groups have their own point-in-time test.
ALL = tuple(
    FeatureSpec(name)
    for name in ("holder_identity", "holder_cards", "card_registration", "name_consistency", "reserved_phone",
                 "device_sharing", "sim_usage", "sim_colocation", "account_flows")
)


def test_point_in_time_later_rows_change_nothing(spark: SparkSession) -> None:
    """Rows dated after the as-of date (a new SIM, usage, transactions, labels) change no feature."""
    t = world(spark)
    later = t.with_(
        sims=t.sims.unionByName(
            spark.createDataFrame(
                [("13900000009", "CMCC", "RESIDENT_ID", "B", "4401**11", dt.date(2001, 2, 3), "F", "440106",
                  "李娜", ts(2, month=7), "AGENT", "o9", "530102", False, "ACTIVE", None)],
                SIMS_DDL,
            )
        ),
        activity=t.get("activity").unionByName(
            spark.createDataFrame(
                [("13800000001", d(1, month=7), "box1", "ABROAD", "KH", 99, 0, 9, 9, 0, 0, 0.0)], ACTIVITY_DDL
            )
        ),
        transactions=t.get("transactions").unionByName(
            spark.createDataFrame(
                [("t9", "acc-A1", ts(1, 1, month=7), Decimal("9"), "OUT", "x9", "ATM", None, None)], TXNS_DDL
            )
        ),
        labels=t.get("labels").unionByName(
            spark.createDataFrame([("SIM", "13800000001", 1, ts(1, month=7), "POLICE_NOTICE")], LABELS_DDL)
        ),
    )
    before = build_features(t, CTX, ALL)
    after = build_features(later, CTX, ALL)
    assert before.columns == after.columns
    assertDataFrameEqual(after.frame, before.frame)


def test_skipped_group_is_reported_not_faked(spark: SparkSession) -> None:
    t = world(spark).with_(activity=None)
    fs = build_features(t, CTX, (FeatureSpec("holder_cards"), FeatureSpec("sim_usage")))
    assert fs.built == ("holder_cards",)
    assert fs.skipped == {"sim_usage": "input table(s) not delivered: sim_activity"}
    assert "active_days" not in fs.frame.columns


def test_unknown_feature_fails_at_config_load() -> None:
    from realname_guard.config import load_config
    from realname_guard.core.config import ConfigError

    with pytest.raises(ConfigError, match="unknown feature 'no_such_feature'"):
        load_config(overrides=["features.enabled=[{name: no_such_feature}]"])
