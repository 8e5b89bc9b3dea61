"""Honest SIMs and bank accounts, including the confounders that look odd but are honest.

Students open SIMs and accounts in bursts at a campus agent; family plans hold several SIMs on
one ID used in different phones; corporate IoT SIMs come in batches of dozens to hundreds under
one ID (or a unified social credit code) and carry data only; travellers spend days abroad.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from realname_guard.core.generator_config import GeneratorConfig
from realname_guard.generator.frames import (
    ACCOUNT_DEFAULTS,
    SIM_DEFAULTS,
    birth_us,
    daytime_us,
    frame,
    uniform_us,
)
from realname_guard.generator.reference import (
    BANKS,
    COMPANY_KINDS,
    COMPANY_WORDS,
    OPERATOR_WEIGHTS,
    OPERATORS,
    TRAVEL_COUNTRIES,
    TRAVEL_WEIGHTS,
    US_PER_DAY,
    Regions,
    uscc,
)

FACE_CHECK_SINCE = dt.datetime(2019, 12, 1)  # MIIT: portrait comparison at every outlet


def us(ts: dt.datetime) -> int:
    """Microseconds since 1970-01-01 of a naive datetime."""
    return int((ts - dt.datetime(1970, 1, 1)) / dt.timedelta(microseconds=1))


def outlet_ids(operator: np.ndarray, region: np.ndarray, kind: str | np.ndarray, k: np.ndarray) -> np.ndarray:
    """Outlet (or branch) identifiers ``<operator|bank><region><kind><nn>``; one per store or agent."""
    kinds = np.broadcast_to(np.asarray(kind, dtype=object), operator.shape)
    return np.array([f"{o}{r}{t}{int(i):02d}" for o, r, t, i in zip(operator, region, kinds, k, strict=True)],
                    dtype=object)


def operator_weights(mvno_share: float) -> np.ndarray:
    """Operator mix: the three carriers by market share, ``mvno_share`` split 2:1 over two MVNOs."""
    big = np.asarray(OPERATOR_WEIGHTS[:3]) / sum(OPERATOR_WEIGHTS[:3]) * (1 - mvno_share)
    return np.r_[big, mvno_share * 2 / 3, mvno_share / 3]


def _face(rng: np.random.Generator, reg_time: np.ndarray, channel: np.ndarray) -> np.ndarray:
    after = reg_time >= us(FACE_CHECK_SINCE)
    p = np.where(after, np.where(channel == "ONLINE", 1.0, 0.97), 0.15)
    return rng.random(len(reg_time)) < p


def honest_sims(rng: np.random.Generator, people: pd.DataFrame, cfg: GeneratorConfig, reg: Regions,
                as_of_us: int, campus_start: np.ndarray) -> pd.DataFrame:
    """Every person's own SIMs: 1-3 (students 2-3, family plans 3-5, victims and farmers 1)."""
    role = people["role"].to_numpy()
    n = len(people)
    w = np.asarray(cfg.sims_per_person_weights, dtype=float)
    count = rng.choice(np.arange(1, 4), size=n, p=w / w.sum())
    count = np.where(role == "student", rng.integers(2, 4, n), count)
    count = np.where(role == "family_plan", rng.integers(3, 6, n), count)
    count = np.where(np.isin(role, ("card_farmer", "elderly_id", "stolen_id")), 1, count)
    person = np.repeat(np.arange(n), count)
    rank = np.arange(len(person)) - np.repeat(np.cumsum(count) - count, count)
    m = len(person)
    prole = role[person]
    birth = people["birth"].to_numpy()[person]
    residence = reg.codes[people["residence"].to_numpy()[person]]
    hukou = reg.codes[people["hukou"].to_numpy()[person]]

    op_idx = rng.choice(len(OPERATORS), size=m, p=operator_weights(cfg.mvno_share))
    primary_op = op_idx[np.cumsum(count) - count][person]
    op_idx = np.where((prole == "family_plan") | (rank == 0), primary_op, op_idx)
    operator = np.array(OPERATORS, dtype=object)[op_idx]

    lo = np.maximum(birth_us(birth, 16), as_of_us - 12 * 365 * US_PER_DAY)
    first = uniform_us(rng, lo, np.full(m, as_of_us - US_PER_DAY))
    first_of_person = first[np.cumsum(count) - count][person]
    later = uniform_us(rng, first_of_person, np.full(m, as_of_us - US_PER_DAY))
    reg_time = np.where(rank == 0, first, later)
    family = (prole == "family_plan") & (rank > 0)
    family_day = later[np.cumsum(count) - count + np.minimum(1, count - 1)][person]
    reg_time = np.where(family, family_day + rank * 60_000_000, reg_time)

    channel = rng.choice(np.array(["STORE", "AGENT", "ONLINE"], dtype=object), size=m, p=[0.55, 0.2, 0.25])
    kind = np.where(channel == "AGENT", "A", "S")
    k = np.where(channel == "AGENT", rng.integers(0, 12, m), rng.integers(0, 8, m))
    region = residence.copy()
    back_home = (prole == "migrant") & (rank == 0) & (rng.random(m) < 0.5)
    region[back_home] = hukou[back_home]

    campus = (prole == "student") & (rank > 0)
    grp = people["group"].to_numpy()[person]
    if campus.any():
        reg_time[campus] = campus_start[grp[campus]] + rng.integers(0, 5, int(campus.sum())) * US_PER_DAY
        channel[campus] = "AGENT"
        kind[campus] = "A"
        k[campus] = 90 + grp[campus] % 10
    reg_time = np.minimum(daytime_us(rng, reg_time), as_of_us - US_PER_DAY // 2)
    outlet = outlet_ids(operator, region, kind, k)
    outlet[channel == "ONLINE"] = None

    status = np.full(m, "ACTIVE", dtype=object)
    u = rng.random(m)
    cancelled = u < cfg.sim_cancelled_share
    suspended = (u >= cfg.sim_cancelled_share) & (u < cfg.sim_cancelled_share + cfg.sim_suspended_share)
    status[cancelled] = "CANCELLED"
    status[suspended] = "SUSPENDED"
    end = uniform_us(rng, reg_time, np.full(m, as_of_us - US_PER_DAY))
    end = np.minimum(end, as_of_us - 1)
    cancel_time = np.where(cancelled, end, -1)
    act_end = np.where(cancelled | suspended, end, -1)

    profile = np.where(rank == 0, "personal", "secondary").astype(object)
    profile[prole == "family_plan"] = "personal"
    profile[prole == "student"] = "student"
    profile[people["age"].to_numpy()[person] >= 70] = "elderly_own"

    trip_start = np.full(m, -1)
    trip_len = np.zeros(m, dtype=np.int64)
    trip_country = np.full(m, None, dtype=object)
    travel = (prole == "traveller") & (rank == 0)
    nt = int(travel.sum())
    trip_len[travel] = rng.integers(3, min(13, cfg.activity_days - 1), nt)
    trip_start[travel] = rng.integers(0, cfg.activity_days - trip_len[travel])
    trip_country[travel] = rng.choice(np.array(TRAVEL_COUNTRIES, dtype=object), nt,
                                      p=np.asarray(TRAVEL_WEIGHTS) / sum(TRAVEL_WEIGHTS))

    return frame(
        SIM_DEFAULTS, m, person=person, operator=operator, id_type=people["id_type"].to_numpy()[person],
        id_number=people["id_number"].to_numpy()[person], reg_name=people["name"].to_numpy()[person],
        reg_time=reg_time, channel=channel, outlet_id=outlet, outlet_region=region,
        face_verified=_face(rng, reg_time, channel), status=status, cancel_time=cancel_time,
        profile=profile, act_region=residence, trip_start=trip_start, trip_len=trip_len,
        trip_country=trip_country, act_end=act_end, primary=rank == 0,
        typology=np.where(prole == "migrant", "migrant", np.where(
            np.isin(prole, ("student", "family_plan", "traveller")), prole, "normal")).astype(object),
    )


def corporate_sims(rng: np.random.Generator, people: pd.DataFrame, cfg: GeneratorConfig, reg: Regions,
                   as_of_us: int) -> pd.DataFrame:
    """IoT SIMs of corporate customers: batches under one ID, CORPORATE channel, data only."""
    corp = np.flatnonzero(people["role"].to_numpy() == "corporate_iot")
    if len(corp) == 0:
        return frame(SIM_DEFAULTS, 0)
    count = np.clip(np.round(rng.lognormal(np.log(cfg.corporate_sims_median), 0.9, len(corp))),
                    min(20, cfg.corporate_sims_max), cfg.corporate_sims_max).astype(int)
    person = np.repeat(corp, count)
    m = len(person)
    owner = np.repeat(np.arange(len(corp)), count)
    residence = reg.codes[people["residence"].to_numpy()[person]]
    op = np.array(OPERATORS[:3], dtype=object)[rng.integers(0, 3, len(corp))][owner]
    use_uscc = (rng.random(len(corp)) < cfg.corporate_uscc_share)
    codes = uscc(rng, reg.code_int[people["residence"].to_numpy()[corp]])
    company = np.array([COMPANY_WORDS[a] + COMPANY_WORDS[b] + COMPANY_KINDS[c] for a, b, c in zip(
        rng.integers(0, len(COMPANY_WORDS), len(corp)), rng.integers(0, len(COMPANY_WORDS), len(corp)),
        rng.integers(0, len(COMPANY_KINDS), len(corp)), strict=True)], dtype=object)
    id_type = np.where(use_uscc, "OTHER", "RESIDENT_ID").astype(object)[owner]
    id_number = np.where(use_uscc, codes, people["id_number"].to_numpy()[corp])[owner]
    reg_name = np.where(use_uscc, company, people["name"].to_numpy()[corp])[owner]
    batches = rng.integers(1, 5, len(corp))
    batch_day = uniform_us(rng, np.full(len(corp) * 4, as_of_us - 3 * 365 * US_PER_DAY),
                           np.full(len(corp) * 4, as_of_us - 2 * US_PER_DAY)).reshape(-1, 4)
    pick = (rng.random(m) * batches[owner]).astype(int)
    reg_time = daytime_us(rng, batch_day[owner, pick])
    reg_time = np.minimum(reg_time, as_of_us - US_PER_DAY // 2)
    outlet = outlet_ids(op, residence, "C", np.ones(m, dtype=int))
    return frame(
        SIM_DEFAULTS, m, person=person, operator=op, id_type=id_type, id_number=id_number,
        reg_name=reg_name, reg_time=reg_time, channel="CORPORATE", outlet_id=outlet,
        outlet_region=residence, face_verified=True, profile="iot", act_region=residence,
        tac_kind="iot", iot=True, typology="corporate_iot",
    )


def honest_accounts(rng: np.random.Generator, people: pd.DataFrame, cfg: GeneratorConfig, reg: Regions,
                    as_of_us: int, campus_start: np.ndarray) -> pd.DataFrame:
    """Every person's own accounts: 1-4 at distinct banks (students 2-4, farmers and victims 1-2)."""
    role = people["role"].to_numpy()
    n = len(people)
    w = np.asarray(cfg.accounts_per_person_weights, dtype=float)
    count = rng.choice(np.arange(1, 5), size=n, p=w / w.sum())
    count = np.where(role == "student", rng.integers(2, 5, n), count)
    count = np.where(role == "merchant", np.maximum(count, 2), count)
    count = np.where(np.isin(role, ("card_farmer", "stolen_id", "elderly_id")), np.minimum(count, 2), count)
    person = np.repeat(np.arange(n), count)
    rank = np.arange(len(person)) - np.repeat(np.cumsum(count) - count, count)
    m = len(person)
    prole = role[person]
    birth = people["birth"].to_numpy()[person]
    residence = reg.codes[people["residence"].to_numpy()[person]]
    hukou = reg.codes[people["hukou"].to_numpy()[person]]
    bank_order = np.argsort(rng.random((n, len(BANKS))), axis=1)
    bank = bank_order[person, rank]
    banks = np.array(BANKS, dtype=object)[bank]

    lo = np.maximum(birth_us(birth, 16), as_of_us - 15 * 365 * US_PER_DAY)
    open_time = uniform_us(rng, lo, np.full(m, as_of_us - US_PER_DAY))
    channel = rng.choice(np.array(["COUNTER", "MOBILE_APP", "ONLINE", "AGENT"], dtype=object), size=m,
                         p=[0.45, 0.4, 0.1, 0.05])
    channel[(open_time < us(dt.datetime(2015, 1, 1))) & (channel != "AGENT")] = "COUNTER"
    campus = (prole == "student") & (rank > 0)
    grp = people["group"].to_numpy()[person]
    if campus.any():
        open_time[campus] = campus_start[grp[campus]] + rng.integers(0, 5, int(campus.sum())) * US_PER_DAY
        channel[campus] = "AGENT"
    open_time = np.minimum(daytime_us(rng, open_time), as_of_us - US_PER_DAY // 2)
    region = residence.copy()
    old_home = (prole == "migrant") & (rng.random(m) < 0.4)
    region[old_home] = hukou[old_home]
    k = np.where(campus, 90 + grp % 10, rng.integers(0, 6, m))
    branch = outlet_ids(banks, region, np.where(channel == "AGENT", "A", "B"), k)
    remote = np.isin(channel, ("MOBILE_APP", "ONLINE"))
    branch[remote] = None
    region[remote] = residence[remote]
    acls = np.where(channel == "COUNTER", np.where(rng.random(m) < 0.85, "I", "II"),
                    np.where(rng.random(m) < 0.8, "II", "III")).astype(object)
    device = people["fingerprint"].to_numpy()[person]
    u = rng.random(m)
    reserved_kind = np.where(u < cfg.reserved_null_share, "null", np.where(
        u < cfg.reserved_null_share + cfg.reserved_stale_share, "stale", "own")).astype(object)

    status = np.full(m, "ACTIVE", dtype=object)
    u = rng.random(m)
    closed = u < cfg.account_closed_share
    frozen = (u >= cfg.account_closed_share) & (u < cfg.account_closed_share + cfg.account_frozen_share)
    status[closed] = "CLOSED"
    status[frozen] = "FROZEN"
    end = np.minimum(uniform_us(rng, open_time, np.full(m, as_of_us - US_PER_DAY)), as_of_us - 1)
    profile = np.where(rng.random(m) < cfg.dormant_account_share, "dormant", "personal").astype(object)
    profile[(prole == "merchant") & (rank == 0)] = "merchant"
    return frame(
        ACCOUNT_DEFAULTS, m, person=person, bank=bank, id_type=people["id_type"].to_numpy()[person],
        id_number=people["id_number"].to_numpy()[person], holder_name=people["bank_name"].to_numpy()[person],
        open_time=open_time, branch_id=branch, branch_region=region, channel=channel, account_class=acls,
        reserved_kind=reserved_kind, open_device_id=np.where(remote, device, None), status=status,
        close_time=np.where(closed, end, -1), profile=profile, use_device=device, ip_region=residence,
        txn_end=np.where(closed | frozen, end, -1),
        typology=np.where(np.isin(prole, ("migrant", "student", "merchant")), prole, "normal").astype(object),
    )
