"""Misuse typologies: the cards that are registered to a real ID but used by someone else.

Card farmers sell bursts of SIMs and accounts opened at one agent; stolen IDs are used without a
face check far from home; dormant accounts turn into mules; an outlet insider registers extra SIMs
on elderly people's IDs. Two more are never labelled and show only as many unrelated IDs converging
on a few devices: SIM farms (猫池) run bought IDs' SIMs in SIM-box boards, and card rooms (卡房) of
跑分 platforms drive rented accounts from a few phones. Only these cards carry ``is_misuse = 1``;
the victims' and holders' own cards do not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from realname_guard.core.generator_config import GeneratorConfig
from realname_guard.generator.cards import outlet_ids
from realname_guard.generator.frames import ACCOUNT_DEFAULTS, SIM_DEFAULTS, daytime_us, frame
from realname_guard.generator.population import Chunk
from realname_guard.generator.reference import (
    BANKS,
    OPERATORS,
    SIMBOX_COUNTRIES,
    US_PER_DAY,
    US_PER_HOUR,
    Regions,
    fingerprints,
    names,
    pick_in_province,
    pick_province,
)

FARMER_OPERATOR_WEIGHTS = (0.4, 0.2, 0.15, 0.15, 0.1)  # MVNO numbers are over-represented
SIMBOX_BOARD_SIMS = (8, 16)  # SIMs per SIM-box board of a farm (one IMEI), both ends included
SIMBOX_ONLINE_SHARE = 0.4  # farm SIMs registered ONLINE (mailed to the farm); the rest at 1-2 accomplice agents
RENTED_PER_PHONE = 10  # a card room drives about this many rented accounts from each of its phones
RENTED_ABROAD_SHARE = 0.25  # card rooms abroad (ip_region ABROAD); the others in one county


def _days(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    return (rng.uniform(lo, hi, n) * US_PER_DAY).astype(np.int64)


def _gang_devices(namespace: int, chunk_idx: int, keys: np.ndarray) -> np.ndarray:
    return fingerprints((np.int64(namespace) << 56) + (np.int64(chunk_idx) << 32) + keys.astype(np.int64))


def _rank_within(ids: np.ndarray) -> np.ndarray:
    """Position of each row within its run of equal (sorted) ids."""
    starts = np.r_[0, np.flatnonzero(np.diff(ids)) + 1]
    sizes = np.diff(np.r_[starts, len(ids)])
    return np.arange(len(ids)) - np.repeat(starts, sizes)


def _shuffled_rank(rng: np.random.Generator, keys: np.ndarray) -> np.ndarray:
    """Position of each row within the rows of its key, in random order."""
    order = np.lexsort((rng.random(len(keys)), keys))
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = _rank_within(keys[order])
    return rank


def _far_county(rng: np.random.Generator, reg: Regions, home: np.ndarray) -> np.ndarray:
    """A county in another province than each given county."""
    prov = pick_province(rng, reg, len(home), exclude=reg.province[home])
    return pick_in_province(rng, reg, prov)


def card_farmers(rng: np.random.Generator, chunk: Chunk, cfg: GeneratorConfig, reg: Regions, as_of_us: int,
                 chunk_idx: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Groups open bursts of SIMs (used in SIM boxes abroad) and pass-through accounts at one agent."""
    people = chunk.people
    farmers = np.flatnonzero(people["role"].to_numpy() == "card_farmer")
    n_groups = len(chunk.farmer_region)
    if len(farmers) == 0:
        return frame(SIM_DEFAULTS, 0), frame(ACCOUNT_DEFAULTS, 0)
    group_of = people["group"].to_numpy()
    g_region = reg.codes[chunk.farmer_region]
    g_far = reg.codes[_far_county(rng, reg, chunk.farmer_region)]
    g_start = as_of_us - as_of_us % US_PER_DAY - _days(rng, 14, cfg.misuse_recent_days, n_groups)
    g_start -= g_start % US_PER_DAY
    g_country = np.array(SIMBOX_COUNTRIES, dtype=object)[rng.integers(0, len(SIMBOX_COUNTRIES), n_groups)]
    g_agent = rng.integers(0, 12, n_groups)
    g_devices = _gang_devices(1, chunk_idx, np.arange(n_groups * 2)).reshape(n_groups, 2)

    person = np.repeat(farmers, rng.integers(2, 6, len(farmers)))
    g = group_of[person]
    m = len(person)
    op = np.array(OPERATORS, dtype=object)[rng.choice(len(OPERATORS), m, p=FARMER_OPERATOR_WEIGHTS)]
    reg_time = daytime_us(rng, g_start[g] + rng.integers(0, 4, m) * US_PER_DAY)
    act_start = reg_time + _days(rng, 3, 15, m)
    rank = _rank_within(g)
    sizes = np.bincount(g, minlength=n_groups)
    slot_offset = np.r_[0, np.cumsum(-(-sizes // 8))][:-1]
    sims = frame(
        SIM_DEFAULTS, m, person=person, operator=op, id_number=people["id_number"].to_numpy()[person],
        reg_name=people["name"].to_numpy()[person], reg_time=np.minimum(reg_time, as_of_us - US_PER_HOUR),
        channel="AGENT", outlet_id=outlet_ids(op, g_region[g], "A", g_agent[g]), outlet_region=g_region[g],
        face_verified=rng.random(m) < 0.9, profile="simbox", act_region=g_region[g],
        abroad_country=g_country[g], device_group=slot_offset[g] + rank // 8, tac_kind="simbox",
        act_start=act_start, is_misuse=1, typology="card_farmer", misuse_start=act_start, group=g,
        gang_sim=rank == 0,
    )

    n_acc = rng.integers(2, 5, len(farmers))
    owner = np.repeat(np.arange(len(farmers)), n_acc)
    person = farmers[owner]
    g = group_of[person]
    m = len(person)
    bank = np.argsort(rng.random((len(farmers), len(BANKS))), axis=1)[owner, _rank_within(owner)]
    banks = np.array(BANKS, dtype=object)[bank]
    open_time = np.minimum(daytime_us(rng, g_start[g] + rng.integers(0, 5, m) * US_PER_DAY), as_of_us - US_PER_HOUR)
    agent = rng.random(m) < 0.4
    channel = np.where(agent, "AGENT", "MOBILE_APP").astype(object)
    branch = outlet_ids(banks, g_region[g], "A", g_agent[g])
    branch[~agent] = None
    device = g_devices[g, rng.integers(0, 2, m)]
    txn_start = open_time + _days(rng, 2, 10, m)
    accounts = frame(
        ACCOUNT_DEFAULTS, m, person=person, bank=bank, id_number=people["id_number"].to_numpy()[person],
        holder_name=people["bank_name"].to_numpy()[person], open_time=open_time, branch_id=branch,
        branch_region=g_region[g], channel=channel,
        account_class=np.where(rng.random(m) < 0.8, "II", "I").astype(object),
        reserved_kind=np.where(rng.random(m) < cfg.farmer_gang_reserved_share, "gang", "own_burst").astype(object),
        open_device_id=np.where(agent, None, device), profile="passthrough", use_device=device,
        ip_region=np.where(rng.random(m) < 0.7, "ABROAD", g_far[g]).astype(object), txn_start=txn_start,
        is_misuse=1, typology="card_farmer", misuse_start=txn_start, group=g,
    )
    return sims, accounts


def _name_off(rng: np.random.Generator, name: np.ndarray, gender: np.ndarray) -> np.ndarray:
    """Names one character off: the last character swapped for another given-name character or dropped."""
    nm = names()
    pool = np.where(gender == "M", nm.male[rng.integers(0, len(nm.male), len(name))],
                    nm.female[rng.integers(0, len(nm.female), len(name))])
    drop = rng.random(len(name)) < 0.3
    out = []
    for v, p, d in zip(name.tolist(), pool.tolist(), drop.tolist(), strict=True):
        if d and len(v) >= 3:
            out.append(v[:-1])
        else:
            repl = next((c for c in p + "明华" if c != v[-1]), "明")
            out.append(v[:-1] + repl)
    return np.array(out, dtype=object)


def stolen_ids(rng: np.random.Generator, chunk: Chunk, cfg: GeneratorConfig, reg: Regions, as_of_us: int,
               chunk_idx: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Lost or stolen IDs used without a face check far from home, names sometimes slightly off."""
    people = chunk.people
    victims = np.flatnonzero(people["role"].to_numpy() == "stolen_id")
    if len(victims) == 0:
        return frame(SIM_DEFAULTS, 0), frame(ACCOUNT_DEFAULTS, 0)
    nv = len(victims)
    far = reg.codes[_far_county(rng, reg, people["hukou"].to_numpy()[victims])]
    start = as_of_us - as_of_us % US_PER_DAY - _days(rng, 7, cfg.misuse_recent_days, nv)
    start -= start % US_PER_DAY
    name = people["name"].to_numpy()[victims]
    off = rng.random(nv) < cfg.stolen_name_off_share
    used_name = np.where(off, _name_off(rng, name, people["gender"].to_numpy()[victims]), name)
    device = _gang_devices(2, chunk_idx, np.arange(nv))

    owner = np.repeat(np.arange(nv), rng.integers(1, 4, nv))
    m = len(owner)
    op = np.array(OPERATORS[:3], dtype=object)[rng.integers(0, 3, m)]
    reg_time = np.minimum(daytime_us(rng, start[owner] + rng.integers(0, 10, m) * US_PER_DAY),
                          as_of_us - US_PER_HOUR)
    store = rng.random(m) < 0.6
    sims = frame(
        SIM_DEFAULTS, m, person=victims[owner], operator=op, id_number=people["id_number"].to_numpy()[victims][owner],
        reg_name=used_name[owner], reg_time=reg_time, channel=np.where(store, "STORE", "AGENT").astype(object),
        outlet_id=outlet_ids(op, far[owner], np.where(store, "S", "A"), rng.integers(0, 8, m)),
        outlet_region=far[owner], face_verified=False, profile="stolen", act_region=far[owner],
        is_misuse=1, typology="stolen_id", misuse_start=reg_time,
    )

    owner = np.repeat(np.arange(nv), rng.choice(3, nv, p=[0.3, 0.5, 0.2]))
    m = len(owner)
    bank = np.argsort(rng.random((nv, len(BANKS))), axis=1)[owner, _rank_within(owner)]
    open_time = np.minimum(daytime_us(rng, start[owner] + rng.integers(0, 12, m) * US_PER_DAY),
                           as_of_us - US_PER_HOUR)
    counter = rng.random(m) < 0.5
    txn_start = open_time + _days(rng, 1, 5, m)
    accounts = frame(
        ACCOUNT_DEFAULTS, m, person=victims[owner], bank=bank,
        id_number=people["id_number"].to_numpy()[victims][owner], holder_name=used_name[owner],
        open_time=open_time, branch_id=outlet_ids(np.array(BANKS, dtype=object)[bank], far[owner],
                                                  np.where(counter, "B", "A"), rng.integers(0, 6, m)),
        branch_region=far[owner], channel=np.where(counter, "COUNTER", "AGENT").astype(object),
        account_class="II", reserved_kind="stolen", profile="passthrough_light", use_device=device[owner],
        ip_region=far[owner], txn_start=txn_start, is_misuse=1, typology="stolen_id", misuse_start=txn_start,
    )
    return sims, accounts


def elderly_ids(rng: np.random.Generator, chunk: Chunk, cfg: GeneratorConfig, reg: Regions,
                as_of_us: int) -> pd.DataFrame:
    """An outlet insider registers extra SIMs on elderly IDs, used intensively elsewhere."""
    people = chunk.people
    victims = np.flatnonzero(people["role"].to_numpy() == "elderly_id")
    if len(victims) == 0:
        return frame(SIM_DEFAULTS, 0)
    n_groups = len(chunk.elderly_region)
    g_region = reg.codes[chunk.elderly_region]
    g_op = np.array(OPERATORS[:3], dtype=object)[rng.integers(0, 3, n_groups)]
    g_store = rng.integers(0, 8, n_groups)
    g_start = as_of_us - as_of_us % US_PER_DAY - _days(rng, 30, max(31, cfg.misuse_recent_days), n_groups)
    g_start -= g_start % US_PER_DAY
    person = np.repeat(victims, rng.integers(1, 3, len(victims)))
    g = people["group"].to_numpy()[person]
    m = len(person)
    reg_time = np.minimum(daytime_us(rng, g_start[g] + rng.integers(0, 60, m) * US_PER_DAY),
                          as_of_us - US_PER_HOUR)
    home = chunk.elderly_region[g]
    elsewhere = np.where(rng.random(m) < 0.6, _far_county(rng, reg, home),
                         pick_in_province(rng, reg, reg.province[home]))
    return frame(
        SIM_DEFAULTS, m, person=person, operator=g_op[g], id_number=people["id_number"].to_numpy()[person],
        reg_name=people["name"].to_numpy()[person], reg_time=reg_time, channel="STORE",
        outlet_id=outlet_ids(g_op[g], g_region[g], "S", g_store[g]), outlet_region=g_region[g],
        face_verified=False, profile="elderly_misuse", act_region=reg.codes[elsewhere], is_misuse=1,
        typology="elderly_id", misuse_start=reg_time, group=g,
    )


def dormant_mules(rng: np.random.Generator, chunk: Chunk, accounts: pd.DataFrame, cfg: GeneratorConfig,
                  reg: Regions, as_of_us: int, chunk_idx: int) -> None:
    """Turn each dormant-mule person's oldest account into a mule: silent, then a pass-through burst."""
    people = chunk.people
    is_mule = people["role"].to_numpy()[accounts["person"].to_numpy()] == "dormant_mule"
    cand = accounts.index[is_mule]
    if len(cand) == 0:
        return
    rows = accounts.loc[cand].sort_values(["person", "open_time"]).groupby("person").head(1).index.to_numpy()
    n = len(rows)
    window_start = as_of_us - as_of_us % US_PER_DAY - cfg.activity_days * US_PER_DAY
    burst = window_start + _days(rng, 0.6 * cfg.activity_days, 0.9 * cfg.activity_days, n)
    home = people["residence"].to_numpy()[accounts.loc[rows, "person"].to_numpy()]
    far = reg.codes[_far_county(rng, reg, home)]
    old = daytime_us(rng, as_of_us - _days(rng, 2 * 365, 6 * 365, n))
    accounts.loc[rows, "open_time"] = old
    accounts.loc[rows, "status"] = "ACTIVE"
    accounts.loc[rows, "close_time"] = -1
    accounts.loc[rows, "profile"] = "dormant_mule"
    accounts.loc[rows, "txn_start"] = burst
    accounts.loc[rows, "txn_end"] = np.minimum(burst + _days(rng, 2, 6, n), as_of_us - 1)
    changed = rng.random(n) < cfg.dormant_reserved_changed_share
    accounts.loc[rows[changed], "reserved_kind"] = "gang_any"
    accounts.loc[rows, "use_device"] = _gang_devices(3, chunk_idx, np.arange(n))
    accounts.loc[rows, "ip_region"] = np.where(rng.random(n) < 0.3, "ABROAD", far)
    accounts.loc[rows, "is_misuse"] = 1
    accounts.loc[rows, "typology"] = "dormant_mule"
    accounts.loc[rows, "misuse_start"] = burst


def simbox_farms(rng: np.random.Generator, chunk: Chunk, cfg: GeneratorConfig, reg: Regions, as_of_us: int,
                 first_board: int) -> pd.DataFrame:
    """SIM farms (猫池): 1-2 SIMs on each of many bought IDs, run in a few SIM-box boards, outbound only.

    The SIMs of a farm are registered in a burst of days at one or two agents of the farm's county
    or ONLINE, then dealt at random over boards of at most 8-16 slots (``device_group`` from
    ``first_board`` on: one IMEI per board), so that each IMEI carries SIMs of many unrelated IDs.
    A farm either calls (the card farmers' ``simbox`` profile: a few hundred kB of data a day) or
    sends bulk SMS (``simbox_sms``: no data), at home; almost nothing comes in.
    """
    people = chunk.people
    holders = np.flatnonzero(people["role"].to_numpy() == "simbox_farm")
    if len(holders) == 0:
        return frame(SIM_DEFAULTS, 0)
    n_farms = len(chunk.simbox_region)
    f_region = reg.codes[chunk.simbox_region]
    f_start = as_of_us - as_of_us % US_PER_DAY - _days(rng, 14, cfg.misuse_recent_days, n_farms)
    f_start -= f_start % US_PER_DAY
    f_agent = rng.integers(0, 12, n_farms)
    f_board = rng.integers(SIMBOX_BOARD_SIMS[0], SIMBOX_BOARD_SIMS[1] + 1, n_farms)
    f_profile = np.where(rng.random(n_farms) < 0.5, "simbox", "simbox_sms").astype(object)

    person = np.repeat(holders, rng.integers(1, 3, len(holders)))
    f = people["group"].to_numpy()[person]
    m = len(person)
    boards = -(-np.bincount(f, minlength=n_farms) // f_board)  # dealt round, so boards are about equally full
    board = first_board + np.r_[0, np.cumsum(boards)][:-1][f] + _shuffled_rank(rng, f) % boards[f]
    op = np.array(OPERATORS, dtype=object)[rng.choice(len(OPERATORS), m, p=FARMER_OPERATOR_WEIGHTS)]
    reg_time = np.minimum(daytime_us(rng, f_start[f] + rng.integers(0, 4, m) * US_PER_DAY), as_of_us - US_PER_HOUR)
    online = rng.random(m) < SIMBOX_ONLINE_SHARE
    outlet = outlet_ids(op, f_region[f], "A", (f_agent[f] + rng.integers(0, 2, m)) % 12)
    outlet[online] = None
    act_start = reg_time + _days(rng, 1, 7, m)
    return frame(
        SIM_DEFAULTS, m, person=person, operator=op, id_number=people["id_number"].to_numpy()[person],
        reg_name=people["name"].to_numpy()[person], reg_time=reg_time,
        channel=np.where(online, "ONLINE", "AGENT").astype(object), outlet_id=outlet, outlet_region=f_region[f],
        face_verified=online | (rng.random(m) < 0.7), profile=f_profile[f], act_region=f_region[f],
        device_group=board, tac_kind="simbox", act_start=act_start, is_misuse=1, typology="simbox_farm",
        misuse_start=act_start, group=f,
    )


def rented_accounts(rng: np.random.Generator, chunk: Chunk, accounts: pd.DataFrame, cfg: GeneratorConfig,
                    reg: Regions, as_of_us: int, chunk_idx: int) -> None:
    """Each renter's account, drawn among theirs, is driven by a card room (卡房) of a 跑分 platform.

    The account keeps its honest registration and reserved number (the renter relays the codes);
    from the rental on, which began up to 30 days before the window or in its first half, it only
    passes money through, online, from one of the room's phones (about ten renters per phone) and
    from the room's county, or from abroad.
    """
    people = chunk.people
    is_renter = people["role"].to_numpy()[accounts["person"].to_numpy()] == "rented_account"
    cand = accounts.index[is_renter]
    if len(cand) == 0:
        return
    rows = np.sort(accounts.loc[rng.permutation(cand)].drop_duplicates("person").index.to_numpy())
    n = len(rows)
    room = people["group"].to_numpy()[accounts.loc[rows, "person"].to_numpy()]
    n_rooms = len(chunk.rented_region)
    phones = 1 + np.bincount(room, minlength=n_rooms) // RENTED_PER_PHONE
    phone = np.r_[0, np.cumsum(phones)][:-1][room] + _shuffled_rank(rng, room) % phones[room]
    r_ip = np.where(rng.random(n_rooms) < RENTED_ABROAD_SHARE, "ABROAD", reg.codes[chunk.rented_region])
    window_start = as_of_us - as_of_us % US_PER_DAY - cfg.activity_days * US_PER_DAY
    start = window_start + _days(rng, -30, 0.5 * cfg.activity_days, n)
    start = np.maximum(start, accounts.loc[rows, "open_time"].to_numpy() + US_PER_DAY)
    accounts.loc[rows, "status"] = "ACTIVE"
    accounts.loc[rows, "close_time"] = -1
    accounts.loc[rows, "profile"] = "passthrough"
    accounts.loc[rows, "txn_start"] = start
    accounts.loc[rows, "txn_end"] = -1
    accounts.loc[rows, "use_device"] = _gang_devices(4, chunk_idx, phone)
    accounts.loc[rows, "ip_region"] = r_ip[room].astype(object)
    accounts.loc[rows, "is_misuse"] = 1
    accounts.loc[rows, "typology"] = "rented_account"
    accounts.loc[rows, "misuse_start"] = start
