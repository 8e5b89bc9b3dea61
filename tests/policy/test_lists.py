"""Listing decisions: tiers, measures, clearing, episodes and expiry, one literal row per case."""

from __future__ import annotations

import dataclasses
import datetime as dt

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from realname_guard.core.config import PolicyConfig
from realname_guard.policy.lists import apply_tiers, capped_thresholds, decide, evidence

D = dt.date(2026, 6, 30)
CFG = PolicyConfig(
    list_ttl_days=90,
    reverify_deadline_days=15,
    rules=("CONFIRMED_MISUSE", "HOLDER_CONFIRMED", "COMPLAINT", "SIMS_OVER_OPERATOR_LIMIT"),
    list_on_rules=("CONFIRMED_MISUSE", "HOLDER_CONFIRMED"),
)
SCORED = (
    "entity_type STRING, entity_id STRING, recipient STRING, id_hash STRING, id_masked STRING, "
    "opened_at TIMESTAMP, closed BOOLEAN, sims_over_operator_limit DOUBLE, opened_corporate DOUBLE, score DOUBLE"
)
LABELS = "entity_type STRING, entity_id STRING, label INT, label_time TIMESTAMP, source STRING"
HISTORY = "entity_type STRING, entity_id STRING, first_flagged_date DATE, last_flagged_date DATE, expires_on DATE"
OPENED = dt.datetime(2026, 1, 1)


def _row(eid: str, score: float, *, closed: bool = False, over: float = 0.0, corp: float = 0.0,
         holder: str | None = None, recipient: str = "CMCC") -> tuple:
    return ("SIM", eid, recipient, holder or f"h-{eid}", "1101**", OPENED, closed, over, corp, score)


def test_decide_covers_the_measures(spark: SparkSession) -> None:
    scored = spark.createDataFrame(
        [
            _row("new-high", 0.9),
            _row("confirmed-low", 0.1),
            _row("overdue-medium", 0.6),
            _row("overdue-high", 0.85),
            _row("reviewed-medium", 0.6),
            _row("reviewed-high", 0.85),
            _row("reviewed-last-episode", 0.85),
            _row("cleared", 0.95),
            _row("cleared-then-complaint", 0.95),
            _row("closed", 0.99, closed=True),
            _row("low", 0.2),
            _row("over-limit", 0.6, over=2.0),
            _row("over-limit-overdue", 0.6, over=2.0),
            _row("corporate", 0.6, over=295.0, corp=1.0),
            _row("expired-episode", 0.9),
            _row("person-confirmed", 0.1, holder="P"),
            _row("person-confirmed-scored", 0.9, holder="P"),
        ],
        SCORED,
    )
    t = dt.datetime
    labels = spark.createDataFrame(
        [
            ("SIM", "confirmed-low", 1, t(2026, 6, 20), "POLICE_NOTICE"),
            ("SIM", "reviewed-medium", 1, t(2026, 6, 5), "HUMAN_REVIEW"),
            ("SIM", "reviewed-high", 1, t(2026, 6, 5), "HUMAN_REVIEW"),
            ("SIM", "reviewed-last-episode", 1, t(2026, 3, 5), "HUMAN_REVIEW"),
            ("SIM", "cleared", 0, t(2026, 6, 10), "REVERIFY_PASSED"),
            ("SIM", "cleared-then-complaint", 0, t(2026, 6, 10), "REVERIFY_PASSED"),
            ("SIM", "cleared-then-complaint", 1, t(2026, 6, 20), "COMPLAINT"),
            ("PERSON", "P", 1, t(2026, 6, 25), "POLICE_NOTICE"),
        ],
        LABELS,
    )
    june1, d = dt.date(2026, 6, 1), dt.date
    episode = (june1, june1, d(2026, 8, 30))
    history = spark.createDataFrame(
        [
            ("SIM", "overdue-medium", *episode),
            ("SIM", "overdue-high", *episode),
            ("SIM", "reviewed-medium", *episode),
            ("SIM", "reviewed-high", *episode),
            ("SIM", "reviewed-last-episode", *episode),
            ("SIM", "cleared", *episode),
            ("SIM", "cleared-then-complaint", *episode),
            ("SIM", "over-limit-overdue", *episode),
            ("SIM", "expired-episode", d(2026, 3, 1), d(2026, 3, 1), d(2026, 5, 30)),
        ],
        HISTORY,
    )
    got = decide(scored, labels, history, (0.8, 0.5), CFG, D).select(
        "entity_id", "risk_tier", "action", "rule_hits", "needs_human_review", "first_flagged_date", "expires_on",
        "listed", "review_overdue",
    )
    exp = d(2026, 9, 28)
    expected = spark.createDataFrame(
        [
            ("new-high", "HIGH", "REVERIFY", [], True, D, exp, True, False),
            ("confirmed-low", "HIGH", "REVOKE", ["CONFIRMED_MISUSE"], False, D, exp, True, False),
            # Model alone, past the deadline: no measure until a person reviews it (PIPL Art. 24).
            ("overdue-medium", "MEDIUM", "REVERIFY", [], True, june1, exp, True, True),
            ("overdue-high", "HIGH", "REVERIFY", [], True, june1, exp, True, True),
            # A reviewer upheld the listing during the episode: the deadline's measures apply.
            ("reviewed-medium", "MEDIUM", "RESTRICT", [], False, june1, exp, True, False),
            ("reviewed-high", "HIGH", "SUSPEND", [], False, june1, exp, True, False),
            # A review before this episode began does not carry over.
            ("reviewed-last-episode", "HIGH", "REVERIFY", [], True, june1, exp, True, True),
            ("cleared", "NONE", None, [], True, None, None, False, False),
            ("cleared-then-complaint", "HIGH", "REVERIFY", ["COMPLAINT"], False, D, exp, True, False),
            ("closed", "NONE", None, [], True, None, None, False, False),
            ("low", "NONE", None, [], True, None, None, False, False),
            ("over-limit", "MEDIUM", "REVERIFY", ["SIMS_OVER_OPERATOR_LIMIT"], False, D, exp, True, False),
            # A rule supports it: past the deadline it is restricted without waiting for a review.
            ("over-limit-overdue", "MEDIUM", "RESTRICT", ["SIMS_OVER_OPERATOR_LIMIT"], False, june1, exp, True,
             False),
            ("corporate", "MEDIUM", "REVERIFY", [], True, D, exp, True, False),
            ("expired-episode", "HIGH", "REVERIFY", [], True, D, exp, True, False),
            # The holder's misuse was confirmed: a card with no evidence of its own is re-verified,
            # one the model scores high is revoked.
            ("person-confirmed", "MEDIUM", "REVERIFY", ["HOLDER_CONFIRMED"], False, D, exp, True, False),
            ("person-confirmed-scored", "HIGH", "REVOKE", ["HOLDER_CONFIRMED"], False, D, exp, True, False),
        ],
        "entity_id STRING, risk_tier STRING, action STRING, rule_hits ARRAY<STRING>, needs_human_review BOOLEAN, "
        "first_flagged_date DATE, expires_on DATE, listed BOOLEAN, review_overdue BOOLEAN",
    )
    assertDataFrameEqual(got, expected)


def test_each_row_holds_what_a_notice_needs(spark: SparkSession) -> None:
    """listing_source, measure_since, reverify_due, legal_basis and appeal_channel, from one row."""
    cfg = dataclasses.replace(
        CFG,
        legal_basis={"REVERIFY": "Art. 11: re-verify", "RESTRICT": "Art. 11: restrict", "SUSPEND": "Art. 11: suspend",
                     "REVOKE": "Art. 31: revoke"},
        appeal_channels={"default": "any outlet", "CMCC": "10086"},
    )
    scored = spark.createDataFrame(
        [
            _row("new", 0.6),
            _row("still-reverify", 0.6),
            _row("now-restricted", 0.6, over=1.0),
            _row("still-restricted", 0.6, over=1.0),
            _row("confirmed", 0.1, recipient="CUCC"),
        ],
        SCORED,
    )
    labels = spark.createDataFrame([("SIM", "confirmed", 1, dt.datetime(2026, 6, 29), "REVERIFY_FAILED")], LABELS)
    june1, june20, d = dt.date(2026, 6, 1), dt.date(2026, 6, 20), dt.date
    history = spark.createDataFrame(
        [
            ("SIM", "still-reverify", june20, d(2026, 6, 29), d(2026, 9, 27), "REVERIFY", june20),
            ("SIM", "now-restricted", june1, d(2026, 6, 29), d(2026, 9, 27), "REVERIFY", june1),
            ("SIM", "still-restricted", june1, d(2026, 6, 29), d(2026, 9, 27), "RESTRICT", d(2026, 6, 17)),
        ],
        HISTORY + ", action STRING, measure_since DATE",
    )
    got = decide(scored, labels, history, (0.8, 0.5), cfg, D).select(
        "entity_id", "action", "listing_source", "measure_since", "reverify_due", "legal_basis", "appeal_channel"
    )
    expected = spark.createDataFrame(
        [
            ("new", "REVERIFY", "MODEL", D, d(2026, 7, 15), "Art. 11: re-verify", "10086"),
            ("still-reverify", "REVERIFY", "MODEL", june20, d(2026, 7, 5), "Art. 11: re-verify", "10086"),
            ("now-restricted", "RESTRICT", "MODEL", D, None, "Art. 11: restrict", "10086"),
            ("still-restricted", "RESTRICT", "MODEL", d(2026, 6, 17), None, "Art. 11: restrict", "10086"),
            ("confirmed", "REVOKE", "RULE", D, None, "Art. 31: revoke", "any outlet"),
        ],
        "entity_id STRING, action STRING, listing_source STRING, measure_since DATE, reverify_due DATE, "
        "legal_basis STRING, appeal_channel STRING",
    )
    assertDataFrameEqual(got, expected)


def test_no_history_and_no_labels(spark: SparkSession) -> None:
    scored = spark.createDataFrame(
        [("ACCOUNT", "a1", "ICBC", "h1", "1101**", OPENED, False, None, None, 0.7)], SCORED
    )
    got = decide(scored, None, None, (0.8, 0.5), CFG, D).select("entity_id", "risk_tier", "action", "listed")
    assertDataFrameEqual(got, spark.createDataFrame([("a1", "MEDIUM", "REVERIFY", True)],
                                                    "entity_id STRING, risk_tier STRING, action STRING, listed BOOLEAN"))


def test_labels_after_the_run_date_are_not_read(spark: SparkSession) -> None:
    """A backfilled day (or a run with run.future_rows=ignore) sees outcomes that arrived later in
    the labels table; none of them may revoke or clear a card on that day."""
    scored = spark.createDataFrame(
        [_row("revoked-later", 0.1), _row("cleared-later", 0.9), _row("holder-later", 0.1, holder="Q"),
         _row("same-day", 0.1)],
        SCORED,
    )
    t = dt.datetime
    labels = spark.createDataFrame(
        [
            ("SIM", "revoked-later", 1, t(2026, 7, 1, 0, 5), "POLICE_NOTICE"),
            ("SIM", "cleared-later", 0, t(2026, 7, 3), "REVERIFY_PASSED"),
            ("PERSON", "Q", 1, t(2026, 7, 2), "POLICE_NOTICE"),
            ("SIM", "same-day", 1, t(2026, 6, 30, 23, 50), "POLICE_NOTICE"),
        ],
        LABELS,
    )
    got = decide(scored, labels, None, (0.8, 0.5), CFG, D).select("entity_id", "risk_tier", "action", "rule_hits")
    expected = spark.createDataFrame(
        [
            ("revoked-later", "NONE", None, []),
            ("cleared-later", "HIGH", "REVERIFY", []),
            ("holder-later", "NONE", None, []),
            ("same-day", "HIGH", "REVOKE", ["CONFIRMED_MISUSE"]),
        ],
        "entity_id STRING, risk_tier STRING, action STRING, rule_hits ARRAY<STRING>",
    )
    assertDataFrameEqual(got, expected)
    # The next day, the same labels do count.
    later = decide(scored, labels, None, (0.8, 0.5), CFG, dt.date(2026, 7, 3)).select("entity_id", "action")
    assert dict(later.collect()) == {  # four literal rows
        "revoked-later": "REVOKE", "cleared-later": None, "holder-later": "REVERIFY", "same-day": "REVOKE"
    }


def _population(spark: SparkSession, n: int, closed_every: int = 0):  # type: ignore[no-untyped-def]
    """`n` open SIMs scored 0.000 .. 0.999 (score = i / n), plus closed ones if asked."""
    rows = [
        ("SIM", f"s{i}", "CMCC", f"h{i}", "1101**", OPENED, bool(closed_every and i % closed_every == 0), 0.0, 0.0,
         i / n)
        for i in range(n)
    ]
    return spark.createDataFrame(rows, SCORED)


def test_cap_raises_the_thresholds_to_list_about_the_allowed_share(spark: SparkSession) -> None:
    ev = evidence(_population(spark, 2000), None, None, CFG, D).cache()
    # Half the cards reach MEDIUM 0.5 and a fifth HIGH 0.8: far above a 5% cap.
    (high, medium), info = capped_thresholds(ev, (0.8, 0.5), 0.05)
    assert info["capped"] and info["share_at_medium"] == 0.5 and info["open_cards"] == 2000
    tiers = {r["risk_tier"]: r["count"] for r in apply_tiers(ev, (high, medium), CFG, D).groupBy("risk_tier").count().collect()}
    listed = tiers.get("HIGH", 0) + tiers.get("MEDIUM", 0)
    assert 95 <= listed <= 105, tiers  # 5% of 2000
    # HIGH keeps its part of the listing: 0.2 / 0.5 of it.
    assert 36 <= tiers.get("HIGH", 0) <= 44, tiers
    assert 0.94 <= medium <= 0.96 and 0.97 <= high <= 0.99
    ev.unpersist()


def test_cap_leaves_thresholds_alone_when_under_it_or_off(spark: SparkSession) -> None:
    ev = evidence(_population(spark, 1000, closed_every=2), None, None, CFG, D).cache()
    # Scores >= 0.99: 10 cards, 5 of them closed; 5 of 500 open cards is 1%, under a 2% cap.
    assert capped_thresholds(ev, (0.995, 0.99), 0.02) == ((0.995, 0.99), {
        "max_listed_share": 0.02, "open_cards": 500, "share_at_medium": 0.01,
        "configured": {"high": 0.995, "medium": 0.99}, "capped": False})
    thresholds, info = capped_thresholds(ev, (0.8, 0.5), None)
    assert thresholds == (0.8, 0.5) and not info["capped"] and info["share_at_medium"] == 0.5
    ev.unpersist()


def test_capped_listing_is_reported(spark: SparkSession) -> None:
    from realname_guard.jobs.report import render_report

    ev = evidence(_population(spark, 1000), None, None, CFG, D)
    (high, medium), cap = capped_thresholds(ev, (0.8, 0.5), 0.05)
    text = render_report({
        "run_date": "2026-06-30",
        "scoring": {
            "model": {"name": "m", "version": "1"},
            "thresholds": {"high": high, "medium": medium, "source": "fixed", "cap": cap},
            "counts": [], "suppressed_after_clearing": 0, "persons_listed": 0,
        },
    })
    assert "**Listing capped.** 50.00% of the 1,000 open cards" in text
    assert "cap of 5.00% (`policy.tiers.max_listed_share`)" in text
    assert f"MEDIUM at ≥ {medium:.3f}" in text


def test_decisions_need_only_the_rules_declared_inputs(spark: SparkSession) -> None:
    """Scoring narrows the frame to DECISION_COLUMNS + rule_inputs before deciding: every rule
    must declare what it reads, or it would stop firing there. Same decisions either way."""
    from realname_guard.jobs.score import DECISION_COLUMNS
    from realname_guard.policy.rules import known_rules, rule_inputs

    cfg = PolicyConfig(rules=tuple(sorted(known_rules())), list_on_rules=("CONFIRMED_MISUSE", "ID_STATUS_INVALID"))
    inputs = rule_inputs(cfg)
    assert set(inputs) == {"sims_over_operator_limit", "opened_corporate", "sims_over_total_limit",
                           "class_i_over_bank_limit", "opened_while_disciplined", "id_status_invalid",
                           "reserved_phone_other_id"}
    assert len(inputs) == len(set(inputs))
    cols = "sims_over_operator_limit DOUBLE, opened_corporate DOUBLE, sims_over_total_limit DOUBLE, " \
           "class_i_over_bank_limit DOUBLE, opened_while_disciplined DOUBLE, id_status_invalid DOUBLE, " \
           "reserved_phone_other_id DOUBLE, unrelated_feature DOUBLE"

    def row(eid: str, score: float, over_op: float = 0.0, over_total: float = 0.0, class_i: float = 0.0,
            invalid: float = 0.0, other_id: float = 0.0, etype: str = "SIM", disciplined: float = 0.0) -> tuple:
        return (etype, eid, "CMCC", f"h-{eid}", "1101**", OPENED, False, score,
                over_op, 0.0, over_total, class_i, disciplined, invalid, other_id, 9.0)

    full = spark.createDataFrame(
        [row("plain", 0.2), row("operator", 0.2, over_op=2.0), row("total", 0.2, over_total=2.0),
         # the SIM limits say nothing of accounts; the Class-I limit nothing of SIMs
         row("account-total", 0.2, over_total=2.0, etype="ACCOUNT"), row("sim-class-i", 0.2, class_i=1.0),
         row("class-i", 0.2, class_i=1.0, etype="ACCOUNT"),
         row("invalid", 0.2, invalid=1.0), row("phone", 0.2, other_id=1.0, etype="ACCOUNT"), row("high", 0.9),
         row("disciplined", 0.2, disciplined=1.0)],
        "entity_type STRING, entity_id STRING, recipient STRING, id_hash STRING, id_masked STRING, "
        "opened_at TIMESTAMP, closed BOOLEAN, score DOUBLE, " + cols,
    )
    narrow = full.select(*DECISION_COLUMNS, *inputs)
    wide = decide(full, None, None, (0.8, 0.5), cfg, D).drop("unrelated_feature")
    got = decide(narrow, None, None, (0.8, 0.5), cfg, D)
    assertDataFrameEqual(got.select(*wide.columns), wide)
    hits = {r["entity_id"]: r["rule_hits"] for r in wide.collect()}
    assert hits["operator"] == ["SIMS_OVER_OPERATOR_LIMIT"] and hits["total"] == ["SIMS_OVER_TOTAL_LIMIT"]
    assert hits["account-total"] == [] and hits["sim-class-i"] == [] and hits["class-i"] == ["CLASS_I_OVER_BANK_LIMIT"]
    assert hits["invalid"] == ["ID_STATUS_INVALID"] and hits["phone"] == ["RESERVED_PHONE_OTHER_ID"]
    assert hits["disciplined"] == ["DISCIPLINARY_LISTED"]
