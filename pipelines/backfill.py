"""Backfill: the daily job for a range of run dates, in order, each seeing only what it knew.

A backfill reads one extract taken later than the dates it runs, so every date cuts the rows and
labels dated after it (``run.future_rows: cut``, whatever the daily setting says): they are set
aside and counted apart, not quarantined. Features, training and the measures cut at the as-of
date too, so each date's lists equal those of the daily run of that date on its own extract.
Training runs on the first date and every ``train_every`` dates after it; the dates between are
scored by the champion of the last date trained (never by one trained on a later date: scoring
refuses that).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from realname_guard.core.config import Config, ConfigError
from realname_guard.pipelines.daily import run_pipeline
from realname_guard.pipelines.steps import RUN

log = logging.getLogger("realname_guard")

MAX_DATES = 3660  # ten years of daily runs: a typo in --to fails fast instead of running for weeks


def backfill_dates(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every date from `start` to `end`, both included."""
    if end < start:
        raise ConfigError(f"backfill: --to {end} is before --from {start}")
    days = (end - start).days + 1
    if days > MAX_DATES:
        raise ConfigError(f"backfill: {days} dates from {start} to {end}; at most {MAX_DATES} in one backfill")
    return [start + dt.timedelta(days=i) for i in range(days)]


def steps_for(index: int, train_every: int) -> tuple[str, ...]:
    """The whole job on training dates, the job without training on the others."""
    if train_every < 0:
        raise ConfigError(f"backfill: --train-every {train_every}: expected 0 (never) or a positive number")
    trains = train_every > 0 and index % train_every == 0
    return RUN if trains else tuple(s for s in RUN if s != "train")


def for_date(cfg: Config, day: dt.date) -> Config:
    """`cfg` as of `day`, cutting whatever is dated after it."""
    return dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, run_date=day, future_rows="cut"))


def run_backfill(
    cfg: Config,
    start: dt.date,
    end: dt.date,
    train_every: int = 1,
    on_date: Callable[[dt.date, dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run the dates in order; return each date's run summary. Stops at the first failure (the
    dates before it stay published; rerun from the failed date)."""
    dates = backfill_dates(start, end)
    for i in range(len(dates)):
        steps_for(i, train_every)  # a bad --train-every fails before any date runs
    summaries = []
    began = time.monotonic()
    for i, day in enumerate(dates):
        steps = steps_for(i, train_every)
        log.info("backfill %s: date %d of %d (%s)", day, i + 1, len(dates), " -> ".join(steps))
        try:
            summary = run_pipeline(for_date(cfg, day), steps)
        except Exception as exc:
            raise BackfillError(day, dates[:i], exc) from exc
        summaries.append(summary)
        elapsed = time.monotonic() - began
        log.info("backfill %s: done; %d of %d dates in %.0f s (about %.0f s left)", day, i + 1, len(dates),
                 elapsed, elapsed / (i + 1) * (len(dates) - i - 1))
        if on_date is not None:
            on_date(day, summary)
    return summaries


class BackfillError(RuntimeError):
    """A date of the backfill failed; the dates before it were published."""

    def __init__(self, day: dt.date, done: list[dt.date], cause: Exception) -> None:
        self.day, self.done = day, done
        finished = f"{done[0]} to {done[-1]} published" if done else "no date published"
        super().__init__(f"run date {day} failed ({type(cause).__name__}: {cause}); {finished}; "
                         f"rerun with --from {day}")
