"""Dirty rows in the registration tables, as operators and banks deliver them, with their truth.

Fixable rows (lower-case x, full-width digits, spaces in ID numbers; spaces or full-width spaces
in names) must normalise to the clean value. Invalid rows (bad check character, a number that is
not 11 digits, a null required field, an unknown code, a duplicated key, a time in the future)
should be quarantined. Invalid defects hit honest, unlabelled cards only, so the typologies
keep their size; fixable ones hit any card.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from realname_guard.generator.reference import US_PER_DAY

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
CHECK_CHARS = "10X98765432"

FIXABLE = ("id_lower_x", "id_fullwidth", "id_spaces", "name_spaces", "name_fullwidth")
INVALID = {
    "sim_registrations": ("bad_checksum", "msisdn_length", "null_required", "blank_operator",
                          "unknown_channel", "duplicate_key", "future_time"),
    "bank_accounts": ("bad_checksum", "null_required", "unknown_channel", "duplicate_key", "future_time"),
}
COLUMNS = {
    "sim_registrations": ("msisdn", "reg_name", "reg_time", "operator", "id_type"),
    "bank_accounts": ("account_id", "holder_name", "open_time", "bank_code", "id_type"),
}


def _spaced(value: str, variant: int) -> str:
    if variant == 0:
        return f" {value} "
    if variant == 1:
        return f"{value[:6]} {value[6:14]} {value[14:]}"
    return f"{value}  "


def inject(rng: np.random.Generator, table: str, df: pd.DataFrame, honest: np.ndarray, protected: np.ndarray,
           share: float, fixable_fraction: float, as_of_us: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Make about ``share`` of the rows dirty; return the delivered rows and (table, key, kind, what)."""
    key_col, name_col, time_col, code_col, _ = COLUMNS[table]
    n = len(df)
    n_dirty = int(round(share * n)) if share > 0 else 0
    if n_dirty == 0:
        return df, pd.DataFrame(columns=["table", "key", "kind", "what"])
    n_fix = int(round(n_dirty * fixable_fraction))
    resident = (df["id_type"] == "RESIDENT_ID").to_numpy()
    bad_pool = np.flatnonzero(resident & honest & ~protected)
    inv_rows = np.sort(rng.choice(bad_pool, size=min(n_dirty - n_fix, len(bad_pool)), replace=False))
    fix_pool = np.setdiff1d(np.flatnonzero(resident), inv_rows)
    fix_rows = np.sort(rng.choice(fix_pool, size=min(n_fix, len(fix_pool)), replace=False))
    df = df.copy()
    truth: list[tuple[str, str, str, str]] = []
    extra: list[pd.DataFrame] = []

    for row, kind in zip(fix_rows, rng.choice(FIXABLE, len(fix_rows)), strict=True):
        ident = df.at[row, "id_number"]
        name = df.at[row, name_col]
        if kind == "id_lower_x" and not ident.endswith("X"):
            kind = "id_fullwidth"
        if kind == "id_lower_x":
            df.at[row, "id_number"], what = ident[:-1] + "x", "id_number ends with lower-case x"
        elif kind == "id_fullwidth":
            df.at[row, "id_number"], what = ident.translate(FULL_WIDTH), "id_number in full-width digits"
        elif kind == "id_spaces":
            df.at[row, "id_number"], what = _spaced(ident, int(rng.integers(0, 3))), "id_number with spaces"
        elif kind == "name_spaces":
            df.at[row, name_col], what = f"{name[0]} {name[1:]} ", f"{name_col} with spaces"
        else:
            df.at[row, name_col], what = f"{name[0]}\u3000{name[1:]}", f"{name_col} with a full-width space"
        truth.append((table, df.at[row, key_col], "fixable", what))

    for row, kind in zip(inv_rows, rng.choice(INVALID[table], len(inv_rows)), strict=True):
        ident = df.at[row, "id_number"]
        if kind == "bad_checksum":
            wrong = CHECK_CHARS[(CHECK_CHARS.index(ident[-1]) + int(rng.integers(1, 11))) % 11]
            df.at[row, "id_number"], what = ident[:-1] + wrong, "id_number check character wrong"
        elif kind == "msisdn_length":
            old = df.at[row, key_col]
            df.at[row, key_col] = old[:-1] if rng.random() < 0.5 else old + str(int(rng.integers(0, 10)))
            what = f"msisdn has {len(df.at[row, key_col])} digits (true number {old})"
        elif kind == "null_required":
            col = ("id_number", time_col, code_col)[int(rng.integers(0, 3))]
            df.at[row, col] = -1 if col == time_col else None
            what = f"{col} is null"
        elif kind == "blank_operator":  # any non-empty code is valid (an MVNO's has no fixed format)
            df.at[row, code_col], what = "   ", "operator is blank"
        elif kind == "unknown_channel":
            value = "KIOSK" if table == "sim_registrations" else "BRANCH"
            df.at[row, "channel"], what = value, f"unknown channel {value}"
        elif kind == "duplicate_key":
            copy = df.loc[[row]].copy()
            copy[time_col] = np.minimum(copy[time_col] + int(rng.integers(1, 30)) * US_PER_DAY // 24, as_of_us - 1)
            extra.append(copy)
            what = f"{key_col} delivered twice"
        else:
            df.at[row, time_col] = as_of_us + int(rng.integers(1, 60)) * US_PER_DAY
            what = f"{time_col} in the future"
        truth.append((table, df.at[row, key_col], "invalid", what))
    if extra:
        df = pd.concat([df, *extra], ignore_index=True)
    return df, pd.DataFrame(truth, columns=["table", "key", "kind", "what"])
