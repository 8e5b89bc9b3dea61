"""Reference data (regions, names, operators, banks, devices) and vectorised identifier builders.

Region codes and names come from Faker's zh_CN data tables, used as data only; the traditional
spelling of names from OpenCC's character table (the one the features use to fold them back).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import opencc
import pyarrow as pa
import pyarrow.compute as pc
from faker.providers.person.zh_CN import Provider as PersonProvider
from faker.providers.ssn.zh_CN import Provider as SsnProvider

EPOCH = dt.datetime(1970, 1, 1)
US_PER_DAY = 86_400_000_000
US_PER_HOUR = 3_600_000_000

OPERATORS = ("CMCC", "CUCC", "CTCC", "MVNO01", "MVNO02")
OPERATOR_WEIGHTS = (0.58, 0.18, 0.21, 0.02, 0.01)
MSISDN_PREFIXES: dict[str, tuple[int, ...]] = {
    "CMCC": (134, 135, 136, 137, 138, 139, 147, 150, 151, 152, 157, 158, 159, 178, 182, 183, 187, 188, 198),
    "CUCC": (130, 131, 132, 145, 155, 156, 166, 175, 176, 185, 186),
    "CTCC": (133, 149, 153, 173, 177, 180, 181, 189, 199),
    "MVNO01": (170, 171),
    "MVNO02": (162, 165, 167),
}
IOT_PREFIXES: dict[str, int] = {"CMCC": 148, "CUCC": 146, "CTCC": 141, "MVNO01": 172, "MVNO02": 172}

BANKS = ("ICBC", "ABC", "BOC", "CCB", "BOCOM", "PSBC", "CMB", "CIB", "CITIC", "SPDB")
BANK_BINS = (622202, 622848, 621661, 621700, 622260, 621799, 622588, 622908, 622690, 622521)

# Type allocation codes of common handsets and of IoT modules (8 digits each).
PHONE_TACS = (35332509, 86753203, 86891503, 35391110, 86400305, 86769804, 35460811, 86290305,
              35875109, 86982203, 35209810, 86617103, 86437004, 35693803, 86018104, 35174211)
IOT_TACS = (86475603, 86286104, 86709205, 86165703)
SIMBOX_TACS = (35761905, 86123702)
SHOP_TACS = (35824005, 86930804)  # the handsets of phone shops and repair desks

SIMBOX_COUNTRIES = ("MM", "KH", "LA", "PH", "VN")
TRAVEL_COUNTRIES = ("JP", "KR", "TH", "SG", "MY", "US", "GB", "FR", "AU", "VN", "PH", "KH", "DE", "AE")
TRAVEL_WEIGHTS = (0.16, 0.12, 0.14, 0.08, 0.08, 0.08, 0.04, 0.04, 0.04, 0.07, 0.04, 0.03, 0.03, 0.05)

# Inland provinces send migrant workers; coastal and capital provinces receive them.
INLAND_PROVINCES = ("34", "36", "41", "42", "43", "45", "50", "51", "52", "53", "62", "23", "22", "14")
COASTAL_PROVINCES = ("11", "12", "31", "32", "33", "35", "37", "44")

COMPANY_WORDS = ("华信", "联创", "恒通", "智远", "中科", "天成", "宏达", "博源", "星云", "金桥", "东方", "瑞丰")
COMPANY_KINDS = ("科技有限公司", "物联网科技有限公司", "物流有限公司", "能源有限公司", "电子有限公司")

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.array(list("10X98765432"))
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)


@dataclass(frozen=True)
class Regions:
    """County-level GB/T 2260 codes (Faker's table, codes ending 00 skipped) and population weights."""

    codes: np.ndarray  # str, sorted
    code_int: np.ndarray  # int64
    province: np.ndarray  # int: index into provinces
    provinces: tuple[str, ...]
    weights: np.ndarray  # float64, sums to 1
    cum: np.ndarray  # cumulative weights
    prov_start: np.ndarray
    prov_stop: np.ndarray
    prov_weight: np.ndarray  # population share per province


@lru_cache(maxsize=8)
def regions(seed: int) -> Regions:
    """Real county codes with lognormal population weights drawn from the seed."""
    codes = np.array(sorted({c for c in SsnProvider.area_codes if not c.endswith("00") and c[:2] <= "65"}))
    prov_codes = np.array([c[:2] for c in codes])
    provinces = tuple(sorted(set(prov_codes.tolist())))
    province = np.searchsorted(np.array(provinces), prov_codes)
    rng = np.random.default_rng([seed, 7_000_001])
    weights = rng.lognormal(0.0, 1.0, len(codes))
    weights /= weights.sum()
    prov_start = np.searchsorted(province, np.arange(len(provinces)), side="left")
    prov_stop = np.searchsorted(province, np.arange(len(provinces)), side="right")
    prov_weight = np.bincount(province, weights=weights, minlength=len(provinces))
    return Regions(codes, codes.astype(np.int64), province, provinces, weights, np.cumsum(weights),
                   prov_start, prov_stop, prov_weight)


def pick_in_province(rng: np.random.Generator, reg: Regions, prov: np.ndarray) -> np.ndarray:
    """A population-weighted county index inside each given province index."""
    lo = np.where(reg.prov_start[prov] > 0, reg.cum[np.maximum(reg.prov_start[prov] - 1, 0)], 0.0)
    lo = np.where(reg.prov_start[prov] == 0, 0.0, lo)
    hi = reg.cum[reg.prov_stop[prov] - 1]
    u = lo + rng.random(len(prov)) * (hi - lo)
    idx = np.searchsorted(reg.cum, u, side="right")
    return np.clip(idx, reg.prov_start[prov], reg.prov_stop[prov] - 1)


def pick_province(rng: np.random.Generator, reg: Regions, n: int, among: tuple[str, ...] = (),
                  exclude: np.ndarray | None = None) -> np.ndarray:
    """Population-weighted province indices, optionally restricted and excluding one per row."""
    w = reg.prov_weight.copy()
    if among:
        mask = np.isin(np.array(reg.provinces), np.array(among))
        w = np.where(mask, w, 0.0)
    prov = rng.choice(len(w), size=n, p=w / w.sum())
    if exclude is not None:
        clash = prov == exclude
        while clash.any():
            prov[clash] = rng.choice(len(w), size=int(clash.sum()), p=w / w.sum())
            clash = prov == exclude
    return prov


@dataclass(frozen=True)
class Names:
    surnames: np.ndarray
    surname_p: np.ndarray
    male: np.ndarray
    female: np.ndarray
    s2t_src: str
    s2t_dst: str


@lru_cache(maxsize=1)
def names() -> Names:
    """Faker's zh_CN surnames (with its weights) and given names; OpenCC's s2t single characters."""
    last = PersonProvider.last_names
    p = np.array(list(last.values()), dtype=float)
    src, dst = [], []
    base = Path(opencc.__file__).parent / "dictionary"
    ts = {}
    for line in (base / "TSCharacters.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 2:
            ts[parts[0]] = parts[1].split(" ")[0]
    for line in (base / "STCharacters.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) != 2:
            continue
        simp, trad = parts[0], parts[1].split(" ")[0]
        # keep only pairs that fold back to the same simplified character
        if len(simp) == 1 and len(trad) == 1 and simp != trad and ts.get(trad) == simp:
            src.append(simp)
            dst.append(trad)
    return Names(np.array(list(last.keys())), p / p.sum(), np.array(PersonProvider.first_names_male),
                 np.array(PersonProvider.first_names_female), "".join(src), "".join(dst))


def to_traditional(values: np.ndarray) -> np.ndarray:
    """Names written with traditional characters (same name, honest spelling difference)."""
    nm = names()
    table = str.maketrans(nm.s2t_src, nm.s2t_dst)
    return np.array([v.translate(table) for v in values.tolist()], dtype=object)


# -- identifiers --------------------------------------------------------------------------

def id_check_chars(base17: np.ndarray) -> np.ndarray:
    """GB 11643-1999 (ISO 7064 MOD 11-2) check characters for 17-digit integer bodies."""
    digits = (base17[:, None] // (10 ** np.arange(16, -1, -1, dtype=np.int64))) % 10
    return _ID_CHECK[(digits @ _ID_WEIGHTS) % 11]


def id_numbers(region: np.ndarray, birth_yyyymmdd: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """18-character resident ID numbers from region code, birth date and 3-digit sequence."""
    base = region.astype(np.int64) * 100_000_000_000 + birth_yyyymmdd.astype(np.int64) * 1000 + seq
    body = np.char.zfill(base.astype(str), 17)
    return np.char.add(body, id_check_chars(base)).astype(object)


def id_checksum_ok(ids: np.ndarray) -> np.ndarray:
    """True where an 18-character ID number carries the right check character."""
    out = np.zeros(len(ids), dtype=bool)
    ok = np.array([isinstance(v, str) and len(v) == 18 and v[:17].isascii() and v[:17].isdigit()
                   for v in ids])
    if ok.any():
        good = ids[ok]
        base = np.array([int(v[:17]) for v in good], dtype=np.int64)
        out[ok] = id_check_chars(base) == np.array([v[17] for v in good])
    return out


def uscc(rng: np.random.Generator, region: np.ndarray) -> np.ndarray:
    """Unified social credit codes (GB 32100-2015) with a valid check character."""
    n = len(region)
    chars = np.array(list(_USCC_CHARS))
    head = np.array([[9, 1]] * n)
    reg = (region.astype(np.int64)[:, None] // (10 ** np.arange(5, -1, -1))) % 10
    body = rng.integers(0, 10, size=(n, 9))
    codes = np.concatenate([head, reg, body], axis=1)
    check = (31 - (codes @ _USCC_WEIGHTS) % 31) % 31
    full = np.concatenate([chars[codes], chars[check][:, None]], axis=1)
    return np.array(["".join(r) for r in full], dtype=object)


def luhn_digit(body: np.ndarray, width: int) -> np.ndarray:
    """Luhn check digits for integer bodies of ``width`` digits (IMEIs, card numbers)."""
    digits = (body[:, None] // (10 ** np.arange(width - 1, -1, -1, dtype=np.int64))) % 10
    from_right = np.arange(width - 1, -1, -1)
    doubled = np.where(from_right % 2 == 0, digits * 2, digits)
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    return (10 - doubled.sum(axis=1) % 10) % 10


def msisdns(operator: np.ndarray, global_idx: np.ndarray, prefix_pick: np.ndarray,
            iot: np.ndarray) -> np.ndarray:
    """11-digit numbers: an operator prefix and 8 digits scrambled from a global counter (unique)."""
    prefix = np.empty(len(operator), dtype=np.int64)
    for op, choices in MSISDN_PREFIXES.items():
        m = operator == op
        prefix[m] = np.array(choices)[prefix_pick[m] % len(choices)]
        prefix[m & iot] = IOT_PREFIXES[op]
    tail = (global_idx.astype(np.int64) * 61_803_399 + 12_345_677) % 100_000_000
    return (prefix * 100_000_000 + tail).astype(str).astype(object)


def imeis(serial_idx: np.ndarray, tacs: np.ndarray) -> np.ndarray:
    """15-digit IMEIs: a TAC, a 6-digit serial scrambled from a per-TAC counter, a Luhn digit."""
    serial = (serial_idx.astype(np.int64) * 618_031 + 101) % 1_000_000
    body = tacs.astype(np.int64) * 1_000_000 + serial
    return (body * 10 + luhn_digit(body, 14)).astype(str).astype(object)


def account_ids(bank_idx: np.ndarray, global_idx: np.ndarray) -> np.ndarray:
    """19-digit card numbers: the bank's BIN, 12 digits scrambled from a global counter, Luhn."""
    tail = (global_idx.astype(np.int64) * 618_033_988_751 + 3_141_593) % 1_000_000_000_000
    body = np.array(BANK_BINS, dtype=np.int64)[bank_idx] * 1_000_000_000_000 + tail
    # body has 18 digits, which fits int64; the Luhn digit is computed on digits only
    return (body.astype(str).astype(object) + luhn_digit(body, 18).astype(str).astype(object))


def fingerprints(keys: np.ndarray) -> np.ndarray:
    """16-hex-digit device fingerprints, one per distinct key (a splitmix64-style bijection)."""
    x = keys.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    return np.char.add("D", np.char.zfill(np.char.mod("%x", x), 16)).astype(object)


def padded(values: np.ndarray, width: int, prefix: str = "") -> pa.Array:
    """Zero-padded decimal strings of integers with a prefix, built in Arrow (for large tables)."""
    text = pc.utf8_lpad(pc.cast(pa.array(values, pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), text, "") if prefix else text


def day_index(as_of: dt.date) -> int:
    """Days since 1970-01-01 of a date."""
    return (as_of - dt.date(1970, 1, 1)).days
