"""Daily SIM usage (sim_activity) over the days before the run date.

A SIM has an honest phase and, if misused, a misuse phase from `misuse_start`. In the misuse phase it sits in one
of its gang's devices (phones, or SIM-box boards for farms) and its traffic is carried where the gang works: a
hotspot county, a farm, or abroad. Misuse behaviour is blended with an ordinary subscriber by the typology's
strength, so weak typologies look almost ordinary.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pandas as pd

from benchmarks.blind_world import identity as ident
from benchmarks.blind_world import population as popm
from benchmarks.blind_world.assumptions import Assumptions
from benchmarks.blind_world.population import Population
from benchmarks.blind_world.timebase import day_index, run_midnight

Rng = np.random.Generator
F = npt.NDArray[np.float64]

# per profile: p_active, calls_out/day, calls_in per call out, callee share, seconds/call, sms_out, sms_in, data MB
PROFILES = np.array([
    [0.90, 3.0, 1.00, 0.65, 95, 0.4, 3.0, 400],  # S_NORMAL
    [0.45, 0.8, 1.20, 0.80, 70, 0.1, 1.5, 80],  # S_LOW (second SIM, child, spare)
    [0.60, 1.2, 1.50, 0.70, 120, 0.05, 1.0, 20],  # S_ELDERLY
    [0.92, 1.5, 1.00, 0.70, 80, 0.3, 4.0, 1500],  # S_STUDENT
    [0.95, 9.0, 1.20, 0.80, 60, 1.0, 5.0, 500],  # S_MERCHANT (calls many customers and suppliers)
    [0.97, 0.0, 0.00, 0.00, 0, 0.03, 0.05, 12],  # S_IOT
    [0.06, 0.2, 0.50, 1.00, 30, 0.0, 0.5, 0.5],  # S_IDLE (bought, waiting)
    [0.80, 40.0, 0.05, 0.95, 35, 3.0, 1.0, 50],  # S_FRAUD_CALL (gang phone)
    [0.85, 0.3, 0.30, 1.00, 30, 0.2, 18.0, 1],  # S_CODE_RECV (接码: receives verification SMS)
    [0.90, 90.0, 0.00, 0.97, 28, 0.5, 0.0, 0],  # S_SIMBOX_CALL
    [0.90, 0.5, 0.00, 1.00, 20, 250.0, 0.0, 0],  # S_SIMBOX_SMS
])
MISUSE_PROFILES = (popm.S_FRAUD_CALL, popm.S_CODE_RECV, popm.S_SIMBOX_CALL, popm.S_SIMBOX_SMS)
TRAVEL_COUNTRIES = (("HK", 0.3), ("MO", 0.1), ("JP", 0.12), ("TH", 0.1), ("SG", 0.07), ("KR", 0.07), ("US", 0.06),
                    ("MY", 0.05), ("VN", 0.05), ("AE", 0.03), ("KH", 0.03), ("MM", 0.02))


def _params(prof: npt.NDArray[np.int64], strength: F, rng: Rng) -> F:
    """Per-card parameter rows; misuse profiles blended towards S_NORMAL by (1 - strength), with card noise."""
    base = PROFILES[np.maximum(prof, 0)].copy()
    blend = np.isin(prof, MISUSE_PROFILES)
    s = np.where(blend, strength, 1.0)[:, None]
    normal = PROFILES[popm.S_NORMAL][None, :]
    lin = normal + s * (base - normal)
    log = np.exp(np.log(normal + 0.01) + s * (np.log(base + 0.01) - np.log(normal + 0.01))) - 0.01
    out = np.where(blend[:, None], lin, base)
    out[:, 7] = np.where(blend, np.maximum(log[:, 7], 0.0), base[:, 7])
    noise = rng.gamma(2.0, 0.5, (len(prof), 1))
    out[:, [1, 5, 6, 7]] *= noise
    out[:, 3] = np.clip(out[:, 3] * rng.uniform(0.85, 1.15, len(prof)), 0.05, 1.0)
    out[prof < 0, 0] = 0.0
    return out


def _trips(rng: Rng, n: int, n_days: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.str_]]:
    start = rng.integers(-10, n_days, (n, 3))
    length = rng.integers(3, 13, (n, 3))
    length[rng.random((n, 3)) < 0.35] = 0
    cc = np.array([c for c, _ in TRAVEL_COUNTRIES])
    cw = np.array([w for _, w in TRAVEL_COUNTRIES])
    return start, length, rng.choice(cc, (n, 3), p=cw / cw.sum())


def sim_activity(rng: Rng, pop: Population, a: Assumptions, run_date: str, n_days: int = 60,
                 chunk: int = 40_000) -> Iterator[pd.DataFrame]:
    """One row per SIM and active day (device, region) in the n_days before the run date, in chunks of SIMs."""
    sims = pop.sims
    gangs = pop.gangs
    origin = run_midnight(run_date) - np.timedelta64(n_days, "D")
    strength_of = {t: p.strength for t, p in a.typology.items()}
    strength = np.array([strength_of.get(str(t), 1.0) for t in sims["typology"]])
    first = np.maximum(day_index(sims["reg_time"].to_numpy().astype("datetime64[s]"), origin, missing=0), 0)
    stop = np.minimum(day_index(sims["stop_time"].to_numpy().astype("datetime64[s]"), origin, missing=n_days),
                      n_days)
    mday = day_index(sims["misuse_start"].to_numpy().astype("datetime64[s]"), origin, missing=10**6)
    ph = _params(sims["prof_h"].to_numpy(), strength, rng)
    pm = _params(np.where(sims["prof_m"].to_numpy() >= 0, sims["prof_m"].to_numpy(), sims["prof_h"].to_numpy()),
                 strength, rng)
    trip_s, trip_l, trip_c = _trips(rng, len(sims), n_days)
    travel = sims["travel"].to_numpy().astype(bool)
    trip_l[~travel] = 0
    g = sims["gang"].to_numpy()
    g_start = gangs["dev_start"].to_numpy()
    g_n = gangs["n_dev"].to_numpy()
    g_rot = gangs["rotation"].to_numpy()
    g_region = gangs["region"].to_numpy().astype(str)
    g_country = gangs["country"].to_numpy().astype(str)
    weekday = ((np.arange(n_days) + (origin.astype("datetime64[D]").astype(np.int64) + 3)) % 7)  # 0 = Monday
    weekend = np.where(weekday >= 5, 0.8, 1.0)
    for lo in range(0, len(sims), chunk):
        hi = min(lo + chunk, len(sims))
        idx = np.arange(lo, hi)
        d = np.arange(n_days)[None, :]
        in_mis = d >= mday[idx, None]
        p_act = np.where(in_mis, pm[idx, 0][:, None], ph[idx, 0][:, None])
        live = (d >= first[idx, None]) & (d < stop[idx, None])
        keep = live & (rng.random((len(idx), n_days), dtype=np.float32) < p_act)
        ci, dd = np.nonzero(keep)
        i = idx[ci]
        mis = dd >= mday[i]
        par = np.where(mis[:, None], pm[i], ph[i])
        wk = np.where(mis, 1.0, weekend[dd])
        calls_out = rng.poisson(par[:, 1] * wk)
        in_rate = par[:, 1] * par[:, 2] * rng.uniform(0.6, 1.4, len(i))
        calls_in = rng.poisson(in_rate)
        callees = rng.binomial(calls_out, par[:, 3])
        callees = np.where(calls_out > 0, np.maximum(callees, 1), 0)
        secs = np.round(calls_out * par[:, 4] * rng.lognormal(0, 0.35, len(i))).astype(np.int64)
        sms_out = rng.poisson(par[:, 5])
        sms_in = rng.poisson(par[:, 6])
        data = np.where(par[:, 7] > 0, np.round(par[:, 7] * rng.lognormal(-0.25, 0.7, len(i)), 2), 0.0)
        # device
        sw = sims["switch_day"].to_numpy()[i]
        dev = np.where(dd >= sw, sims["dev2"].to_numpy()[i], sims["dev1"].to_numpy()[i])
        repair = dd == n_days - sims["repair_back"].to_numpy()[i]
        dev = np.where(repair, sims["repair_dev"].to_numpy()[i], dev)
        gi = g[i]
        ing = mis & (gi >= 0)
        rot = ing & (rng.random(len(i)) < g_rot[np.maximum(gi, 0)])
        dev = np.where(ing, sims["sticky_dev"].to_numpy()[i], dev)
        dev[rot] = g_start[gi[rot]] + (rng.random(int(rot.sum())) * g_n[gi[rot]]).astype(np.int64)
        imei = pop.device_imei[dev].astype(object)
        imei[rng.random(len(i)) < a.formats.imei_null_rate] = None
        # region
        region = sims["home_region"].to_numpy()[i].astype(object)
        country = np.full(len(i), None, dtype=object)
        away = (~mis) & (rng.random(len(i)) < 0.03)
        region[away] = ident.pick_regions(rng, int(away.sum()))
        rel = dd[:, None] - trip_s[i]
        on_trip = (rel >= 0) & (rel < trip_l[i])
        abroad = on_trip.any(axis=1) & ~mis
        which = np.argmax(on_trip, axis=1)
        region[abroad] = "ABROAD"
        country[abroad] = trip_c[i[abroad], which[abroad]]
        region[ing] = g_region[gi[ing]]
        ab_g = ing & (g_region[np.maximum(gi, 0)] == "ABROAD")
        country[ab_g] = g_country[gi[ab_g]]
        yield pd.DataFrame({
            "msisdn": sims["msisdn"].to_numpy()[i], "day": (origin.astype("datetime64[D]") + dd),
            "imei": imei, "cell_region": region, "roam_country": country,
            "calls_out": calls_out.astype(np.int32), "calls_in": calls_in.astype(np.int32),
            "call_out_seconds": secs, "distinct_callees": callees.astype(np.int32),
            "sms_out": sms_out.astype(np.int32), "sms_in": sms_in.astype(np.int32), "data_mb": data,
        }).sort_values(["day", "msisdn"], ignore_index=True)
