"""The backtest's time budget bounds the whole backtest, not only the start of its last candidate."""

from __future__ import annotations

from collections.abc import Callable

from realname_guard.jobs.backtest import CandidateResult, run_within_budget


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
