"""The backtest's time budget bounds the whole backtest, not only the start of its last candidate."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from realname_guard.config import load_config
from realname_guard.core.config import Candidate
from realname_guard.jobs.backtest import (
    BacktestResult,
    CandidateResult,
    against_baseline,
    baseline_ahead,
    choose,
    run_within_budget,
    settings,
    with_candidate,
)
from realname_guard.models.backtest import Ranked

START_, END_ = dt.date(2026, 6, 16), dt.date(2026, 6, 30)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _jobs(clock: FakeClock, seconds: list[float]) -> list[tuple[str, Callable[[], CandidateResult]]]:
    def job(name: str, s: float) -> Callable[[], CandidateResult]:
        def run() -> CandidateResult:
            clock.now += s
            return CandidateResult(name, {}, {}, seconds=s)

        return run

    return [(f"c{i}", job(f"c{i}", s)) for i, s in enumerate(seconds)]


def test_a_candidate_starts_only_when_the_time_left_holds_one_more() -> None:
    clock = FakeClock()
    done, skipped = run_within_budget(_jobs(clock, [300] * 6), 900, always=2, clock=clock)
    # 600 s after two, a third (mean 300 s) still fits 900 s exactly; a fourth would not.
    assert [r.name for r in done] == ["c0", "c1", "c2"]
    assert skipped == ["c3", "c4", "c5"]
    assert clock.now <= 900


def test_the_first_ones_run_whatever_the_budget() -> None:
    clock = FakeClock()
    done, skipped = run_within_budget(_jobs(clock, [500, 500, 10]), 60, always=2, clock=clock)
    assert [r.name for r in done] == ["c0", "c1"]
    assert skipped == ["c2"]


def test_a_generous_budget_runs_everything_in_order() -> None:
    clock = FakeClock()
    done, skipped = run_within_budget(_jobs(clock, [5, 7, 9, 11]), 3600, clock=clock)
    assert [r.name for r in done] == ["c0", "c1", "c2", "c3"] and skipped == []


def _ranked(bins: list[int], negatives_at_or_above: list[int]) -> Ranked:
    return Ranked({("SIM", f"s{i}"): b for i, b in enumerate(bins)}, negatives_at_or_above)


def _measured(challenger_bins: list[int]) -> list[CandidateResult]:
    """The configured setting puts every confirmation in bin 1 (below 9 of 10 negatives); the
    challenger puts its confirmations where it is told (bin 3: above every negative)."""
    neg = [10, 10, 1, 0]
    n = len(challenger_bins)
    return [
        CandidateResult("configured", {}, {"positives": float(n), "average_precision": 0.1},
                        ranked=_ranked([1] * n, neg)),
        CandidateResult("pu-2", {}, {"positives": float(n), "average_precision": 0.9},
                        ranked=_ranked(challenger_bins, neg)),
    ]


def test_the_choice_says_why_in_words() -> None:
    cfg = load_config(overrides=["model.tuning.min_confirmations=30"], local_dir=None).model
    # Ten confirmations: the challenger wins every resample, and still does not choose.
    measured = _measured([3] * 10)
    _, chosen, why = choose(measured, measured, cfg)
    assert chosen is not None and chosen.name == "configured"
    assert why.startswith("configured: 10 cards confirmed") and "min_confirmations (30)" in why
    # Forty: it wins every resample and is chosen, and the report can say so.
    measured = _measured([3] * 40)
    results, chosen, why = choose(measured, measured, cfg)
    assert chosen is not None and chosen.name == "pu-2" and chosen.win_share == 1.0
    assert why.startswith("pu-2: its average precision beat the configured setting's in 100% of")
    # Forty where it ranks no better: the configured setting stays, with the closest challenger named.
    measured = _measured([1] * 40)
    _, chosen, why = choose(measured, measured, cfg)
    assert chosen is not None and chosen.name == "configured"
    assert "the closest, pu-2, in 0% of resamples" in why
    # Nothing measured: a setting that failed is named; too few confirmations say so.
    failed = [CandidateResult("configured", {}, {}, error="boom")]
    assert choose([], failed, cfg)[1:] == (None, "nothing measured: every setting failed (configured; the report's "
                                           "notes say how); the configured setting trains and the tiers stay at "
                                           "their fixed thresholds")
    _, chosen, why = choose([], [CandidateResult("configured", {}, {"positives": 2.0})], cfg)
    assert chosen is None and why.startswith("nothing measured: fewer than 5 cards (model.backtest.min_positives)")


def test_the_baseline_ahead_warns_only_by_the_rule_a_setting_must_pass() -> None:
    """The naive baseline ahead on a window is a warning only as a challenger would be chosen: in
    90% of the resamples of at least 30 confirmations; ahead by less, a note that says so."""
    cfg = load_config(overrides=["model.tuning.min_confirmations=30"], local_dir=None).model

    def verdict(baseline_bins: list[int]) -> tuple[BacktestResult, float | None, bool]:
        configured, naive = _measured(baseline_bins)
        naive = CandidateResult("naive-baseline", {}, naive.metrics, ranked=naive.ranked)
        share, sure = baseline_ahead(configured, naive, cfg)
        return BacktestResult(START_, END_, "average_precision", [configured], naive, configured, [], "", share,
                              sure), share, sure

    result, share, sure = verdict([3] * 40)  # every confirmation above every negative, 40 of them
    assert (share, sure, result.beats_baseline, result.against_baseline) == (1.0, True, False, "loses")
    kind, words = against_baseline(result.summary())  # type: ignore[misc]
    assert kind == "Warning" and "(average precision 0.900 against 0.100; ahead in 100% of paired bootstrap " \
        "resamples of the 40 confirmations)" in words
    result, share, sure = verdict([3] * 10)  # as far ahead, on ten: too few to count
    assert (share, sure, result.against_baseline) == (1.0, False, "unsure")
    kind, words = against_baseline(result.summary())  # type: ignore[misc]
    assert kind == "Note" and "not evidence either way" in words and "of the 10 confirmations" in words
    result, share, sure = verdict([3] + [1] * 39)  # ahead on one of forty: in most resamples, not 90%
    assert share is not None and 0.5 < share < 0.9 and not sure and result.against_baseline == "unsure"
    # Behind: nothing to say; not measured: no verdict; a summary from before the resamples warns.
    behind = dataclasses.replace(result, chosen=dataclasses.replace(result.chosen, metrics={"average_precision": 1.0}))
    assert behind.against_baseline == "beats" and against_baseline(behind.summary()) is None
    assert baseline_ahead(None, result.baseline, cfg) == (None, False)
    old = {k: v for k, v in result.summary().items() if k not in ("against_baseline", "baseline_win_share")}
    assert against_baseline(old)[0] == "Warning"  # type: ignore[index]


def test_every_shipped_candidate_changes_only_what_it_names() -> None:
    cfg = load_config(overrides=[], local_dir=None).model
    base = settings(cfg)
    for cand in cfg.tuning.candidates:
        changed = {k for k, v in settings(with_candidate(cfg, cand)).items() if v != base[k]}
        named = {k for k, v in vars(cand).items() if k != "name" and v is not None}
        assert changed and changed <= named, (cand.name, changed, named)
    assert cfg.point_in_time.negatives_from == "oldest"
    as_labels = Candidate(name="negatives-as-labels", negatives_from="labels")
    assert with_candidate(cfg, as_labels).point_in_time.negatives_from == "labels"
    assert {k for k, v in settings(with_candidate(cfg, as_labels)).items() if v != base[k]} == {"negatives_from"}
