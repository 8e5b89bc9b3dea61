"""The 失信惩戒 list: cards opened inside a period are listed; candidates come from confirmed outcomes only."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession

from realname_guard.core.config import DisciplinaryConfig, PolicyConfig
from realname_guard.policy.disciplinary import disciplinary_candidates
from realname_guard.policy.lists import decide

D = dt.date(2026, 6, 30)
LABELS = "entity_type STRING, entity_id STRING, label INT, label_time TIMESTAMP, source STRING"


def test_a_card_opened_inside_a_listing_period_is_listed_as_disciplinary(spark: SparkSession) -> None:
    cfg = PolicyConfig(
        rules=("CONFIRMED_MISUSE", "DISCIPLINARY_LISTED"), list_on_rules=("CONFIRMED_MISUSE", "DISCIPLINARY_LISTED")
    )
    scored = spark.createDataFrame(
        [
            ("SIM", "inside", "CMCC", "h1", "1101**", dt.datetime(2026, 5, 1), False, 1.0, 0.05),
            ("SIM", "outside", "CMCC", "h2", "1101**", dt.datetime(2026, 5, 1), False, 0.0, 0.05),
            ("SIM", "inside-confirmed", "CMCC", "h3", "1101**", dt.datetime(2026, 5, 1), False, 1.0, 0.05),
        ],
        "entity_type STRING, entity_id STRING, recipient STRING, id_hash STRING, id_masked STRING, "
        "opened_at TIMESTAMP, closed BOOLEAN, opened_while_disciplined DOUBLE, score DOUBLE",
    )
    labels = spark.createDataFrame([("SIM", "inside-confirmed", 1, dt.datetime(2026, 6, 1), "POLICE_NOTICE")], LABELS)
    got = {r["entity_id"]: r for r in decide(scored, labels, None, (0.8, 0.5), cfg, D).collect()}
    inside = got["inside"]
    assert inside["listed"] and inside["listing_source"] == "DISCIPLINARY" and inside["action"] == "REVERIFY"
    assert inside["rule_hits"] == ["DISCIPLINARY_LISTED"] and not inside["needs_human_review"]
    assert not got["outside"]["listed"]
    # Confirmed misuse lists it first: the confirmation is what put it on the list.
    assert got["inside-confirmed"]["listing_source"] == "RULE" and got["inside-confirmed"]["action"] == "REVOKE"


def test_candidates_come_from_confirmed_outcomes_only(spark: SparkSession) -> None:
    t = dt.datetime
    cards = spark.createDataFrame(
        [("SIM", f"x{i}", "X", "X***") for i in range(3)]
        + [("SIM", "y1", "Y", "Y***"), ("ACCOUNT", "y2", "Y", "Y***")]
        + [("SIM", f"z{i}", "Z", "Z***") for i in range(4)]
        + [("SIM", "w1", "W", "W***")],
        "entity_type STRING, entity_id STRING, id_hash STRING, id_masked STRING",
    )
    labels = spark.createDataFrame(
        [
            # X: three cards confirmed on one day.
            *[("SIM", f"x{i}", 1, t(2026, 6, 1, 9 + i), "POLICE_NOTICE") for i in range(3)],
            # Y: two cards and the person, confirmed on three days.
            ("SIM", "y1", 1, t(2026, 3, 1), "REVERIFY_FAILED"),
            ("ACCOUNT", "y2", 1, t(2026, 4, 1), "POLICE_NOTICE"),
            ("PERSON", "Y", 1, t(2026, 5, 1), "POLICE_NOTICE"),
            # Z: complaints are not confirmations, a cleared card is not one, a label after the run
            # date is not known yet.
            ("SIM", "z0", 1, t(2026, 6, 1), "POLICE_NOTICE"),
            ("SIM", "z1", 1, t(2026, 6, 2), "COMPLAINT"),
            ("SIM", "z2", 0, t(2026, 6, 3), "REVERIFY_PASSED"),
            ("SIM", "z3", 1, t(2026, 7, 2), "POLICE_NOTICE"),
        ],
        LABELS,
    )
    listed = spark.createDataFrame(
        [("X", dt.date(2025, 1, 1), dt.date(2026, 12, 31))], "id_hash STRING, listed_from DATE, listed_until DATE"
    )
    got = disciplinary_candidates(labels, cards, listed, DisciplinaryConfig(), D)
    assert got is not None
    rows = {r["id_hash"]: r for r in got.collect()}
    assert set(rows) == {"X", "Y"}  # W has only a score; Z one confirmation
    x, y = rows["X"], rows["Y"]
    assert x["criteria_met"] == ["CONFIRMED_CARDS"] and x["confirmed_cards"] == 3 and x["confirmation_days"] == 1
    assert x["listed_until_now"] == dt.date(2026, 12, 31) and x["id_masked"] == "X***"
    assert y["criteria_met"] == ["CONFIRMED_OCCASIONS"] and y["confirmed_cards"] == 2 and y["confirmation_days"] == 3
    assert [(e["confirmed_on"], e["entity_type"]) for e in y["evidence"]] == [
        (dt.date(2026, 3, 1), "SIM"), (dt.date(2026, 4, 1), "ACCOUNT"), (dt.date(2026, 5, 1), "PERSON")]
    assert y["listed_until_now"] is None
    assert (y["proposed_from"], y["proposed_until"]) == (D, dt.date(2028, 6, 29))
    assert disciplinary_candidates(None, cards, None, DisciplinaryConfig(), D) is None
