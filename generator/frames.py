"""Working frames for cards: the contract columns plus the hidden columns that drive activity.

Times are int64 microseconds of naive China local time since 1970-01-01 (-1 = null).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from realname_guard.generator.reference import US_PER_DAY, US_PER_HOUR

SIM_DEFAULTS: dict[str, Any] = {
    "person": -1, "operator": "CMCC", "id_type": "RESIDENT_ID", "id_number": None, "reg_name": None,
    "reg_time": 0, "channel": "STORE", "outlet_id": None, "outlet_region": None, "face_verified": True,
    "status": "ACTIVE", "cancel_time": -1,
    # hidden
    "profile": "personal", "act_region": None, "abroad_country": None, "trip_start": -1, "trip_len": 0,
    "trip_country": None, "device_group": -1, "tac_kind": "phone", "act_start": -1, "act_end": -1,
    "iot": False, "primary": False, "is_misuse": 0, "typology": "normal", "misuse_start": -1,
    "group": -1, "gang_sim": False,
}

ACCOUNT_DEFAULTS: dict[str, Any] = {
    "person": -1, "bank": 0, "id_type": "RESIDENT_ID", "id_number": None, "holder_name": None,
    "open_time": 0, "branch_id": None, "branch_region": None, "channel": "COUNTER", "account_class": "I",
    "reserved_kind": "own", "reserved_sim": -1, "open_device_id": None, "status": "ACTIVE",
    "close_time": -1,
    # hidden
    "profile": "personal", "use_device": None, "ip_region": None, "txn_start": -1, "txn_end": -1,
    "is_misuse": 0, "typology": "normal", "misuse_start": -1, "group": -1,
}


def frame(defaults: dict[str, Any], n: int, **cols: Any) -> pd.DataFrame:
    """A frame of ``n`` rows: given columns, defaults for the rest, in the defaults' order."""
    data = {}
    for key, default in defaults.items():
        value = cols.pop(key, default)
        if np.ndim(value) == 0:
            value = np.full(n, value, dtype=object if value is None or isinstance(value, str) else None)
        data[key] = value
    if cols:
        raise KeyError(f"unknown card columns: {sorted(cols)}")
    return pd.DataFrame(data)


def daytime_us(rng: np.random.Generator, day_us: np.ndarray, lo_hour: int = 9, hi_hour: int = 21) -> np.ndarray:
    """Midnight timestamps moved to a random time of day between two hours."""
    return day_us - day_us % US_PER_DAY + rng.integers(lo_hour * US_PER_HOUR, hi_hour * US_PER_HOUR, len(day_us))


def uniform_us(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Uniform timestamps in [lo, hi) (hi is raised to lo + 1 day where it is not later)."""
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.maximum(np.asarray(hi, dtype=np.int64), lo + US_PER_DAY)
    return lo + (rng.random(len(lo)) * (hi - lo)).astype(np.int64)


def birth_us(birth: np.ndarray, years: float) -> np.ndarray:
    """Timestamp of the day a person turned ``years`` old."""
    return (birth.astype("datetime64[us]").astype(np.int64) + int(years * 365.25 * US_PER_DAY))
