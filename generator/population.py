"""Persons of one chunk: role, age, gender, hukou and residence, ID number, names, devices.

Roles are exclusive: one misuse typology or one confounder per person, the rest ``normal``.
Group roles (card farmers, elderly victims of one insider, students of one campus) share a region.
The holders whose IDs a SIM farm bought, and the renters whose accounts one card room drives, are
grouped by farm or room but keep their own homes: the IDs of a group are unrelated to each other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from realname_guard.core.generator_config import GeneratorConfig
from realname_guard.generator.reference import (
    COASTAL_PROVINCES,
    INLAND_PROVINCES,
    Regions,
    fingerprints,
    id_numbers,
    names,
    pick_in_province,
    pick_province,
    to_traditional,
)

MISUSE_ROLES = ("card_farmer", "stolen_id", "dormant_mule", "elderly_id", "simbox_farm", "rented_account")
# Misuse never confirmed: no label on their misused cards, nor on any other card or the ID of their holders.
NEVER_LABELLED = ("simbox_farm", "rented_account")
CONFOUNDER_ROLES = ("student", "family_plan", "corporate_iot", "merchant", "traveller", "migrant")


def role_counts(n: int, cfg: GeneratorConfig) -> dict[str, int]:
    """Persons per role in a chunk of ``n``: the share rounded, at least one when the share is > 0."""
    shares = {
        "card_farmer": cfg.card_farmer_share, "stolen_id": cfg.stolen_id_share,
        "dormant_mule": cfg.dormant_mule_share, "elderly_id": cfg.elderly_id_share,
        "simbox_farm": cfg.simbox_farm_share, "rented_account": cfg.rented_account_share,
        "student": cfg.student_share, "family_plan": cfg.family_plan_share,
        "corporate_iot": cfg.corporate_share, "merchant": cfg.merchant_share,
        "traveller": cfg.traveller_share, "migrant": cfg.migrant_share,
    }
    counts = {k: (max(1, round(v * n)) if v > 0 else 0) for k, v in shares.items()}
    if counts["card_farmer"]:
        counts["card_farmer"] = max(counts["card_farmer"], cfg.farmer_group_min)
    if counts["elderly_id"]:
        counts["elderly_id"] = max(counts["elderly_id"], cfg.elderly_group_min)
    if counts["simbox_farm"]:
        counts["simbox_farm"] = max(counts["simbox_farm"], cfg.simbox_farm_ids_min)
    if counts["rented_account"]:
        counts["rented_account"] = max(counts["rented_account"], cfg.rented_room_min)
    counts["migrant"] = min(counts["migrant"], max(0, n - sum(v for k, v in counts.items() if k != "migrant")))
    return counts


def _group_ids(rng: np.random.Generator, n: int, lo: int, hi: int) -> np.ndarray:
    """Consecutive group numbers for ``n`` members, groups of lo..hi (the last one may be merged)."""
    sizes: list[int] = []
    while sum(sizes) < n:
        sizes.append(int(rng.integers(lo, hi + 1)))
    sizes[-1] -= sum(sizes) - n
    if len(sizes) > 1 and sizes[-1] < lo:
        last = sizes.pop()
        sizes[-1] += last
    return np.repeat(np.arange(len(sizes)), sizes)


def _ages(rng: np.random.Generator, role: np.ndarray) -> np.ndarray:
    """Ages 16..90 shaped like an adult population pyramid, narrowed by role."""
    ages = np.arange(16, 91)
    w = np.where(ages <= 60, 1.0, 1.0 - 0.8 * (ages - 60) / 30)
    age = rng.choice(ages, size=len(role), p=w / w.sum())
    n = len(role)
    young = 18 + np.minimum(rng.exponential(7.0, n), 22).astype(int)
    age = np.where(role == "card_farmer", young, age)
    age = np.where(role == "student", rng.integers(18, 24, n), age)
    age = np.where(role == "elderly_id", rng.integers(65, 91, n), age)
    age = np.where(role == "dormant_mule", rng.integers(22, 61, n), age)
    age = np.where(role == "stolen_id", rng.integers(20, 71, n), age)
    return age


@dataclass
class Chunk:
    """Persons of one chunk and the groups they belong to."""

    people: pd.DataFrame
    farmer_region: np.ndarray  # county index per farmer group
    elderly_region: np.ndarray  # county index per insider group
    campus_region: np.ndarray  # county index per campus group
    simbox_region: np.ndarray  # county index per SIM farm
    rented_region: np.ndarray  # county index per card room


def make_people(rng: np.random.Generator, chunk_idx: int, start: int, n: int, cfg: GeneratorConfig,
                reg: Regions, as_of: dt.date, used_ids: list[np.ndarray]) -> Chunk:
    """The persons of one chunk; ``used_ids`` holds ID keys of earlier chunks and is extended."""
    counts = role_counts(n, cfg)
    role = np.full(n, "normal", dtype=object)
    order = rng.permutation(n)
    pos = 0
    for name, k in counts.items():
        role[order[pos:pos + k]] = name
        pos += k
    age = _ages(rng, role)
    gender = np.where(rng.random(n) < np.where(role == "card_farmer", 0.75, 0.5), "M", "F")
    days = (age * 365.25 + rng.integers(1, 365, n)).astype(np.int64)
    birth = np.datetime64(as_of, "D") - days.astype("timedelta64[D]")

    # hukou and residence
    hukou_prov = pick_province(rng, reg, n)
    inland = pick_province(rng, reg, n, INLAND_PROVINCES)
    migrant = role == "migrant"
    hukou_prov = np.where(migrant, inland, hukou_prov)
    hukou = pick_in_province(rng, reg, hukou_prov)
    residence = hukou.copy()
    # the holders of never-labelled misuse are ordinary persons in everything but that misuse
    mover = np.isin(role, ("normal", *NEVER_LABELLED)) & (rng.random(n) < cfg.local_mover_share)
    residence[mover] = pick_in_province(rng, reg, hukou_prov[mover])
    coastal = pick_province(rng, reg, int(migrant.sum()), COASTAL_PROVINCES, exclude=hukou_prov[migrant])
    residence[migrant] = pick_in_province(rng, reg, coastal)

    group = np.full(n, -1, dtype=np.int64)
    farmer_region = _group_regions(rng, reg, role, "card_farmer", group, cfg.farmer_group_min,
                                   cfg.farmer_group_max, INLAND_PROVINCES)
    elderly_region = _group_regions(rng, reg, role, "elderly_id", group, cfg.elderly_group_min,
                                    cfg.elderly_group_max, ())
    for g_role, regions_ in (("card_farmer", farmer_region), ("elderly_id", elderly_region)):
        m = role == g_role
        hukou[m] = regions_[group[m]]
        residence[m] = regions_[group[m]]
    campus_region = _group_regions(rng, reg, role, "student", group, 20, 60, COASTAL_PROVINCES + INLAND_PROVINCES)
    m = role == "student"
    residence[m] = campus_region[group[m]]
    # farms and card rooms sit where the gang is; their holders stay where they live
    simbox_region = _group_regions(rng, reg, role, "simbox_farm", group, cfg.simbox_farm_ids_min,
                                   cfg.simbox_farm_ids_max, ())
    rented_region = _group_regions(rng, reg, role, "rented_account", group, cfg.rented_room_min,
                                   cfg.rented_room_max, ())

    # ID numbers: unique across chunks, resampling the sequence on collision
    birth_int = pd.DatetimeIndex(birth).strftime("%Y%m%d").astype(np.int64).to_numpy()
    region_int = reg.code_int[hukou]
    seq = rng.integers(0, 500, n) * 2 + (gender == "M")
    key = region_int * 100_000_000_000 + birth_int * 1000 + seq
    seen = np.concatenate(used_ids) if used_ids else np.empty(0, np.int64)
    for _ in range(50):
        dup = pd.Series(key).duplicated().to_numpy() | np.isin(key, seen)
        if not dup.any():
            break
        seq[dup] = rng.integers(0, 500, int(dup.sum())) * 2 + (gender[dup] == "M")
        key = region_int * 100_000_000_000 + birth_int * 1000 + seq
    used_ids.append(key)
    id_number = id_numbers(region_int, birth_int, seq)
    id_type = np.full(n, "RESIDENT_ID", dtype=object)
    foreign = (role == "normal") & (rng.random(n) < cfg.foreign_id_share)
    nf = int(foreign.sum())
    id_type[foreign] = np.where(rng.random(nf) < 0.5, "PASSPORT", "HMT_PERMIT")
    letters = np.where(id_type[foreign] == "PASSPORT", "E", np.where(rng.random(nf) < 0.7, "H", "M"))
    id_number[foreign] = np.char.add(letters.astype(str), rng.integers(10**7, 10**8, nf).astype(str))

    nm = names()
    surname = nm.surnames[rng.choice(len(nm.surnames), n, p=nm.surname_p)]
    given = np.where(gender == "M", nm.male[rng.integers(0, len(nm.male), n)],
                     nm.female[rng.integers(0, len(nm.female), n)])
    full_name = np.char.add(surname.astype(str), given.astype(str)).astype(object)
    trad = rng.random(n) < cfg.traditional_name_share
    bank_name = full_name.copy()
    bank_name[trad] = to_traditional(full_name[trad])

    people = pd.DataFrame({
        "pid": np.arange(start, start + n, dtype=np.int64),
        "role": role, "age": age, "gender": gender, "birth": birth, "hukou": hukou,
        "residence": residence, "id_type": id_type, "id_number": id_number, "name": full_name,
        "bank_name": bank_name, "group": group,
        "fingerprint": fingerprints((np.int64(chunk_idx) << 32) + np.arange(n, dtype=np.int64)),
    })
    return Chunk(people, farmer_region, elderly_region, campus_region, simbox_region, rented_region)


def _group_regions(rng: np.random.Generator, reg: Regions, role: np.ndarray, name: str, group: np.ndarray,
                   lo: int, hi: int, among: tuple[str, ...]) -> np.ndarray:
    """Assign members of ``name`` to groups (in ``group``) and draw one county per group."""
    idx = np.flatnonzero(role == name)
    if len(idx) == 0:
        return np.empty(0, dtype=np.int64)
    gid = _group_ids(rng, len(idx), lo, hi)
    group[idx] = gid
    n_groups = int(gid.max()) + 1
    return pick_in_province(rng, reg, pick_province(rng, reg, n_groups, among))
