"""The run report: what a risk analyst reads, rendered from the summary alone."""

from __future__ import annotations

from typing import Any

from realname_guard.jobs.report import render_report


def summary(**extra: Any) -> dict[str, Any]:
    return {"run_date": "2026-06-30", "status": "succeeded", "input_root": "in", "output_root": "out", **extra}


def test_a_failed_run_says_what_went_wrong_first() -> None:
    text = render_report(summary(status="failed: data quality", error="sim_registrations: 12% rows quarantined"))
    lines = text.splitlines()
    assert lines[0] == "# realname-guard run 2026-06-30"
    assert "**Status:** failed: data quality" in text
    assert text.index("## What went wrong") < len(text) and "12% rows quarantined" in text
    assert "## Lists" not in text  # nothing was scored


def test_lists_sum_per_recipient_and_count_reviews() -> None:
    counts = [
        {"entity_type": "SIM", "recipient": "CMCC", "risk_tier": "HIGH", "action": "REVERIFY",
         "needs_human_review": True, "count": 3},
        {"entity_type": "SIM", "recipient": "CMCC", "risk_tier": "MEDIUM", "action": "REVERIFY",
         "needs_human_review": False, "count": 2},
        {"entity_type": "SIM", "recipient": "CMCC", "risk_tier": "NONE", "action": None,
         "needs_human_review": False, "count": 95},
        {"entity_type": "ACCOUNT", "recipient": "B01", "risk_tier": "HIGH", "action": "REVOKE",
         "needs_human_review": False, "count": 1},
    ]
    scoring = {
        "model": {"name": "realname-guard", "version": "4", "training_run_id": "r"},
        "thresholds": {"high": 0.95, "medium": 0.8, "source": "fixed", "cap": None},
        "counts": counts, "suppressed_after_clearing": 7, "persons_listed": 5,
    }
    text = render_report(summary(scoring=scoring))
    assert "| SIM | CMCC | 100 | 3 | 2 |" in text
    assert "| ACCOUNT | B01 | 1 | 1 | 0 |" in text
    assert "Measures: REVERIFY 5, REVOKE 1." in text
    assert "3 listings rest on the model alone" in text
    assert "7 cards were kept off" in text and "5 ID holders" in text


def test_quality_backtest_and_warning_against_the_baseline() -> None:
    inputs = {"labels": {"format": "parquet", "rows_in": 200, "rows_clean": 150, "rows_quarantined": 50,
                         "reasons": {"label: not in {0, 1}": 50}, "extra_columns": ["note"]}}
    backtest = {
        "start": "2026-06-16", "end": "2026-06-30", "chosen": "configured", "beats_baseline": False,
        "why": "configured: 12 cards confirmed in the window, fewer than model.tuning.min_confirmations (30)",
        "candidates": [{"name": "configured", "metrics": {"positives": 40.0, "average_precision": 0.5},
                        "lists": {}, "win_share": None}],
        "baseline": {"name": "naive-baseline", "metrics": {"positives": 40.0, "average_precision": 0.7},
                     "lists": {}},
    }
    text = render_report(summary(inputs=inputs, backtest=backtest))
    assert "| labels | parquet | 200 | 150 | 50 | 25.00% |" in text
    assert "- 50 rows: label: not in {0, 1}" in text and "extra columns ignored: note" in text
    assert "## Backtest (out of time)" in text and "| configured ← chosen | 40.000 | 0.500 |" in text
    assert "chosen: **configured**. Why: configured: 12 cards confirmed in the window" in text
    # A summary from before the resamples were counted warns, as it did.
    assert "**Warning:** the naive baseline (a handful of counts, labelled rows only) ranks the window's " \
        "confirmations better than the chosen setting (average precision 0.700 against 0.500)." in text
    # Ahead in 64% of the resamples: a note, with the figures, and no warning.
    text = render_report(summary(inputs=inputs, backtest={**backtest, "against_baseline": "unsure",
                                                          "baseline_win_share": 0.64}))
    assert "**Warning:**" not in text
    assert "**Note:** the naive baseline (a handful of counts, labelled rows only) ranks the window's confirmations " \
        "better than the chosen setting (average precision 0.700 against 0.500; ahead in 64% of paired bootstrap " \
        "resamples of the 40 confirmations), but not often enough" in text
