"""Bank transactions over the days before the run date, one row per transaction from the account's side.

Honest accounts spend, get paid monthly, transfer with contacts; merchants take many small payments and pay
suppliers in bulk; migrants remit home monthly. A mule account, once sold, takes inbound transfers from many
victims and forwards nearly all of each within minutes (at full strength) to next-layer accounts, from the gang's
devices, then goes quiet after a few weeks ("burned"). Both sides of a transfer are not reconciled: each bank
delivers its own rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from benchmarks.blind_world import population as popm
from benchmarks.blind_world.assumptions import Assumptions
from benchmarks.blind_world.population import Population
from benchmarks.blind_world.timebase import run_midnight

Rng = np.random.Generator
FloatA = npt.NDArray[np.float64]
IntA = npt.NDArray[np.int64]
ObjA = npt.NDArray[np.object_]

SPEND = {popm.T_MAIN: 0.9, popm.T_STUDENT: 0.7, popm.T_PENSION: 0.25, popm.T_REMIT: 0.6, popm.T_LIGHT: 0.12,
         popm.T_SAVINGS: 0.02, popm.T_MERCHANT: 0.3}
ATM = {popm.T_MAIN: 0.03, popm.T_PENSION: 0.08, popm.T_REMIT: 0.04, popm.T_LIGHT: 0.01, popm.T_STUDENT: 0.01}
P2P = {popm.T_MAIN: (0.06, 0.08), popm.T_STUDENT: (0.3, 0.3), popm.T_REMIT: (0.04, 0.05),
       popm.T_LIGHT: (0.01, 0.015), popm.T_PENSION: (0.02, 0.01)}


@dataclass
class Rows:
    """Transaction columns collected block by block."""

    acc: list[IntA] = field(default_factory=list)
    t: list[FloatA] = field(default_factory=list)
    amount: list[FloatA] = field(default_factory=list)
    direction: list[ObjA] = field(default_factory=list)
    cp: list[ObjA] = field(default_factory=list)
    channel: list[ObjA] = field(default_factory=list)
    device: list[ObjA] = field(default_factory=list)
    ip: list[ObjA] = field(default_factory=list)

    def add(self, acc: IntA, t: FloatA, amount: FloatA, direction: str, cp: ObjA, channel: ObjA | str, device: ObjA | None = None,
            ip: ObjA | None = None) -> None:
        n = len(acc)
        self.acc.append(acc)
        self.t.append(t)
        self.amount.append(amount)
        self.direction.append(np.full(n, direction, dtype=object))
        self.cp.append(np.asarray(cp, dtype=object))
        self.channel.append(np.full(n, channel, dtype=object) if isinstance(channel, str) else channel)
        self.device.append(np.full(n, None, dtype=object) if device is None else device)
        self.ip.append(np.full(n, None, dtype=object) if ip is None else ip)


def _events(rng: Rng, acc: IntA, lo: FloatA, hi: FloatA, rate: FloatA) -> tuple[IntA, FloatA]:
    """Poisson events at `rate` per day, uniform in [lo, hi) per account."""
    length = np.clip(hi - lo, 0, None)
    n = rng.poisson(rate * length)
    a = np.repeat(acc, n)
    t = np.repeat(lo, n) + rng.random(int(n.sum())) * np.repeat(length, n)
    return a, t


def _daytime(rng: Rng, t: FloatA) -> FloatA:
    """Move an event to a waking hour of its day."""
    hour = 6.5 + 17.0 * rng.beta(2.2, 1.8, len(t))
    return np.floor(t) + hour / 24


def _lognorm(rng: Rng, median: FloatA | float, sigma: float, n: int) -> FloatA:
    return np.asarray(median) * rng.lognormal(0, sigma, n)


def _monthly(rng: Rng, acc: IntA, lo: FloatA, hi: FloatA, origin: np.datetime64, n_days: int) -> tuple[IntA, FloatA]:
    """One event a month per account on its own pay day."""
    payday = rng.integers(1, 29, len(acc))
    months = np.arange(origin.astype("datetime64[M]") - np.timedelta64(1, "M"),
                       (origin + np.timedelta64(n_days, "D")).astype("datetime64[M]") + np.timedelta64(1, "M"))
    base = (months.astype("datetime64[D]") - origin.astype("datetime64[D]")).astype(np.int64).astype(float)
    t = base[None, :] + payday[:, None] - 1 + np.clip(rng.normal(0.45, 0.1, (len(acc), len(months))), 0.3, 0.7)
    ok = (t >= lo[:, None]) & (t < hi[:, None])
    r, c = np.nonzero(ok)
    return acc[r], t[r, c]


@dataclass
class Ctx:
    """Per-account arrays shared by all flows (positions are fractional days from the window start)."""

    origin: np.datetime64
    n_days: int
    first: FloatA
    stop: FloatA
    mday: FloatA
    h_hi: FloatA
    ph: IntA
    acc_ids: ObjA
    own_fp: ObjA
    home: ObjA
    noise: FloatA
    main_idx: IntA
    merchant_idx: IntA
    contacts: IntA
    own_main: IntA


def _context(rng: Rng, pop: Population, run_date: str, n_days: int) -> Ctx:
    acc = pop.accounts
    n = len(acc)
    origin = run_midnight(run_date) - np.timedelta64(n_days, "D")
    one = np.timedelta64(1, "D")

    def pos(col: str, missing: float) -> FloatA:
        t = acc[col].to_numpy().astype("datetime64[s]")
        return np.where(np.isnat(t), missing, (t - origin) / one).astype(float)

    first = np.clip(pos("open_time", 0.0), 0.0, None)
    stop = np.clip(pos("stop_time", float(n_days)), None, float(n_days))
    mday = pos("misuse_start", np.inf)
    ph = acc["prof_h"].to_numpy().astype(np.int64)
    lender = acc["prof_m"].to_numpy() == popm.T_LENDER
    ids = np.arange(n, dtype=np.int64)
    person = acc["person"].to_numpy()
    main_idx = np.flatnonzero(np.isin(ph, [popm.T_MAIN, popm.T_REMIT, popm.T_PENSION]))
    student_idx = np.flatnonzero(ph == popm.T_STUDENT)
    contacts = rng.choice(main_idx if len(main_idx) else ids, (n, 6))
    if len(student_idx):  # students: classmates
        st = ph == popm.T_STUDENT
        contacts[st] = rng.choice(student_idx, (int(st.sum()), 6))
    first_acc = pd.Series(ids, index=person).groupby(level=0).first()
    return Ctx(origin=origin, n_days=n_days, first=first, stop=stop, mday=mday,
               h_hi=np.where(lender, stop, np.minimum(stop, mday)), ph=ph,
               acc_ids=acc["account_id"].to_numpy().astype(object), own_fp=pop.device_fp[person].astype(object),
               home=acc["home_region"].to_numpy().astype(object), noise=rng.gamma(2.0, 0.5, n), main_idx=main_idx,
               merchant_idx=np.flatnonzero(ph == popm.T_MERCHANT), contacts=contacts,
               own_main=first_acc.reindex(person).to_numpy().astype(np.int64))


def bank_transactions(rng: Rng, pop: Population, a: Assumptions, run_date: str, n_days: int = 90,
                      chunk: int = 25_000) -> Iterator[pd.DataFrame]:
    """All transactions of all accounts in the n_days before the run date, in chunks of accounts (no txn_id)."""
    c = _context(rng, pop, run_date, n_days)
    n = len(c.ph)
    for lo in range(0, n, chunk):
        ids = np.arange(lo, min(lo + chunk, n), dtype=np.int64)
        rows = Rows()
        _honest_flows(rng, c, ids, rows)
        _misuse_flows(rng, pop, a, c, ids, rows)
        if rows.acc:
            yield _frame(rows, c)


def _honest_flows(rng: Rng, c: Ctx, ids: IntA, rows: Rows) -> None:
    first, h_hi, ph, acc_ids, home = c.first[ids], c.h_hi[ids], c.ph[ids], c.acc_ids, c.home
    noise = c.noise[ids]
    n_all = len(c.ph)
    n = len(ids)
    n_ext_merchants = max(500, n_all // 10)

    def own_session(a_: IntA) -> tuple[ObjA, ObjA]:
        return _own_session(rng, c, a_)

    # spending: POS / mobile / online to merchants (internal shops or outside merchants)
    rate = np.array([SPEND.get(int(p), 0.0) for p in ph]) * noise
    e, t = _events(rng, ids, first, h_hi, rate)
    t = _daytime(rng, t)
    pe = c.ph[e]
    med = np.where(pe == popm.T_STUDENT, 25.0, np.where(pe == popm.T_PENSION, 45.0, 70.0))
    ch = rng.choice(np.array(["POS", "MOBILE", "ONLINE"], dtype=object), len(e), p=[0.35, 0.5, 0.15])
    internal = (rng.random(len(e)) < 0.5) & (len(c.merchant_idx) > 0)
    shops = acc_ids[rng.choice(c.merchant_idx, len(e))] if len(c.merchant_idx) else np.full(len(e), None)
    cp = np.where(internal, shops,
                  np.char.add("XM", np.char.zfill(rng.integers(0, n_ext_merchants, len(e)).astype(str), 9)))
    dev, ip = own_session(e)
    card = ch == "POS"
    dev[card] = None
    ip[card] = None
    rows.add(e, t, _lognorm(rng, med, 1.0, len(e)), "OUT", cp, ch, dev, ip)

    # ATM cash
    rate = np.array([ATM.get(int(p), 0.0) for p in ph])
    e, t = _events(rng, ids, first, h_hi, rate)
    rows.add(e, _daytime(rng, t), 100.0 * rng.integers(1, 21, len(e)).astype(np.float64), "OUT", np.full(len(e), None), "ATM")

    # transfers with a small circle of contacts (students: classmates, many small AA splits)
    for k, direction in ((0, "IN"), (1, "OUT")):
        rate = np.array([P2P.get(int(p), (0.0, 0.0))[k] for p in ph])
        e, t = _events(rng, ids, first, h_hi, rate)
        med = np.where(c.ph[e] == popm.T_STUDENT, 40.0, 200.0)
        cp = acc_ids[c.contacts[e, rng.integers(0, 6, len(e))]]
        session = own_session(e) if direction == "OUT" else (None, None)
        rows.add(e, _daytime(rng, t), _lognorm(rng, med, 1.2, len(e)), direction, cp, "MOBILE", *session)

    # monthly inflows: salary, pension, parents' allowance
    employers = np.char.add("XE", np.char.zfill(((ids * 2654435761) % max(50, n_all // 40)).astype(str), 7))
    base_pay = _lognorm(rng, 7000.0, 0.5, n)
    monthly = np.isin(ph, [popm.T_MAIN, popm.T_REMIT, popm.T_PENSION, popm.T_STUDENT])
    pos_of = np.flatnonzero(monthly)
    e_local, t = _monthly(rng, pos_of, first[monthly], h_hi[monthly], c.origin, c.n_days)
    e = ids[e_local]
    kind = c.ph[e]
    amount = np.where(kind == popm.T_PENSION, base_pay[e_local] * 0.45,
                      np.where(kind == popm.T_STUDENT, base_pay[e_local] * 0.2, base_pay[e_local]))
    amount = amount * rng.uniform(0.95, 1.05, len(e))
    cp = np.where(kind == popm.T_PENSION, np.char.add("XSSF", home[e].astype(str)),
                  np.where(kind == popm.T_STUDENT, acc_ids[c.contacts[e, 0]], employers[e_local]))
    rows.add(e, t, amount, "IN", cp, "ONLINE")
    # migrants send about half home a few days later
    rem = kind == popm.T_REMIT
    tr = t[rem] + 1 + rng.random(int(rem.sum())) * 4
    ok = tr < c.h_hi[e[rem]]
    er = e[rem][ok]
    dev, ip = own_session(er)
    family = acc_ids[c.contacts[er, 1]]
    rows.add(er, tr[ok], amount[rem][ok] * rng.uniform(0.4, 0.7, len(er)), "OUT", family, "MOBILE", dev, ip)

    # savings shuffled between one's own accounts
    for direction in ("IN", "OUT"):
        rate = np.where(ph == popm.T_SAVINGS, 0.05, 0.0)
        e, t = _events(rng, ids, first, h_hi, rate)
        session = own_session(e) if direction == "OUT" else (None, None)
        rows.add(e, _daytime(rng, t), _lognorm(rng, 5000.0, 0.8, len(e)), direction, acc_ids[c.own_main[e]],
                 "MOBILE", *session)

    # merchants: many small QR payments in, bulk payments to suppliers and to the owner out
    lam = np.where(ph == popm.T_MERCHANT, rng.uniform(3, 18, n), 0.0)
    e, t = _events(rng, ids, first, h_hi, lam)
    payer_internal = rng.random(len(e)) < 0.5
    cp = np.where(payer_internal, acc_ids[rng.integers(0, n_all, len(e))],
                  np.char.add("XC", np.char.zfill(rng.integers(0, 10**10, len(e)).astype(str), 10)))
    rows.add(e, _daytime(rng, t), _lognorm(rng, 45.0, 0.9, len(e)), "IN", cp, "MOBILE")
    suppliers = np.char.add("XS", np.char.zfill(((ids[:, None] * 40503 + np.arange(3)) % 10**8).astype(str), 8))
    for rate_k, share, to_owner in ((0.25, 2.8, False), (0.15, 1.0, True)):
        e, t = _events(rng, ids, first, h_hi, np.where(ph == popm.T_MERCHANT, rate_k, 0.0))
        local = e - ids[0]
        cp = acc_ids[c.own_main[e]] if to_owner else suppliers[local, rng.integers(0, 3, len(e))]
        dev, ip = own_session(e)
        rows.add(e, _daytime(rng, t), _lognorm(rng, lam[local] * 45.0 * share, 0.4, len(e)), "OUT",
                 cp, "ONLINE", dev, ip)


def _own_session(rng: Rng, c: Ctx, a_: IntA) -> tuple[ObjA, ObjA]:
    """The holder's own phone and region (sometimes unknown)."""
    dev = c.own_fp[a_].copy()
    dev[rng.random(len(a_)) < 0.03] = None
    ip = c.home[a_].copy()
    ip[rng.random(len(a_)) < 0.05] = None
    return dev, ip


def _misuse_flows(rng: Rng, pop: Population, a: Assumptions, c: Ctx, chunk: IntA, rows: Rows) -> None:
    """Mule (pass-through) and lender flows in the misuse phase, for the accounts in `chunk`."""
    acc = pop.accounts
    n = len(acc)
    gangs = pop.gangs
    acc_ids, main_idx, stop, n_days = c.acc_ids, c.main_idx, c.stop, c.n_days
    pm = acc["prof_m"].to_numpy()
    strength_of = {t: p.strength for t, p in a.typology.items()}
    s = np.array([strength_of.get(str(t), 1.0) for t in acc["typology"]])
    mule = pm == popm.T_MULE
    lender = pm == popm.T_LENDER
    life = np.where(mule, 20 + rng.random(n) * 100, np.inf)
    lo = np.maximum(c.first, c.mday)
    hi = np.minimum(stop, c.mday + life)
    ids = np.arange(n, dtype=np.int64)
    in_chunk = np.zeros(n, dtype=bool)
    in_chunk[chunk] = True
    in_rate = np.where(mule, 0.05 + s * 2.95, np.where(lender, 0.05 + s * 1.0, 0.0)) * c.noise * in_chunk
    if not (in_rate > 0).any():
        return
    e, t = _events(rng, ids, lo, hi, in_rate)
    is_mule = mule[e]
    se = s[e]
    med_in = np.where(is_mule, np.exp(np.log(800) + se * (np.log(6000) - np.log(800))), 300 + se * 1500)
    amount = med_in * np.exp(np.where(is_mule, 0.8, 0.6) * rng.standard_normal(len(e)))
    round100 = is_mule & (rng.random(len(e)) < 0.5)
    amount[round100] = np.maximum(100.0, np.round(amount[round100], -2))
    platforms = np.char.add("XP", np.char.zfill(rng.integers(0, 10**8, (n, 4)).astype(str), 8))
    victim_int = rng.random(len(e)) < 0.3
    victims = np.where(victim_int, acc_ids[rng.choice(main_idx if len(main_idx) else ids, len(e))],
                       np.char.add("XV", np.char.zfill(rng.integers(0, 10**11, len(e)).astype(str), 11)))
    cp = np.where(is_mule, victims, platforms[e, rng.integers(0, 4, len(e))])
    t = np.where(is_mule, t, _daytime(rng, t))
    keep = t >= lo[e]
    e, t, amount, cp, is_mule, se = e[keep], t[keep], amount[keep], cp[keep], is_mule[keep], se[keep]
    rows.add(e, t, amount, "IN", cp,
             rng.choice(np.array(["MOBILE", "ONLINE", "COUNTER"], dtype=object), len(e), p=[0.6, 0.3, 0.1]))

    # each inbound forwarded in 1-3 parts after a delay: minutes at full strength, about a day at none
    k = 1 + rng.binomial(2, 0.4, len(e))
    src = np.repeat(np.arange(len(e)), k)
    eo = e[src]
    w = rng.random(len(src)) + 0.2
    part = w / np.bincount(src, weights=w, minlength=len(e))[src]
    retain = rng.uniform(0.0, 0.03, len(src))
    out_amount = amount[src] * part * (1 - retain)
    delay_med = np.where(is_mule[src],
                         np.exp(np.log(1440) + se[src] * (np.log(a.mule_out_delay_minutes) - np.log(1440))),
                         np.exp(np.log(1440) + se[src] * (np.log(180) - np.log(1440))))
    to = t[src] + delay_med * rng.lognormal(0, 1.0, len(src)) / 1440
    ok = (to < hi[eo] + 2) & (to < stop[eo]) & (to < n_days)  # frozen or closed: the money is stuck
    src, eo, to, out_amount = src[ok], eo[ok], to[ok], out_amount[ok]
    mule_o = mule[eo]
    g = acc["gang"].to_numpy()[eo]
    gi = np.maximum(g, 0)
    # next layer: another mule of the same gang, or the gang's outside layer accounts
    mule_rows = acc[(acc["prof_m"] == popm.T_MULE) & (acc["gang"] >= 0)].sort_values("gang")
    mg = mule_rows["gang"].to_numpy()
    mi = mule_rows.index.to_numpy()
    lo_g = np.searchsorted(mg, gi, "left")
    hi_g = np.searchsorted(mg, gi, "right")
    pick = lo_g + (rng.random(len(eo)) * np.maximum(hi_g - lo_g, 1)).astype(np.int64)
    internal = mule_o & (rng.random(len(eo)) < 0.4) & (hi_g > lo_g)
    nxt = np.full(len(eo), None, dtype=object)
    nxt[internal] = acc_ids[mi[np.minimum(pick[internal], len(mi) - 1)]]
    layer = np.char.add(np.char.add("XL", gi.astype(str)), np.char.zfill(rng.integers(0, 12, len(eo)).astype(str), 3))
    nxt[~internal] = layer[~internal]
    lend_out = np.char.add("XQ", np.char.zfill((eo * 7 + rng.integers(0, 2, len(eo))).astype(str), 9))
    nxt[~mule_o] = lend_out[~mule_o]
    # sessions: gang devices (sticky, sometimes another of the gang's), gang region or ABROAD; lenders their own
    g_start = gangs["dev_start"].to_numpy()
    g_n = gangs["n_dev"].to_numpy()
    dev_idx = acc["sticky_dev"].to_numpy()[eo].copy()
    rot = mule_o & (rng.random(len(eo)) < a.gang_rotation)
    dev_idx[rot] = g_start[gi[rot]] + (rng.random(int(rot.sum())) * g_n[gi[rot]]).astype(np.int64)
    dev = pop.device_fp[np.maximum(dev_idx, 0)].astype(object)
    dev[~(mule_o & (dev_idx >= 0))] = None
    ip = gangs["region"].to_numpy()[gi].astype(object)
    ip[~mule_o] = None
    od, oip = _own_session(rng, c, eo)
    dev[~mule_o] = od[~mule_o]
    ip[~mule_o] = oip[~mule_o]
    channel = rng.choice(np.array(["MOBILE", "ONLINE"], dtype=object), len(eo), p=[0.75, 0.25])
    cash = mule_o & (gangs["kind"].to_numpy()[gi] == "domestic") & (rng.random(len(eo)) < 0.1)
    channel[cash] = "ATM"
    nxt[cash] = None
    dev[cash] = None
    ip[cash] = None
    rows.add(eo, to, out_amount, "OUT", nxt, channel, dev, ip)


def _frame(rows: Rows, c: Ctx) -> pd.DataFrame:
    acc = np.concatenate(rows.acc)
    t = np.concatenate(rows.t)
    ok = (t >= c.first[acc]) & (t < c.stop[acc]) & (t >= 0)
    ts = c.origin + (t[ok] * 86_400).astype(np.int64).astype("timedelta64[s]")
    amount = np.round(np.maximum(np.concatenate(rows.amount)[ok], 0.01), 2)
    return pd.DataFrame({
        "account_id": c.acc_ids[acc[ok]], "ts": ts, "amount": amount,
        "direction": np.concatenate(rows.direction)[ok], "counterparty_account": np.concatenate(rows.cp)[ok],
        "channel": np.concatenate(rows.channel)[ok], "device_id": np.concatenate(rows.device)[ok],
        "ip_region": np.concatenate(rows.ip)[ok],
    }).sort_values(["ts", "account_id"], ignore_index=True)
