"""Time helpers: everything is numpy datetime64[s], local China time, relative to an explicit run date."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Times = npt.NDArray[np.datetime64]
NAT = np.datetime64("NaT", "s")
DAY_S = 86_400


def run_midnight(run_date: str) -> np.datetime64:
    """00:00 of the run date; nothing in the world happens at or after it."""
    return np.datetime64(run_date, "D").astype("datetime64[s]")


def days(x: npt.ArrayLike) -> npt.NDArray[np.timedelta64]:
    """Fractional days as a timedelta64[s] array."""
    return (np.asarray(x, dtype=np.float64) * DAY_S).astype(np.int64).astype("timedelta64[s]")


def minutes(x: npt.ArrayLike) -> npt.NDArray[np.timedelta64]:
    """Fractional minutes as a timedelta64[s] array."""
    return (np.asarray(x, dtype=np.float64) * 60).astype(np.int64).astype("timedelta64[s]")


def day_index(t: Times, origin: np.datetime64, *, missing: int) -> npt.NDArray[np.int64]:
    """Whole days from origin (floor); `missing` where t is NaT."""
    d = np.floor((t - origin) / np.timedelta64(1, "D"))
    return np.where(np.isnat(t), missing, np.nan_to_num(d, nan=missing)).astype(np.int64)


def uniform_times(rng: np.random.Generator, lo: Times, hi: Times) -> Times:
    """A uniform instant in [lo, hi) per row (hi clipped to at least lo)."""
    span = np.maximum((hi - lo).astype(np.int64), 1)
    return lo + (rng.random(len(span)) * span).astype(np.int64).astype("timedelta64[s]")
