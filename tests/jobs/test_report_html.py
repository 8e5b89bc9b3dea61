"""report.html: one self-contained page; headless Chromium draws its plots with the network off."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from realname_guard.jobs.report_html import render_html
from tests.browser import colour_share, screenshot

HIST = [900, 500, 300, 200, 120, 80, 50, 30, 20, 15] + [10] * 30 + [6] * 8 + [4, 3]


def summary() -> dict[str, Any]:
    return {
        "run_date": "2026-06-30", "status": "succeeded", "input_root": "in", "output_root": "out",
        "scoring": {
            "model": {"name": "realname-guard", "version": "3"},
            "thresholds": {"high": 0.95, "medium": 0.8, "source": "fixed", "cap": {"capped": False}},
            "counts": [
                {"entity_type": "SIM", "recipient": "CMCC", "risk_tier": "HIGH", "action": "REVERIFY",
                 "needs_human_review": True, "count": 12},
                {"entity_type": "SIM", "recipient": "CMCC", "risk_tier": "NONE", "action": None,
                 "needs_human_review": True, "count": 900},
                {"entity_type": "ACCOUNT", "recipient": "ICBC", "risk_tier": "MEDIUM", "action": "REVOKE",
                 "needs_human_review": False, "count": 4},
            ],
            "score_histogram": {"bins": 50, "open_cards": {"SIM": HIST, "ACCOUNT": list(reversed(HIST))}},
            "top_reasons": [("CARDS_OPENED_7D_BEFORE", 40), ("IMEI_MAX_IDS", 25), ("NO_FACE_CHECK", 9)],
            "changes": {"new": 7, "renewed": 9, "lapsed": 3, "cleared": 1, "previous_run_date": "2026-06-29"},
            "awaiting_review_past_deadline": 2, "suppressed_after_clearing": 1, "persons_listed": 10,
            "disciplinary_candidates": 1,
        },
        "inputs": {
            "sim_registrations": {"format": "parquet", "rows_in": 1000, "rows_clean": 990, "rows_quarantined": 10,
                                  "reasons": {"id_number: not a valid ID number": 10}},
            "labels": {"format": "parquet", "rows_in": 50, "rows_clean": 50, "rows_quarantined": 0},
        },
        "backtest": {"start": "2026-06-16", "end": "2026-06-30", "chosen": "configured", "beats_baseline": True,
                     "skipped": [], "candidates": [{"name": "configured", "metrics": {"positives": 20.0,
                                                                                  "average_precision": 0.7}}],
                     "baseline": {"name": "naive-baseline", "metrics": {"positives": 20.0, "average_precision": 0.5}}},
        "drift": {"reference": "1,000 cards", "threshold": 0.25, "psi": {"sims_total": 0.4, "txn_count": 0.01},
                  "drifted": ["sims_total"]},
        "timings_s": {"ingest+validate": 12.5, "features": 30.1, "score": 8.0},
        "resumed": [{"stage": "features", "finished_at": "2026-06-30T04:10:00+00:00"}],
    }


def test_the_page_is_self_contained_and_says_what_a_desk_needs() -> None:
    page = render_html(summary())
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "the page must fetch nothing"
    assert "<script" not in page and "<link" not in page
    assert page.count("<svg") == 7  # changes, scores, reasons, quality, backtest, drift, timings
    for text in ("7</b> new", "9</b> renewed", "3</b> lapsed", "1</b> cleared", "since the run of 2026-06-29",
                 "1 model inputs drifted past PSI 0.25: sims_total", "HUMAN_REVIEW", "失信惩戒",
                 "id_number: not a valid ID number", "CARDS_OPENED_7D_BEFORE",
                 "Resumed: features (completed 2026-06-30T04:10:00+00:00)"):
        assert text in page, text
    assert "the naive baseline" not in page  # the chosen setting beats it: nothing said
    ahead = summary()
    ahead["backtest"] = {**ahead["backtest"], "beats_baseline": False, "against_baseline": "loses",
                         "baseline_win_share": 0.97,
                         "baseline": {"name": "naive-baseline", "metrics": {"positives": 20.0, "average_precision": 0.9}}}
    page = render_html(ahead)
    assert "<p class='warn'><b>Warning:</b> the naive baseline (a handful of counts, labelled rows only) ranks the " \
        "window&#x27;s confirmations better than the chosen setting (average precision 0.900 against 0.700; ahead " \
        "in 97% of paired bootstrap resamples of the 20 confirmations)" in page


def test_chromium_draws_the_plots_offline(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(summary()), encoding="utf-8")
    png = screenshot(page, tmp_path / "report.png")
    # Each plot's own colour is on the screen: scores (blue), reasons (green), quarantine (red).
    for rgb in ((0x4C, 0x78, 0xA8), (0x54, 0xA2, 0x4B), (0xE4, 0x57, 0x56)):
        assert colour_share(png, rgb) > 0.0005, rgb
