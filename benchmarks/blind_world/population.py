"""Persons and their cards: honest base groups first, then the misuse typologies laid over them.

Typologies (each follows a pattern from public 断卡行动 reporting; see README.md in this folder):

* ``student_rental`` - 两卡: a student opens new bank cards (and sometimes a SIM) near campus, or hands over his
  own card, and rents/sells them to a gang; the cards then run as pass-through mules.
* ``card_seller`` - 卡农: an adult opens 4-10 SIMs across operators and MVNOs and 2-4 accounts across banks within
  weeks, at several outlets, with his own face, and sells them; SIMs end up in gang phones calling many numbers.
* ``stolen_id`` - a lost or stolen ID (or a leaked photo of one) is used to open SIMs online (often MVNO) and
  II/III-class accounts in apps from gang devices; the genuine holder keeps his own cards and may complain.
* ``elderly_agent`` - an agent running a "free gift" promotion registers extra SIMs on elderly customers' IDs
  without a face check; the SIMs go to 接码 platforms (receive verification SMS, almost no calls). Quiet.
* ``dormant_mule`` - an account dormant for years is sold and re-activated as a money mule: many inbound from
  many payers, fast outbound to next-layer accounts, then abandoned ("burned") or frozen.
* ``cross_border`` - young people whose new cards are carried to compounds in Myanmar/Cambodia/Laos/Philippines:
  SIMs roam there calling China, accounts are driven from abroad.
* ``corrupt_outlet`` - a store clerk registers a hidden second SIM on walk-in customers' IDs minutes after their
  genuine one (一证多卡), mostly without a face check; bursts at a few outlets.
* ``quiet_lender`` - an adult lends his everyday account to a friend for 刷单/small laundering; his own use goes on,
  the extra flow is small. Weak and rarely confirmed.
* ``simbox_farm`` - 猫池: dozens of SIMs on unrelated, bought identities, registered through agents/online, run in a
  handful of SIM-box boards; outbound calls or SMS only, nothing inbound, no data. Never labelled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from benchmarks.blind_world import identity as ident
from benchmarks.blind_world.assumptions import Assumptions
from benchmarks.blind_world.timebase import NAT, days, minutes, run_midnight, uniform_times

Rng = np.random.Generator
Arr = npt.NDArray[Any]

# SIM behaviour profiles (see activity.PROFILES)
S_NORMAL, S_LOW, S_ELDERLY, S_STUDENT, S_MERCHANT, S_IOT, S_IDLE, S_FRAUD_CALL, S_CODE_RECV = range(9)
S_SIMBOX_CALL, S_SIMBOX_SMS = 9, 10
# account behaviour profiles (see money.py)
T_NONE, T_LIGHT, T_MAIN, T_STUDENT, T_PENSION, T_REMIT, T_MERCHANT, T_SAVINGS, T_MULE, T_LENDER = range(10)
# reserved-number rules, resolved once every SIM has its msisdn
R_OWN, R_OWN_MISUSE, R_GANG, R_NULL, R_EXT = range(5)
GANG_DEVICE = -2  # placeholder device: the gang's device for this card, resolved after gangs get devices

_REQ = object()
SIM_DEFAULTS: dict[str, Any] = {
    "person": _REQ, "operator": _REQ, "channel": _REQ, "outlet_region": _REQ, "outlet_k": -1,
    "reg_time": _REQ, "face_verified": _REQ, "typology": _REQ, "is_misuse": 0, "prof_h": _REQ,
    "prof_m": -1, "misuse_start": NAT, "gang": -1, "dev1": _REQ, "dev2": -1, "switch_day": 10**6,
    "home_region": _REQ, "travel": False, "name_mismatch": False, "repair_back": -1, "repair_dev": -1,
}
ACC_DEFAULTS: dict[str, Any] = {
    "person": _REQ, "bank": _REQ, "channel": _REQ, "branch_region": _REQ, "branch_k": -1, "open_time": _REQ,
    "account_class": _REQ, "reserved_rule": R_OWN, "open_dev": -1, "typology": _REQ, "is_misuse": 0,
    "prof_h": _REQ, "prof_m": -1, "misuse_start": NAT, "gang": -1, "home_region": _REQ, "name_mismatch": False,
}


class Cards:
    """Collects column chunks of one card kind; every chunk names all required columns."""

    def __init__(self, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.chunks: list[pd.DataFrame] = []

    def add(self, **cols: Any) -> None:
        n = len(cols["person"])
        if n == 0:
            return
        unknown = set(cols) - set(self.defaults)
        if unknown:
            raise KeyError(f"unknown card columns {sorted(unknown)}")
        out: dict[str, Any] = {}
        for k, d in self.defaults.items():
            if k in cols:
                v = cols[k]
                out[k] = np.full(n, v) if np.ndim(v) == 0 else np.asarray(v)
            elif d is _REQ:
                raise KeyError(f"card column {k!r} is required")
            else:
                out[k] = np.full(n, d)
        self.chunks.append(pd.DataFrame(out))

    def frame(self) -> pd.DataFrame:
        return pd.concat(self.chunks, ignore_index=True)


@dataclass
class Population:
    """The built world before outcomes: hidden behaviour columns live beside the contract columns."""

    persons: pd.DataFrame
    sims: pd.DataFrame
    accounts: pd.DataFrame
    gangs: pd.DataFrame
    device_imei: Arr
    device_fp: Arr


class Devices:
    """Hands out device indices; persons' own phones are 0..N-1."""

    def __init__(self, n_persons: int) -> None:
        self.next = n_persons
        self.module: list[tuple[int, int]] = []

    def alloc(self, n: int, *, module: bool = False) -> npt.NDArray[np.int64]:
        out = np.arange(self.next, self.next + n, dtype=np.int64)
        if module and n:
            self.module.append((self.next, self.next + n))
        self.next += n
        return out


def _categorical(rng: Rng, n: int, values: list[int], probs: list[float]) -> npt.NDArray[np.int64]:
    return rng.choice(np.array(values, dtype=np.int64), size=n, p=np.array(probs) / sum(probs))


def _within(rng: Rng, lo: npt.NDArray[np.datetime64] | np.datetime64, hi: np.datetime64, n: int
            ) -> npt.NDArray[np.datetime64]:
    lo_a = np.broadcast_to(np.asarray(lo, dtype="datetime64[s]"), (n,))
    return uniform_times(rng, lo_a, np.full(n, hi))


def _ops(rng: Rng, a: Assumptions, n: int, *, mvno_boost: float = 1.0) -> Arr:
    w = np.array(a.formats.operator_weights)
    is_mvno = np.isin(np.array(a.formats.operators), np.array(a.formats.mvno_codes))
    w = np.where(is_mvno, w * mvno_boost, w)
    return rng.choice(np.array(a.formats.operators), size=n, p=w / w.sum())


def _banks(rng: Rng, a: Assumptions, n: int) -> Arr:
    w = np.array(a.formats.bank_weights)
    return rng.choice(np.array(a.formats.banks), size=n, p=w / w.sum())


def _online_banks(a: Assumptions) -> Arr:
    return np.array(a.formats.banks[-2:])


# ------------------------------------------------------------------------------------------------ persons

_AGES: dict[str, tuple[float, float]] = {
    "honest": (18, 70), "student": (18, 23), "elderly": (65, 90), "family_plan": (30, 60),
    "migrant_worker": (20, 52), "traveller": (25, 62), "small_merchant": (26, 62), "multi_account": (30, 66),
    "second_hand_phone": (18, 50), "corporate_iot": (30, 56), "non_resident": (20, 62),
}


def make_persons(rng: Rng, n: int, a: Assumptions, run_date: str) -> pd.DataFrame:
    """Persons with group, age, hukou and living region, ID and registry status."""
    names = list(a.group_share)
    shares = np.array([a.group_share[k] for k in names])
    groups = np.array([*names, "honest"])
    group = rng.choice(groups, n, p=np.r_[shares, max(0.0, 1 - shares.sum())] / max(1.0, shares.sum()))
    lo = np.array([_AGES[str(g)][0] for g in group])
    hi = np.array([_AGES[str(g)][1] for g in group])
    age = lo + rng.random(n) * (hi - lo)
    rd = np.datetime64(run_date, "D")
    birth = rd - (age * 365.25).astype(np.int64).astype("timedelta64[D]")
    male = rng.random(n) < 0.5
    hukou = ident.pick_regions(rng, n)
    mig = group == "migrant_worker"
    origin = rng.random(n) < 0.8
    hukou[mig & origin] = ident.pick_regions(rng, int((mig & origin).sum()), "inland")
    live = hukou.copy()
    moved = (rng.random(n) < 0.25) | mig | ((group == "student") & (rng.random(n) < 0.7))
    moved &= group != "elderly"
    live[moved] = ident.pick_regions(rng, int(moved.sum()), "city")
    same = moved & (live == hukou) & mig
    live[same] = ident.pick_regions(rng, int(same.sum()), "city")

    nonres = group == "non_resident"
    id_type = np.full(n, "RESIDENT_ID", dtype=object)
    id_clean = ident.resident_ids(rng, hukou, birth, male).astype(object)
    nt, nn = ident.non_resident_ids(rng, int(nonres.sum()))
    id_type[nonres] = nt
    id_clean[nonres] = nn
    name = ident.chinese_names(rng, n, hukou).astype(object)
    hmt = nonres & (id_type == "HMT_PERMIT")
    name[hmt] = [str(s).translate(ident.TRAD) for s in name[hmt]]
    pas = nonres & (id_type == "PASSPORT")
    name[pas] = ident.latin_names(rng, int(pas.sum()))

    u = rng.random(n)
    status = np.full(n, "VALID", dtype=object)
    old = group == "elderly"
    status[u < np.where(old, 0.05, 0.012)] = "EXPIRED"
    status[(u > 0.99) & ~old] = "REPORTED_LOST"  # honest holders who lost an ID and got a new one
    status[(u > 0.995) & old] = "DECEASED"  # family still uses the SIM: a quiet confounder
    return pd.DataFrame({
        "id_type": id_type, "id_clean": id_clean.astype(str), "name": name.astype(str), "birth": birth,
        "male": male, "age": age, "hukou": hukou, "live": live, "group": group, "id_status": status,
        "overlay": np.full(n, "", dtype=object),
    })


# ------------------------------------------------------------------------------------------- honest cards

_SIM_COUNTS: dict[str, tuple[list[int], list[float]]] = {
    "honest": ([1, 2, 3], [0.75, 0.22, 0.03]), "student": ([1, 2], [0.85, 0.15]),
    "elderly": ([0, 1, 2], [0.1, 0.85, 0.05]), "family_plan": ([3, 4, 5], [0.45, 0.4, 0.15]),
    "migrant_worker": ([1, 2, 3], [0.55, 0.35, 0.1]), "traveller": ([1, 2], [0.6, 0.4]),
    "small_merchant": ([1, 2], [0.6, 0.4]), "multi_account": ([1, 2], [0.7, 0.3]),
    "second_hand_phone": ([1], [1.0]), "corporate_iot": ([1, 2], [0.8, 0.2]), "non_resident": ([1], [1.0]),
}
_ACC_COUNTS: dict[str, tuple[list[int], list[float]]] = {
    "honest": ([1, 2, 3], [0.45, 0.4, 0.15]), "student": ([1, 2], [0.6, 0.4]), "elderly": ([1, 2], [0.7, 0.3]),
    "family_plan": ([1, 2, 3], [0.4, 0.4, 0.2]), "migrant_worker": ([2, 3, 4], [0.4, 0.4, 0.2]),
    "traveller": ([2, 3], [0.5, 0.5]), "small_merchant": ([2, 3, 4], [0.4, 0.4, 0.2]),
    "multi_account": ([5, 6, 7, 8, 9], [0.3, 0.3, 0.2, 0.1, 0.1]), "second_hand_phone": ([1, 2], [0.6, 0.4]),
    "corporate_iot": ([1, 2], [0.5, 0.5]), "non_resident": ([1], [1.0]),
}
_MAIN_SIM = {"student": S_STUDENT, "elderly": S_ELDERLY, "small_merchant": S_MERCHANT}
_MAIN_ACC = {"student": T_STUDENT, "elderly": T_PENSION, "migrant_worker": T_REMIT}
FACE_ERA = np.datetime64("2019-12-01T00:00:00", "s")  # 人像比对 required for new SIMs from about then
APP_ERA = np.datetime64("2016-12-01T00:00:00", "s")  # II/III-class remote accounts common from about then


def _counts(rng: Rng, group: Arr, table: dict[str, tuple[list[int], list[float]]]) -> npt.NDArray[np.int64]:
    out = np.zeros(len(group), dtype=np.int64)
    for g, (vals, probs) in table.items():
        m = group == g
        out[m] = _categorical(rng, int(m.sum()), vals, probs)
    return out


def _rank_within(owner: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """0,1,2... for consecutive rows of the same owner (owner array from np.repeat)."""
    start = np.r_[0, np.flatnonzero(np.diff(owner)) + 1]
    counts = np.diff(np.r_[start, len(owner)])
    return np.arange(len(owner)) - np.repeat(start, counts)


def _face(rng: Rng, t: Arr, channel: Arr) -> Arr:
    new = t >= FACE_ERA
    p = np.where(new, np.where(channel == "AGENT", 0.85, 0.97), 0.08)
    return rng.random(len(t)) < p


def honest_cards(rng: Rng, persons: pd.DataFrame, a: Assumptions, run_date: str, dev: Devices,
                 sims: Cards, accs: Cards) -> tuple[Arr, Arr, Arr]:
    """Every person's own cards (their base group decides how many and how they are used).

    Returns the second-hand phone pairs (buyers, donors, day) to apply once all SIMs exist.
    """
    r = run_midnight(run_date)
    n = len(persons)
    group = persons["group"].to_numpy()
    birth16 = persons["birth"].to_numpy().astype("datetime64[s]") + np.timedelta64(16 * 365, "D")
    live = persons["live"].to_numpy()
    hukou = persons["hukou"].to_numpy()
    pid = np.arange(n, dtype=np.int64)

    # --- SIMs
    k = _counts(rng, group, _SIM_COUNTS)
    p = np.repeat(pid, k)
    rank = _rank_within(p) if len(p) else p
    g = group[p]
    m = len(p)
    earliest = np.maximum(birth16[p], np.datetime64("2008-01-01T00:00:00", "s"))
    reg = _within(rng, earliest, r - np.timedelta64(1, "D"), m)
    recent = rng.random(m) < 0.3
    reg[recent] = _within(rng, np.maximum(earliest[recent], r - np.timedelta64(3 * 365, "D")),
                          r - np.timedelta64(1, "D"), int(recent.sum()))
    stud = (g == "student") & (rank == 0)
    if stud.any():  # freshman week: campus outlets register whole classes in September
        year = np.datetime64(run_date, "Y").astype(int) + 1970 - rng.integers(0, 4, stud.sum())
        year = year - (np.datetime64(run_date, "D") < np.array([f"{y}-09-01" for y in year], "datetime64[D]"))
        sept = np.array([f"{y}-09-01" for y in year], dtype="datetime64[s]")
        reg[stud] = sept + days(rng.random(stud.sum()) * 18)
    channel = rng.choice(np.array(["STORE", "AGENT", "ONLINE"]), m, p=[0.62, 0.18, 0.2])
    channel[(g == "elderly")] = rng.choice(np.array(["STORE", "AGENT"]), int((g == "elderly").sum()), p=[0.6, 0.4])
    channel[stud] = "STORE"
    outlet_region = live[p].copy()
    old_home = (g == "migrant_worker") & (rank == 0) & (rng.random(m) < 0.6)
    outlet_region[old_home] = hukou[p][old_home]
    outlet_k = rng.integers(0, 40, m)
    outlet_k[stud] = rng.integers(0, 2, stud.sum()) + 500  # the campus outlets
    outlet_k[channel == "ONLINE"] = -1
    prof = np.where(rank == 0, np.array([_MAIN_SIM.get(str(x), S_NORMAL) for x in g]), S_LOW)
    fam = g == "family_plan"
    prof[fam & (rank > 0)] = np.where(rng.random(int((fam & (rank > 0)).sum())) < 0.6, S_NORMAL, S_LOW)
    dev1 = p.copy()
    own_second = (rank > 0) & (fam | (rng.random(m) < 0.3))  # family members' phones, or a second phone
    dev1[own_second] = dev.alloc(int(own_second.sum()))
    # an elderly parent's SIM in a child's dual-SIM phone (to receive codes for them): two holders, one device
    in_child = (g == "elderly") & (rng.random(m) < 0.2)
    dev1[in_child] = rng.integers(0, n, int(in_child.sum()))
    dev2 = dev1.copy()
    switch = np.full(m, 10**6, dtype=np.int64)
    upg = rng.random(m) < 0.04  # ordinary phone upgrade inside the activity window
    dev2[upg] = dev.alloc(int(upg.sum()))
    switch[upg] = rng.integers(2, 58, upg.sum())
    travel = ((g == "traveller") & (rank == 0)) | (rng.random(m) < 0.015)
    ops = _ops(rng, a, m)
    fam_first = np.flatnonzero(fam & (rank == 0))
    if len(fam_first):  # one family plan: one operator, one outlet, one afternoon
        owner_ops = pd.Series(ops[fam_first], index=p[fam_first])
        ops[fam] = owner_ops.reindex(p[fam]).to_numpy()
        fam_reg = pd.Series(reg[fam_first], index=p[fam_first]).reindex(p[fam]).to_numpy()
        reg[fam] = fam_reg + minutes(rng.random(int(fam.sum())) * 20)
        channel[fam] = "STORE"
        outlet_k[fam] = pd.Series(np.maximum(outlet_k[fam_first], 0), index=p[fam_first]).reindex(p[fam]).to_numpy()
    face = _face(rng, reg, channel)
    sims.add(person=p, operator=ops, channel=channel, outlet_region=outlet_region, outlet_k=outlet_k,
             reg_time=reg, face_verified=face, typology=g, prof_h=prof, dev1=dev1, dev2=dev2, switch_day=switch,
             home_region=live[p], travel=travel)

    # second-hand phones: the buyer's SIM moves into a phone that carried a stranger's SIM earlier in the window
    buyers = np.flatnonzero(group == "second_hand_phone")
    donors = rng.choice(np.flatnonzero(group == "honest"), len(buyers)) if len(buyers) else buyers
    second_hand = (buyers, donors, rng.integers(10, 50, len(buyers)))
    campus = pd.Series(reg[stud], index=p[stud])

    # --- corporate IoT SIMs (CORPORATE channel, data only, one module each)
    corp = np.flatnonzero(group == "corporate_iot")
    if len(corp):
        kk = rng.integers(10, 41, len(corp))
        cp = np.repeat(corp, kk)
        batch = _within(rng, r - np.timedelta64(3 * 365, "D"), r - np.timedelta64(20, "D"), len(corp))
        creg = np.repeat(batch, kk) + days(rng.random(len(cp)) * 4)
        cop = np.repeat(_ops(rng, a, len(corp), mvno_boost=0.0), kk)
        scattered = rng.random(len(cp)) < 0.3  # trackers on trucks report from elsewhere
        home = live[cp].copy()
        home[scattered] = ident.pick_regions(rng, int(scattered.sum()))
        sims.add(person=cp, operator=cop, channel="CORPORATE", outlet_region=live[cp], outlet_k=900,
                 reg_time=creg, face_verified=rng.random(len(cp)) < 0.3, typology="corporate_iot", prof_h=S_IOT,
                 dev1=dev.alloc(len(cp), module=True), home_region=home)

    # --- accounts
    k = _counts(rng, group, _ACC_COUNTS)
    p = np.repeat(pid, k)
    rank = _rank_within(p) if len(p) else p
    g = group[p]
    m = len(p)
    earliest = np.maximum(birth16[p], np.datetime64("2005-01-01T00:00:00", "s"))
    opened = _within(rng, earliest, r - np.timedelta64(10, "D"), m)
    stud = (g == "student") & (rank == 0)
    if stud.any():
        st = campus.reindex(p[stud]).to_numpy()
        fallback = np.isnat(st)
        st[fallback] = opened[stud][fallback]
        opened[stud] = st + days(rng.random(stud.sum()) * 3)
    bank = _banks(rng, a, m)
    remote = (opened >= APP_ERA) & (rng.random(m) < np.where(rank == 0, 0.25, 0.6))
    remote |= np.isin(bank, _online_banks(a))
    remote &= ~stud
    channel = np.where(remote, rng.choice(np.array(["MOBILE_APP", "ONLINE"]), m, p=[0.85, 0.15]), "COUNTER")
    agent = (~remote) & (g == "elderly") & (rng.random(m) < 0.15)  # rural service points
    channel[agent] = "AGENT"
    klass = np.where(remote, rng.choice(np.array(["II", "III"]), m, p=[0.8, 0.2]),
                     np.where(rank == 0, "I", rng.choice(np.array(["I", "II"]), m, p=[0.6, 0.4])))
    branch_region = live[p].copy()
    mig_first = (g == "migrant_worker") & (rank == 0)
    branch_region[mig_first] = hukou[p][mig_first]
    branch_k = np.where(remote, -1, rng.integers(0, 25, m))
    branch_k[stud] = 500
    prof = np.where(rank == 0, np.array([_MAIN_ACC.get(str(x), T_MAIN) for x in g]),
                    np.where(rng.random(m) < 0.6, T_LIGHT, T_NONE))
    merch = (g == "small_merchant") & (rank == 1)
    prof[merch] = T_MERCHANT
    multi = (g == "multi_account") & (rank > 0)
    prof[multi] = np.where(rng.random(int(multi.sum())) < 0.5, T_SAVINGS, T_NONE)
    open_dev = np.where(remote, p, -1)
    parent = stud & remote & (rng.random(m) < 0.5)
    open_dev[parent] = rng.integers(0, n, int(parent.sum()))  # a parent opened it on their phone
    rule = np.where(rng.random(m) < 0.9, R_OWN, np.where(rng.random(m) < 0.5, R_NULL, R_EXT))
    accs.add(person=p, bank=bank, channel=channel, branch_region=branch_region, branch_k=branch_k,
             open_time=opened, account_class=klass, reserved_rule=rule, open_dev=open_dev, typology=g, prof_h=prof,
             home_region=live[p])
    return second_hand


def repair_shops(rng: Rng, sims: pd.DataFrame, n_persons: int, dev: Devices) -> None:
    """Phone repair / refurbishing shops: one test phone briefly carries dozens of customers' SIMs, a day each."""
    honest = np.flatnonzero((sims["is_misuse"].to_numpy() == 0) & (sims["prof_h"].to_numpy() != S_IOT))
    home = sims["home_region"].to_numpy()
    for _ in range(max(1, round(n_persons / 1500))):
        region = ident.pick_regions(rng, 1, "city")[0]
        local = honest[home[honest] == region]
        if len(local) == 0:
            continue
        who = rng.choice(local, min(len(local), int(rng.integers(20, 81))), replace=False)
        sims.loc[who, "repair_back"] = rng.integers(1, 61, len(who))
        sims.loc[who, "repair_dev"] = dev.alloc(1)[0]


def apply_second_hand(rng: Rng, sims: pd.DataFrame, buyers: Arr, donors: Arr, s_day: Arr, dev: Devices) -> None:
    """Donor sells his phone on day s and moves to a new one; the buyer's first SIM goes into it a few days later."""
    first = sims.reset_index().drop_duplicates("person").set_index("person")["index"]
    bi = first.reindex(buyers).to_numpy()
    di = first.reindex(donors).to_numpy()
    ok = ~(np.isnan(bi.astype(float)) | np.isnan(di.astype(float)))
    bi, di, s = bi[ok].astype(np.int64), di[ok].astype(np.int64), s_day[ok]
    keep = ~pd.Series(di).duplicated().to_numpy()
    bi, di, s = bi[keep], di[keep], s[keep]
    donor_dev = sims["dev1"].to_numpy()[di]
    sims.loc[di, "dev2"] = dev.alloc(len(di))
    sims.loc[di, "switch_day"] = s - rng.integers(1, 8, len(s))
    sims.loc[bi, "dev2"] = donor_dev
    sims.loc[bi, "switch_day"] = s


# ------------------------------------------------------------------------------------------- typologies

@dataclass
class OverlayContext:
    """What every typology builder needs."""

    rng: Rng
    a: Assumptions
    persons: pd.DataFrame
    r: np.datetime64
    dev: Devices
    sims: Cards
    accs: Cards
    n_domestic: int
    n_abroad: int

    def take(self, candidates: Arr, rate: float, name: str) -> Arr:
        """Persons (not yet taken by another overlay) that get typology `name`."""
        free = candidates[self.persons["overlay"].to_numpy()[candidates] == ""]
        chosen = free[self.rng.random(len(free)) < rate]
        self.persons.loc[chosen, "overlay"] = name
        return chosen

    def gangs_for(self, n: int, *, abroad_share: float) -> npt.NDArray[np.int64]:
        """Gang per person: domestic 0..D-1, abroad D..D+A-1."""
        abroad = self.rng.random(n) < abroad_share
        return np.where(abroad, self.n_domestic + self.rng.integers(0, self.n_abroad, n),
                        self.rng.integers(0, self.n_domestic, n)).astype(np.int64)

    def recent(self, n: int, lo_days: float, hi_days: float) -> npt.NDArray[np.datetime64]:
        """Instants lo..hi days before the run date, uniform."""
        return self.r - days(lo_days + self.rng.random(n) * (hi_days - lo_days))

    def fresh(self, n: int, lo_days: float, hi_days: float, scale: float = 120.0) -> npt.NDArray[np.datetime64]:
        """Instants lo..hi days before the run date, more of them recent (card trade keeps going)."""
        back = lo_days + self.rng.exponential(scale, n)
        far = back > hi_days
        back[far] = lo_days + self.rng.random(int(far.sum())) * (hi_days - lo_days)
        return self.r - days(back)


def _student_rental(c: OverlayContext, honest_accs: pd.DataFrame) -> None:
    rng, a = c.rng, c.a
    tp = a.typology["student_rental"]
    pers = c.persons
    who = c.take(np.flatnonzero(pers["group"].to_numpy() == "student"), tp.rate, "student_rental")
    if not len(who):
        return
    gang = c.gangs_for(len(who), abroad_share=a.abroad_gang_share)
    live = pers["live"].to_numpy()
    # new accounts near campus
    k = _categorical(rng, len(who), [0, 1, 2, 3], [0.15, 0.5, 0.25, 0.1])
    p = np.repeat(who, k)
    gp = np.repeat(gang, k)
    m = len(p)
    opened = c.fresh(m, 10, 330)
    app = rng.random(m) < 0.5
    gang_dev = app & (rng.random(m) < 0.4)
    c.accs.add(person=p, bank=_banks(rng, a, m), channel=np.where(app, "MOBILE_APP", "COUNTER"),
               branch_region=live[p], branch_k=np.where(app, -1, 500 + rng.integers(0, 3, m)), open_time=opened,
               account_class=np.where(app, "II", rng.choice(np.array(["I", "II"]), m)),
               reserved_rule=np.where(rng.random(m) < 0.5, R_OWN_MISUSE, R_GANG),
               open_dev=np.where(gang_dev, GANG_DEVICE, np.where(app, p, -1)), typology="student_rental",
               is_misuse=1, prof_h=T_NONE, prof_m=T_MULE, misuse_start=opened + days(rng.random(m) * 15), gang=gp,
               home_region=live[p])
    # or their own everyday card (k == 0 always hands over the main account)
    own = who[(k == 0) | (rng.random(len(who)) < 0.15)]
    first = honest_accs.reset_index().drop_duplicates("person").set_index("person")["index"]
    rows = first.reindex(own).dropna().astype(np.int64).to_numpy()
    gang_of = pd.Series(gang, index=who)
    honest_accs.loc[rows, "typology"] = "student_rental"
    honest_accs.loc[rows, "is_misuse"] = 1
    honest_accs.loc[rows, "prof_m"] = T_MULE
    honest_accs.loc[rows, "misuse_start"] = c.recent(len(rows), 5, 200)
    honest_accs.loc[rows, "gang"] = gang_of.reindex(honest_accs.loc[rows, "person"]).to_numpy()
    # some sell a SIM too, used as the accounts' reserved number / for verification codes
    sp = who[rng.random(len(who)) < 0.4]
    ms = len(sp)
    reg = c.fresh(ms, 10, 330)
    c.sims.add(person=sp, operator=_ops(rng, a, ms), channel="STORE", outlet_region=live[sp],
               outlet_k=rng.integers(0, 40, ms), reg_time=reg, face_verified=rng.random(ms) < 0.97,
               typology="student_rental", is_misuse=1, prof_h=S_IDLE,
               prof_m=np.where(rng.random(ms) < 0.5, S_CODE_RECV, S_FRAUD_CALL),
               misuse_start=reg + days(1 + rng.random(ms) * 10), gang=gang_of.reindex(sp).to_numpy(), dev1=sp,
               home_region=live[sp])


def _card_seller(c: OverlayContext) -> None:
    rng, a = c.rng, c.a
    tp = a.typology["card_seller"]
    pers = c.persons
    age = pers["age"].to_numpy()
    grp = pers["group"].to_numpy()
    elig = np.flatnonzero((age >= 20) & (age < 46) & np.isin(grp, ["honest", "migrant_worker", "second_hand_phone"]))
    who = c.take(elig, tp.rate, "card_seller")
    if not len(who):
        return
    gang = c.gangs_for(len(who), abroad_share=a.abroad_gang_share)
    live = pers["live"].to_numpy()
    burst = c.fresh(len(who), 15, 330)
    k = rng.integers(*a.seller_sims, len(who))
    p = np.repeat(who, k)
    m = len(p)
    reg = np.repeat(burst, k) + days(rng.random(m) * 40)
    reg = np.minimum(reg, c.r - np.timedelta64(1, "h"))
    ops = _ops(rng, a, m, mvno_boost=3.0)
    c.sims.add(person=p, operator=ops, channel=rng.choice(np.array(["STORE", "AGENT"]), m, p=[0.7, 0.3]),
               outlet_region=live[p], outlet_k=rng.integers(0, 40, m), reg_time=reg,
               face_verified=rng.random(m) < 0.95, typology="card_seller", is_misuse=1, prof_h=S_IDLE,
               prof_m=np.where(rng.random(m) < 0.6, S_FRAUD_CALL, S_CODE_RECV),
               misuse_start=reg + days(1 + rng.random(m) * 6), gang=np.repeat(gang, k), dev1=p, home_region=live[p])
    k = rng.integers(2, 5, len(who))
    p = np.repeat(who, k)
    m = len(p)
    opened = np.minimum(np.repeat(burst, k) + days(rng.random(m) * 40), c.r - np.timedelta64(1, "h"))
    app = rng.random(m) < 0.6
    c.accs.add(person=p, bank=_banks(rng, a, m), channel=np.where(app, "MOBILE_APP", "COUNTER"),
               branch_region=live[p], branch_k=np.where(app, -1, rng.integers(0, 25, m)), open_time=opened,
               account_class=np.where(app, "II", rng.choice(np.array(["I", "II"]), m, p=[0.4, 0.6])),
               reserved_rule=R_OWN_MISUSE, open_dev=np.where(app, np.where(rng.random(m) < 0.5, p, GANG_DEVICE), -1),
               typology="card_seller", is_misuse=1, prof_h=T_NONE, prof_m=T_MULE,
               misuse_start=opened + days(1 + rng.random(m) * 6), gang=np.repeat(gang, k), home_region=live[p])


def _stolen_id(c: OverlayContext) -> None:
    rng, a = c.rng, c.a
    tp = a.typology["stolen_id"]
    pers = c.persons
    elig = np.flatnonzero((pers["id_type"].to_numpy() == "RESIDENT_ID") & (pers["age"].to_numpy() < 75))
    who = c.take(elig, tp.rate, "stolen_id")
    if not len(who):
        return
    lost = who[rng.random(len(who)) < 0.6]
    pers.loc[lost, "id_status"] = "REPORTED_LOST"
    gang = c.gangs_for(len(who), abroad_share=a.abroad_gang_share)
    k = _categorical(rng, len(who), [0, 1, 2, 3], [0.15, 0.5, 0.25, 0.1])
    p = np.repeat(who, k)
    m = len(p)
    reg = c.fresh(m, 5, 330)
    declared = ident.pick_regions(rng, m)
    c.sims.add(person=p, operator=_ops(rng, a, m, mvno_boost=25.0), channel="ONLINE", outlet_region=declared,
               reg_time=reg, face_verified=rng.random(m) >= a.face_bypass, typology="stolen_id", is_misuse=1,
               prof_h=S_IDLE, prof_m=np.where(rng.random(m) < 0.5, S_FRAUD_CALL, S_CODE_RECV),
               misuse_start=reg + days(rng.random(m) * 3), gang=np.repeat(gang, k), dev1=GANG_DEVICE,
               home_region=declared, name_mismatch=rng.random(m) < 0.1)
    k = _categorical(rng, len(who), [0, 1, 2], [0.25, 0.55, 0.2])
    p = np.repeat(who, k)
    m = len(p)
    opened = c.fresh(m, 5, 330)
    online = np.isin(_banks(rng, a, m), _online_banks(a)) | (rng.random(m) < 0.5)
    bank = np.where(online, rng.choice(_online_banks(a), m), _banks(rng, a, m))
    c.accs.add(person=p, bank=bank, channel=rng.choice(np.array(["MOBILE_APP", "ONLINE"]), m, p=[0.8, 0.2]),
               branch_region=ident.pick_regions(rng, m), open_time=opened,
               account_class=rng.choice(np.array(["II", "III"]), m, p=[0.7, 0.3]), reserved_rule=R_OWN_MISUSE,
               open_dev=GANG_DEVICE, typology="stolen_id", is_misuse=1, prof_h=T_NONE, prof_m=T_MULE,
               misuse_start=opened + days(rng.random(m) * 4), gang=np.repeat(gang, k),
               home_region=pers["live"].to_numpy()[p], name_mismatch=rng.random(m) < 0.1)


def _elderly_agent(c: OverlayContext) -> None:
    rng, a = c.rng, c.a
    tp = a.typology["elderly_agent"]
    pers = c.persons
    who = c.take(np.flatnonzero(pers["group"].to_numpy() == "elderly"), tp.rate, "elderly_agent")
    if not len(who):
        return
    live = pers["live"].to_numpy()[who]
    outlet = 800 + rng.integers(0, 2, len(who))
    key = pd.Series(live).str.cat(outlet.astype(str))
    promo_keys = key.unique()
    promo = pd.Series(c.recent(len(promo_keys), 30, 360), index=promo_keys)
    t0 = promo.reindex(key).to_numpy() + days(rng.random(len(who)) * 5)
    op = pd.Series(_ops(rng, a, len(promo_keys), mvno_boost=0.0), index=promo_keys).reindex(key).to_numpy()
    gang = rng.integers(0, c.n_domestic, len(promo_keys))
    gang_of = pd.Series(gang, index=promo_keys).reindex(key).to_numpy()
    k = _categorical(rng, len(who), [1, 2], [0.7, 0.3])
    p = np.repeat(who, k)
    m = len(p)
    reg = np.repeat(t0, k) + minutes(rng.random(m) * 30)
    c.sims.add(person=p, operator=np.repeat(op, k), channel="AGENT", outlet_region=np.repeat(live, k),
               outlet_k=np.repeat(outlet, k), reg_time=reg, face_verified=rng.random(m) < 0.4,
               typology="elderly_agent", is_misuse=1, prof_h=S_IDLE, prof_m=S_CODE_RECV,
               misuse_start=reg + days(3 + rng.random(m) * 17), gang=np.repeat(gang_of, k), dev1=GANG_DEVICE,
               home_region=np.repeat(live, k))


def _dormant_mule(c: OverlayContext, honest_accs: pd.DataFrame) -> None:
    rng, a = c.rng, c.a
    tp = a.typology["dormant_mule"]
    pers = c.persons
    age = pers["age"].to_numpy()
    grp = pers["group"].to_numpy()
    elig = np.flatnonzero((age >= 22) & (age < 62) & np.isin(grp, ["honest", "migrant_worker", "multi_account",
                                                                    "family_plan", "traveller"]))
    who = c.take(elig, tp.rate, "dormant_mule")
    if not len(who):
        return
    gang = c.gangs_for(len(who), abroad_share=a.abroad_gang_share)
    two_years = c.r - np.timedelta64(730, "D")
    ha = honest_accs
    cand = ha[(ha["open_time"] < two_years) & (ha["prof_h"].isin([T_NONE, T_LIGHT])) & ha["person"].isin(who)]
    cand = cand.sample(frac=1.0, random_state=int(rng.integers(2**31))).drop_duplicates("person")
    start = np.where(rng.random(len(who)) < 0.8, c.recent(len(who), 3, 80), c.recent(len(who), 80, 200))
    start_of = pd.Series(start, index=who)
    gang_of = pd.Series(gang, index=who)
    rows = cand.index.to_numpy()
    ha.loc[rows, "typology"] = "dormant_mule"
    ha.loc[rows, "is_misuse"] = 1
    ha.loc[rows, "prof_h"] = T_NONE
    ha.loc[rows, "prof_m"] = T_MULE
    ha.loc[rows, "misuse_start"] = start_of.reindex(cand["person"]).to_numpy()
    ha.loc[rows, "gang"] = gang_of.reindex(cand["person"]).to_numpy()
    ha.loc[rows, "reserved_rule"] = np.where(rng.random(len(rows)) < 0.3, R_GANG, R_OWN)
    rest = np.setdiff1d(who, cand["person"].to_numpy())
    m = len(rest)
    if m:
        live = pers["live"].to_numpy()[rest]
        opened = _within(rng, np.datetime64("2011-01-01T00:00:00", "s"), two_years, m)
        c.accs.add(person=rest, bank=_banks(rng, a, m), channel="COUNTER", branch_region=live,
                   branch_k=rng.integers(0, 25, m), open_time=opened, account_class="I",
                   reserved_rule=np.where(rng.random(m) < 0.3, R_GANG, R_OWN), typology="dormant_mule", is_misuse=1,
                   prof_h=T_NONE, prof_m=T_MULE, misuse_start=start_of.reindex(rest).to_numpy(),
                   gang=gang_of.reindex(rest).to_numpy(), home_region=live)


def _cross_border(c: OverlayContext) -> None:
    rng, a = c.rng, c.a
    tp = a.typology["cross_border"]
    pers = c.persons
    age = pers["age"].to_numpy()
    hot = np.isin(pers["hukou"].to_numpy(), np.r_[ident.regions_of("hotspot")[0], ident.regions_of("border")[0]])
    elig = np.flatnonzero((age >= 18) & (age < 36) & (pers["id_type"].to_numpy() == "RESIDENT_ID"))
    rate = np.where(hot[elig], tp.rate * 4, tp.rate * 0.7)
    free = elig[pers["overlay"].to_numpy()[elig] == ""]
    rate = rate[pers["overlay"].to_numpy()[elig] == ""]
    who = free[rng.random(len(free)) < rate]
    pers.loc[who, "overlay"] = "cross_border"
    if not len(who):
        return
    gang = c.n_domestic + rng.integers(0, c.n_abroad, len(who))
    live = pers["live"].to_numpy()
    t0 = c.fresh(len(who), 10, 300)
    k = _categorical(rng, len(who), [0, 1, 2], [0.3, 0.5, 0.2])
    p = np.repeat(who, k)
    m = len(p)
    reg = np.repeat(t0, k) + days(rng.random(m) * 5)
    c.sims.add(person=p, operator=_ops(rng, a, m), channel="STORE", outlet_region=live[p],
               outlet_k=rng.integers(0, 40, m), reg_time=reg, face_verified=rng.random(m) < 0.97,
               typology="cross_border", is_misuse=1, prof_h=S_IDLE, prof_m=S_FRAUD_CALL,
               misuse_start=reg + days(3 + rng.random(m) * 17), gang=np.repeat(gang, k), dev1=p,
               home_region=live[p])
    k = _categorical(rng, len(who), [1, 2, 3], [0.5, 0.35, 0.15])
    p = np.repeat(who, k)
    m = len(p)
    opened = np.repeat(t0, k) + days(rng.random(m) * 5)
    app = rng.random(m) < 0.5
    c.accs.add(person=p, bank=_banks(rng, a, m), channel=np.where(app, "MOBILE_APP", "COUNTER"),
               branch_region=live[p], branch_k=np.where(app, -1, rng.integers(0, 25, m)), open_time=opened,
               account_class=np.where(app, "II", "I"), reserved_rule=R_OWN_MISUSE, open_dev=np.where(app, p, -1),
               typology="cross_border", is_misuse=1, prof_h=T_NONE, prof_m=T_MULE,
               misuse_start=opened + days(3 + rng.random(m) * 17), gang=np.repeat(gang, k), home_region=live[p])


def _corrupt_outlet(c: OverlayContext, n_persons: int) -> None:
    rng, a = c.rng, c.a
    tp = a.typology["corrupt_outlet"]
    n_out = int(round(tp.rate * n_persons / 10_000))
    if n_out == 0 and n_persons >= 2_000:
        n_out = 1
    pers = c.persons
    live_all = pers["live"].to_numpy()
    tier1 = np.array([o for o in a.formats.operators if o not in a.formats.mvno_codes][:3])
    for j in range(n_out):
        region = ident.pick_regions(rng, 1, "city" if rng.random() < 0.6 else "hotspot")[0]
        op = rng.choice(tier1)
        begin = c.r - days(30 + rng.random() * 330)
        span = 60 + rng.random() * 120
        locals_ = np.flatnonzero((live_all == region) & (pers["group"].to_numpy() != "non_resident"))
        nv = int(rng.integers(20, 41))
        if len(locals_) < nv:
            locals_ = np.r_[locals_, rng.choice(np.flatnonzero(pers["id_type"].to_numpy() == "RESIDENT_ID"),
                                                nv - len(locals_), replace=False)]
        who = rng.choice(locals_, nv, replace=False)
        t = np.minimum(begin + days(rng.random(nv) * span), c.r - np.timedelta64(2, "D"))
        genuine_prof = np.where(rng.random(nv) < 0.7, S_NORMAL, S_LOW)
        grp = pers["group"].to_numpy()[who]
        c.sims.add(person=who, operator=op, channel="STORE", outlet_region=region, outlet_k=700 + j, reg_time=t,
                   face_verified=True, typology=grp, prof_h=genuine_prof, dev1=who, home_region=live_all[who])
        k = _categorical(rng, nv, [1, 2], [0.8, 0.2])
        p = np.repeat(who, k)
        m = len(p)
        reg = np.repeat(t, k) + minutes(1 + rng.random(m) * 30)
        gang = np.repeat(rng.integers(0, c.n_domestic + c.n_abroad, 1), m)
        c.sims.add(person=p, operator=op, channel="STORE", outlet_region=region, outlet_k=700 + j, reg_time=reg,
                   face_verified=rng.random(m) >= a.face_bypass, typology="corrupt_outlet", is_misuse=1,
                   prof_h=S_IDLE, prof_m=np.where(rng.random(m) < 0.5, S_FRAUD_CALL, S_CODE_RECV),
                   misuse_start=reg + days(1 + rng.random(m) * 9), gang=gang, dev1=GANG_DEVICE, home_region=region)


def _quiet_lender(c: OverlayContext, honest_accs: pd.DataFrame) -> None:
    tp = c.a.typology["quiet_lender"]
    pers = c.persons
    age = pers["age"].to_numpy()
    elig = np.flatnonzero((age >= 20) & (age < 56) & (pers["group"].to_numpy() != "non_resident"))
    who = c.take(elig, tp.rate, "quiet_lender")
    ha = honest_accs
    first = ha.reset_index().drop_duplicates("person").set_index("person")["index"]
    rows = first.reindex(who).dropna().astype(np.int64).to_numpy()
    ha.loc[rows, "typology"] = "quiet_lender"
    ha.loc[rows, "is_misuse"] = 1
    ha.loc[rows, "prof_m"] = T_LENDER
    ha.loc[rows, "misuse_start"] = c.recent(len(rows), 10, 150)


def _simbox_farms(c: OverlayContext, n_persons: int, first_farm_gang: int) -> int:
    """Farms get gang ids from first_farm_gang on; returns how many farms."""
    rng, a = c.rng, c.a
    tp = a.typology["simbox_farm"]
    n_farm = int(round(tp.rate * n_persons / 10_000))
    if n_farm == 0 and n_persons >= 2_000:
        n_farm = 1
    pers = c.persons
    resident = np.flatnonzero(pers["id_type"].to_numpy() == "RESIDENT_ID")
    for f in range(n_farm):
        ns = int(rng.integers(25, 61))
        holders = rng.choice(resident, ns, replace=False)  # bought identities, unrelated to each other
        region = ident.pick_regions(rng, 1, "hotspot" if rng.random() < 0.6 else "city")[0]
        reg = c.recent(ns, 10, 200)
        agent = rng.random(ns) < 0.6
        kind = S_SIMBOX_CALL if rng.random() < 0.5 else S_SIMBOX_SMS
        c.sims.add(person=holders, operator=_ops(rng, a, ns, mvno_boost=30.0),
                   channel=np.where(agent, "AGENT", "ONLINE"),
                   outlet_region=np.where(agent, region, ident.pick_regions(rng, ns)),
                   outlet_k=np.where(agent, rng.integers(0, 40, ns), -1), reg_time=reg,
                   face_verified=rng.random(ns) >= a.face_bypass, typology="simbox_farm", is_misuse=1, prof_h=S_IDLE,
                   prof_m=kind, misuse_start=reg + days(1 + rng.random(ns) * 9), gang=first_farm_gang + f,
                   dev1=GANG_DEVICE, home_region=region)
    return n_farm


# ------------------------------------------------------------------------------------------- gangs

ABROAD_COUNTRIES = (("MM", 0.35), ("KH", 0.3), ("LA", 0.1), ("PH", 0.15), ("MY", 0.1))


def _gangs(rng: Rng, n_dom: int, n_abr: int, n_farm: int) -> pd.DataFrame:
    dom_region = np.where(rng.random(n_dom) < 0.7, ident.pick_regions(rng, n_dom, "hotspot"),
                          ident.pick_regions(rng, n_dom, "city"))
    cc = np.array([c for c, _ in ABROAD_COUNTRIES])
    cw = np.array([w for _, w in ABROAD_COUNTRIES])
    farm_region = ident.pick_regions(rng, n_farm, "hotspot")
    return pd.DataFrame({
        "kind": ["domestic"] * n_dom + ["abroad"] * n_abr + ["farm"] * n_farm,
        "region": np.r_[dom_region, np.full(n_abr, "ABROAD"), farm_region],
        "country": np.r_[np.full(n_dom, ""), rng.choice(cc, n_abr, p=cw / cw.sum()), np.full(n_farm, "")],
    })


def _assign_gang_devices(rng: Rng, a: Assumptions, sims: pd.DataFrame, accs: pd.DataFrame, gangs: pd.DataFrame,
                         dev: Devices) -> None:
    """Each gang gets devices (phones / SIM-box boards); each of its cards a usual one."""
    n_dev = np.zeros(len(gangs), dtype=np.int64)
    start = np.zeros(len(gangs), dtype=np.int64)
    s_cnt = sims.loc[sims["gang"] >= 0, "gang"].value_counts().reindex(range(len(gangs)), fill_value=0).to_numpy()
    a_cnt = accs.loc[accs["gang"] >= 0, "gang"].value_counts().reindex(range(len(gangs)), fill_value=0).to_numpy()
    farm = gangs["kind"].to_numpy() == "farm"
    n_dev = np.maximum(1, np.ceil((s_cnt + a_cnt / 1.5) / a.sims_per_gang_device)).astype(np.int64)
    n_dev[farm] = rng.integers(3, 9, int(farm.sum()))
    for g in range(len(gangs)):
        start[g] = dev.alloc(int(n_dev[g]), module=bool(farm[g]))[0]
    gangs["dev_start"] = start
    gangs["n_dev"] = n_dev
    gangs["rotation"] = np.where(farm, 1.0, a.gang_rotation)
    for df in (sims, accs):
        g = df["gang"].to_numpy()
        has = g >= 0
        sticky = np.full(len(df), -1, dtype=np.int64)
        sticky[has] = start[g[has]] + (rng.random(int(has.sum())) * n_dev[g[has]]).astype(np.int64)
        df["sticky_dev"] = sticky
    sims.loc[sims["dev1"] == GANG_DEVICE, "dev1"] = sims.loc[sims["dev1"] == GANG_DEVICE, "sticky_dev"]
    accs.loc[accs["open_dev"] == GANG_DEVICE, "open_dev"] = accs.loc[accs["open_dev"] == GANG_DEVICE, "sticky_dev"]


# ------------------------------------------------------------------------------------------- strings

def _outlet_ids(op: Arr, region: Arr, k: Arr, style: str, operators: tuple[str, ...]) -> Arr:
    kk = np.char.zfill(np.maximum(k, 0).astype(str), 4)
    if style == "dash":
        out = np.char.add(np.char.add(np.char.add(np.char.add(op.astype(str), "-"), region.astype(str)), "-"), kk)
    else:
        letters = np.array([chr(ord("A") + i) for i in range(len(operators))])
        ops_arr = np.array(operators)
        order = np.argsort(ops_arr)
        letter = letters[order[np.searchsorted(ops_arr, op.astype(str), sorter=order)]]
        out = np.char.add(np.char.add(region.astype(str), letter), kk)
    ids = out.astype(object)
    ids[k < 0] = None
    return ids


def _branch_ids(bank: Arr, region: Arr, k: Arr, style: str) -> Arr:
    kk = np.char.zfill(np.maximum(k, 0).astype(str), 3)
    if style == "card19":
        out = np.char.add(np.char.add(np.char.add(np.char.add(bank.astype(str), "-"), region.astype(str)), "-"), kk)
    else:
        out = np.char.add(np.char.add(np.char.add(bank.astype(str), region.astype(str)), "B"), kk)
    ids = out.astype(object)
    ids[k < 0] = None
    return ids


def _reserved(rng: Rng, sims: pd.DataFrame, accs: pd.DataFrame) -> Arr:
    """Reserved mobile numbers by rule: own first SIM, own misuse SIM, a gang SIM of another holder, none, external."""
    n = len(accs)
    out = np.full(n, None, dtype=object)
    rule = accs["reserved_rule"].to_numpy().copy()
    own_first = sims[sims["is_misuse"] == 0].drop_duplicates("person").set_index("person")["msisdn"]
    mis = sims[sims["is_misuse"] == 1].sample(frac=1.0, random_state=int(rng.integers(2**31)))
    own_mis = mis.drop_duplicates("person").set_index("person")["msisdn"]
    person = accs["person"].to_numpy()
    v = own_mis.reindex(person).to_numpy()
    m = (rule == R_OWN_MISUSE) & pd.notna(v)
    out[m] = v[m]
    rule[(rule == R_OWN_MISUSE) & ~m] = R_GANG
    gs = mis[mis["gang"] >= 0].sort_values("gang")
    g_vals = gs["gang"].to_numpy()
    g_msisdn = gs["msisdn"].to_numpy()
    first = np.searchsorted(g_vals, accs["gang"].to_numpy(), side="left")
    last = np.searchsorted(g_vals, accs["gang"].to_numpy(), side="right")
    m = (rule == R_GANG) & (last > first)
    pick = first[m] + (rng.random(int(m.sum())) * (last[m] - first[m])).astype(np.int64)
    out[m] = g_msisdn[pick]
    rule[(rule == R_GANG) & ~m] = R_OWN
    v = own_first.reindex(person).to_numpy()
    m = (rule == R_OWN) & pd.notna(v)
    out[m] = v[m]
    m = rule == R_EXT
    if m.any():
        out[m] = ident.unique_numbers(rng, np.char.add("1", rng.choice(np.array(["3", "5", "8"]), int(m.sum()))), 9)
    return out


def _name_mismatch(rng: Rng, names: Arr) -> Arr:
    """Another given-name character: a stolen ID typed in by someone who only saw a photo."""
    out = names.astype(object)
    for i in range(len(out)):
        s = str(out[i])
        out[i] = s[:-1] + str(rng.choice(list(ident.GIVEN))) if len(s) > 1 else s
    return out


def finalise_strings(rng: Rng, a: Assumptions, persons: pd.DataFrame, sims: pd.DataFrame, accs: pd.DataFrame) -> None:
    """msisdns, account ids, outlet/branch ids, registered ID numbers and names as delivered."""
    f = a.formats
    prefixes = {k: tuple(v) for k, v in f.operator_prefixes.items()}
    sims["msisdn"] = ident.msisdns(rng, sims["operator"].to_numpy().astype(str), prefixes)
    accs["account_id"] = ident.account_ids(rng, accs["bank"].to_numpy().astype(str), dict(f.bank_bins),
                                           f.account_style)
    sims["outlet_id"] = _outlet_ids(sims["operator"].to_numpy(), sims["outlet_region"].to_numpy(),
                                    np.where(sims["channel"].to_numpy() == "ONLINE", -1, sims["outlet_k"].to_numpy()),
                                    f.outlet_style, f.operators)
    remote = np.isin(accs["channel"].to_numpy(), ["MOBILE_APP", "ONLINE"])
    accs["branch_id"] = _branch_ids(accs["bank"].to_numpy(), accs["branch_region"].to_numpy(),
                                    np.where(remote, -1, np.maximum(accs["branch_k"].to_numpy(), 0)), f.account_style)
    for df, name_col in ((sims, "reg_name"), (accs, "holder_name")):
        p = df["person"].to_numpy()
        df["id_type"] = persons["id_type"].to_numpy()[p]
        clean = persons["id_clean"].to_numpy()[p]
        df["id_number"] = ident.dirty_ids(rng, clean.astype(str), f.dirty_id_rate)
        names = persons["name"].to_numpy()[p].astype(str)
        mm = df["name_mismatch"].to_numpy().astype(bool)
        if mm.any():
            names = names.astype(object)
            names[mm] = _name_mismatch(rng, names[mm])
            names = names.astype(str)
        df[name_col] = ident.dirty_names(rng, names, f.dirty_name_rate)
    accs["reserved_msisdn"] = _reserved(rng, sims, accs)


# ------------------------------------------------------------------------------------------- hours

def _opening_hours(t: pd.Series, lo_h: float, hi_h: float) -> npt.NDArray[np.datetime64]:
    """Squeeze the time of day into [lo_h, hi_h) keeping the date and the order within a day."""
    v = t.to_numpy().astype("datetime64[s]")
    day = v.astype("datetime64[D]").astype("datetime64[s]")
    tod = (v - day).astype(np.int64) / 86_400
    return day + ((lo_h + tod * (hi_h - lo_h)) * 3600).astype(np.int64).astype("timedelta64[s]")


def shop_hours_and_channels(rng: Rng, a: Assumptions, sims: pd.DataFrame, accs: pd.DataFrame) -> None:
    """Counter registrations happen in opening hours; most MVNO numbers are sold online, not in shops."""
    mvno = sims["operator"].isin(a.formats.mvno_codes).to_numpy() & sims["channel"].isin(["STORE", "AGENT"]).to_numpy()
    online = mvno & (rng.random(len(sims)) < 0.7)
    sims.loc[online, "channel"] = "ONLINE"
    sims.loc[online, "outlet_k"] = -1
    shop = sims["channel"].isin(["STORE", "AGENT", "CORPORATE"]).to_numpy()
    sims.loc[shop, "reg_time"] = _opening_hours(sims.loc[shop, "reg_time"], 9.0, 21.5)
    counter = accs["channel"].isin(["COUNTER", "AGENT"]).to_numpy()
    accs.loc[counter, "open_time"] = _opening_hours(accs.loc[counter, "open_time"], 9.0, 17.0)
    for df, col in ((sims, "reg_time"), (accs, "open_time")):
        ms = df["misuse_start"].to_numpy().astype("datetime64[s]")
        born = df[col].to_numpy().astype("datetime64[s]")
        df["misuse_start"] = np.where(np.isnat(ms), ms, np.maximum(ms, born + np.timedelta64(1, "h")))


# ------------------------------------------------------------------------------------------- build

def build_population(rng: Rng, n_persons: int, a: Assumptions, run_date: str) -> Population:
    """Persons, their honest cards, the typology overlays, gangs and devices, and delivered strings."""
    persons = make_persons(rng, n_persons, a, run_date)
    dev = Devices(n_persons)
    sims = Cards(SIM_DEFAULTS)
    accs = Cards(ACC_DEFAULTS)
    second_hand = honest_cards(rng, persons, a, run_date, dev, sims, accs)
    honest_accs = accs.frame()
    accs.chunks = []
    n_dom = max(3, n_persons // 600)
    n_abr = max(2, n_persons // 1500)
    c = OverlayContext(rng, a, persons, run_midnight(run_date), dev, sims, accs, n_dom, n_abr)
    steps: list[Callable[[], Any]] = [
        lambda: _card_seller(c),
        lambda: _cross_border(c),
        lambda: _student_rental(c, honest_accs),
        lambda: _dormant_mule(c, honest_accs),
        lambda: _stolen_id(c),
        lambda: _elderly_agent(c),
        lambda: _quiet_lender(c, honest_accs),
        lambda: _corrupt_outlet(c, n_persons),
    ]
    for step in steps:
        step()
    n_farm = _simbox_farms(c, n_persons, n_dom + n_abr)
    gangs = _gangs(rng, n_dom, n_abr, n_farm)
    sim_df = sims.frame()
    acc_df = pd.concat([honest_accs, *accs.chunks], ignore_index=True) if accs.chunks else honest_accs
    apply_second_hand(rng, sim_df, *second_hand, dev)
    shop_hours_and_channels(rng, a, sim_df, acc_df)
    _assign_gang_devices(rng, a, sim_df, acc_df, gangs, dev)
    repair_shops(rng, sim_df, n_persons, dev)
    sim_df["dev2"] = np.where(sim_df["dev2"].to_numpy() < 0, sim_df["dev1"].to_numpy(), sim_df["dev2"].to_numpy())
    finalise_strings(rng, a, persons, sim_df, acc_df)
    module = np.zeros(dev.next, dtype=bool)
    for lo, hi in dev.module:
        module[lo:hi] = True
    imei = ident.odd_imeis(rng, ident.imeis(rng, dev.next, module=module), a.formats.imei_odd_rate)
    fp = ident.fingerprints(np.arange(dev.next, dtype=np.int64), int(rng.integers(2**40)))
    return Population(persons, sim_df, acc_df, gangs, imei, fp)
