"""Daily SIM usage and bank transactions over the window, vectorised over a card x day grid.

Each card's hidden ``profile`` picks its usage: ordinary phones call both ways; SIM-box SIMs make
many short outgoing calls to distinct numbers, or send bulk SMS, and receive almost nothing; IoT
SIMs move data only; mule accounts pass money through (in, then out within hours, in ~ out, many
counterparties).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from realname_guard.core.generator_config import GeneratorConfig
from realname_guard.generator.reference import SHOP_TACS, US_PER_DAY, US_PER_HOUR, imeis, padded

# active-day scale (x cfg.sim_active_day_share unless fixed), calls out/in per day, seconds per call,
# share of calls to distinct numbers, sms out/in, median data MB, data spread
SIM_PROFILES: dict[str, tuple[float, bool, float, float, float, float, float, float, float, float]] = {
    "personal": (1.0, False, 3.0, 3.0, 110, 0.7, 0.8, 2.5, 350, 1.0),
    "secondary": (0.6, False, 1.0, 1.0, 90, 0.8, 0.3, 1.5, 80, 1.2),
    "student": (1.0, False, 2.0, 2.0, 150, 0.6, 0.5, 2.0, 900, 0.9),
    "elderly_own": (0.8, False, 1.5, 2.5, 180, 0.5, 0.1, 1.0, 30, 1.2),
    "iot": (1.5, False, 0.0, 0.0, 0, 0.0, 0.0, 0.05, 8, 1.0),
    "simbox": (0.85, True, 70.0, 0.3, 28, 0.95, 8.0, 0.2, 0.5, 0.8),
    "simbox_sms": (0.85, True, 0.5, 0.05, 20, 1.0, 220.0, 0.3, 0.0, 0.8),
    "stolen": (0.6, True, 18.0, 4.0, 70, 0.85, 4.0, 3.0, 250, 1.0),
    "elderly_misuse": (0.7, True, 25.0, 3.0, 55, 0.85, 10.0, 2.0, 600, 0.9),
    "code_receiving": (0.8, True, 0.3, 0.3, 40, 1.0, 0.2, 12.0, 2, 1.0),
}
# The misuse profiles a 接码 platform's SIM replaces (GeneratorConfig.code_receiving_share).
CALLER_PROFILES = ("stolen", "elderly_misuse")


def sim_activity(rng: np.random.Generator, sims: pd.DataFrame, imei: np.ndarray, cfg: GeneratorConfig,
                 as_of_us: int, schema: pa.Schema) -> pa.Table:
    """One row per SIM and active day: device, region (``ABROAD`` + country when roaming), counts."""
    days = cfg.activity_days
    ws = as_of_us - days * US_PER_DAY
    names = list(SIM_PROFILES)
    code = pd.Categorical(sims["profile"], categories=names).codes
    params = np.array([SIM_PROFILES[k] for k in names], dtype=float)[code]
    p_active = np.where(params[:, 1] > 0, params[:, 0], np.minimum(1.0, params[:, 0] * cfg.sim_active_day_share))
    start_us = np.maximum(sims["reg_time"].to_numpy(), sims["act_start"].to_numpy())
    end_us = np.where(sims["act_end"].to_numpy() >= 0, sims["act_end"].to_numpy(), as_of_us)
    start_d = np.floor_divide(start_us - ws, US_PER_DAY)
    end_d = np.floor_divide(end_us - ws + US_PER_DAY - 1, US_PER_DAY)
    grid = np.arange(days)[None, :]
    on = (grid >= start_d[:, None]) & (grid < end_d[:, None])
    on &= rng.random((len(sims), days), dtype=np.float32) < p_active[:, None]
    s, d = np.nonzero(on)
    n = len(s)
    p = params[s]
    factor = rng.gamma(2.0, 0.5, n)
    calls_out = rng.poisson(p[:, 2] * factor)
    calls_in = rng.poisson(p[:, 3] * factor)
    seconds = np.round(calls_out * p[:, 4] * rng.lognormal(0.0, 0.3, n)).astype(np.int64)
    callees = np.where(calls_out > 0, np.maximum(1, rng.binomial(calls_out, p[:, 5])), 0)
    sms_out = rng.poisson(p[:, 6] * factor)
    sms_in = rng.poisson(p[:, 7] * factor)
    data_mb = np.round(p[:, 8] * factor * rng.lognormal(0.0, p[:, 9], n), 2)

    region = sims["act_region"].to_numpy()[s]
    country = sims["abroad_country"].to_numpy()[s]
    trip0 = sims["trip_start"].to_numpy()[s]
    on_trip = (trip0 >= 0) & (d >= trip0) & (d < trip0 + sims["trip_len"].to_numpy()[s])
    country = np.where(on_trip, sims["trip_country"].to_numpy()[s], country)
    abroad = pd.notna(country)
    cell_region = np.where(abroad, "ABROAD", region)
    device = imei[s].copy()
    device[rng.random(n) < 0.01] = None
    day = (ws // US_PER_DAY + d).astype("datetime64[D]")
    cols = {
        "msisdn": pa.array(sims["msisdn"].to_numpy()[s], pa.string()),
        "day": pa.array(day, pa.date32()),
        "imei": pa.array(device, pa.string()),
        "cell_region": pa.array(cell_region, pa.string()),
        "roam_country": pa.array(np.where(abroad, country, None), pa.string()),
        "calls_out": pa.array(calls_out, pa.int32()),
        "calls_in": pa.array(calls_in, pa.int32()),
        "call_out_seconds": pa.array(seconds, pa.int64()),
        "distinct_callees": pa.array(callees, pa.int32()),
        "sms_out": pa.array(sms_out, pa.int32()),
        "sms_in": pa.array(sms_in, pa.int32()),
        "data_mb": pa.array(data_mb, pa.float64()),
    }
    return pa.table(cols, schema=schema)


def code_receiving(rng: np.random.Generator, activity: pa.Table, sims: pd.DataFrame, imei: np.ndarray,
                   cfg: GeneratorConfig, as_of_us: int) -> pa.Table:
    """`activity` with ``cfg.code_receiving_share`` of the misused SIMs of stolen and elderly IDs
    used by a 接码 platform instead (many SMS received, hardly a call, no data): their rows drawn
    anew from `rng`, so that every other row is as it was."""
    chosen = sims["profile"].isin(CALLER_PROFILES).to_numpy() & (rng.random(len(sims)) < cfg.code_receiving_share)
    if not chosen.any():
        return activity
    fresh = sim_activity(rng, sims[chosen].assign(profile="code_receiving"), imei[chosen], cfg, as_of_us,
                         activity.schema)
    keep = pc.invert(pc.is_in(activity["msisdn"], value_set=pa.array(sims["msisdn"].to_numpy()[chosen])))
    return pa.concat_tables([activity.filter(keep), fresh])


def shop_handsets(rng: np.random.Generator, activity: pa.Table, sims: pd.DataFrame, cfg: GeneratorConfig,
                  counters: dict[str, int]) -> pa.Table:
    """Ordinary SIMs put once into a shop's or repair desk's handset: one active day of each chosen
    SIM (``cfg.shop_handset_share`` of the ordinary ones) is seen in a handset that
    ``cfg.shop_handset_sims`` holders' SIMs pass through for a day each. Honest (a confounder of
    handset fan-in); the chosen SIMs' truth typology becomes ``shop_handset`` (in `sims`)."""
    ordinary = (sims["typology"] == "normal").to_numpy()
    chosen = ordinary & (rng.random(len(sims)) < cfg.shop_handset_share)
    msisdn = activity["msisdn"].to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(np.isin(msisdn, sims["msisdn"].to_numpy()[chosen]))
    rows = rows[rng.permutation(len(rows))]
    rows = rows[~pd.Series(msisdn[rows]).duplicated().to_numpy()]  # one random day per SIM
    if not len(rows):
        return activity
    sims.loc[sims["msisdn"].isin(msisdn[rows]), "typology"] = "shop_handset"
    glob = counters.setdefault("shop", 0) + np.arange(len(rows)) // cfg.shop_handset_sims
    counters["shop"] = int(glob.max()) + 1
    device = activity["imei"].to_numpy(zero_copy_only=False).copy()
    device[rows] = imeis(glob // len(SHOP_TACS), np.asarray(SHOP_TACS)[glob % len(SHOP_TACS)])
    return activity.set_column(activity.schema.get_field_index("imei"), activity.schema.field("imei"),
                               pa.array(device, pa.string()))


def _decimal(cents: np.ndarray) -> pa.Array:
    """decimal(18,2) from positive integer cents, built from the 16-byte little-endian buffer."""
    buf = np.zeros((len(cents), 2), dtype=np.int64)
    buf[:, 0] = cents
    return pa.Array.from_buffers(pa.decimal128(18, 2), len(cents), [None, pa.py_buffer(buf.tobytes())])


def _external(values: np.ndarray) -> np.ndarray:
    """19-digit counterparty account numbers outside the world's banks."""
    numbers = pa.array(np.int64(6_230_000_000_000_000_000) + values.astype(np.int64) % 10**16)
    return pc.cast(numbers, pa.string()).to_numpy(zero_copy_only=False)


def transactions(rng: np.random.Generator, accounts: pd.DataFrame, person_pid: np.ndarray, cfg: GeneratorConfig,
                 as_of_us: int, txn_offset: int, schema: pa.Schema) -> pa.Table:
    """Transactions of every account: everyday spending, merchant takings, and mule pass-through."""
    days = cfg.activity_days
    ws = as_of_us - days * US_PER_DAY
    profile = accounts["profile"].to_numpy()
    lo = np.maximum.reduce([np.full(len(accounts), ws), accounts["open_time"].to_numpy(),
                            accounts["txn_start"].to_numpy()])
    end = accounts["txn_end"].to_numpy()
    hi = np.where(end >= 0, np.minimum(end, as_of_us), as_of_us)
    span = np.maximum(hi - lo, 0)
    span_days = span / US_PER_DAY

    rate = np.select([profile == "personal", profile == "merchant"],
                     [cfg.txns_per_account_per_day, cfg.merchant_txns_per_day], 0.0)
    k = rng.poisson(rate * span_days)
    a1 = np.repeat(np.arange(len(accounts)), k)
    n1 = len(a1)
    ts1 = lo[a1] + (rng.random(n1) * span[a1]).astype(np.int64)
    merchant = profile[a1] == "merchant"
    inbound = rng.random(n1) < np.where(merchant, 0.8, 0.35)
    mu = np.select([merchant & inbound, merchant, inbound], [np.log(45), np.log(2500), np.log(1500)], np.log(120))
    cents1 = np.maximum(1, np.round(np.exp(mu + rng.normal(0, 1.0, n1)) * 100)).astype(np.int64)
    chan1 = np.where(inbound, rng.choice(np.array(["MOBILE", "ONLINE", "COUNTER", "ATM"], dtype=object), n1,
                                         p=[0.5, 0.3, 0.12, 0.08]),
                     rng.choice(np.array(["MOBILE", "POS", "ATM", "ONLINE", "COUNTER"], dtype=object), n1,
                                p=[0.5, 0.25, 0.08, 0.12, 0.05]))
    chan1[merchant & inbound] = np.where(rng.random(int((merchant & inbound).sum())) < 0.7, "MOBILE", "POS")
    pool = person_pid[accounts["person"].to_numpy()[a1]] * 8 + rng.integers(0, 5, n1)
    random_cp = rng.integers(0, 10**16, n1)
    use_pool = np.where(merchant, ~inbound, rng.random(n1) < 0.6)
    cp1 = _external(np.where(use_pool, pool * 7_919 + 17, random_cp))
    cp1[(chan1 == "ATM") | ((chan1 == "COUNTER") & (rng.random(n1) < 0.5))] = None

    # pass-through pairs: money in, then out in 1-3 parts within hours
    pair_rate = np.select([profile == "passthrough", profile == "passthrough_light", profile == "dormant_mule"],
                          [cfg.mule_pairs_per_day, cfg.mule_pairs_per_day * 0.5, 2.5], 0.0)
    kp = np.where(span > 0, np.maximum(rng.poisson(pair_rate * span_days), pair_rate > 0), 0)
    a2 = np.repeat(np.arange(len(accounts)), kp)
    n2 = len(a2)
    t_in = lo[a2] + (rng.random(n2) * span[a2]).astype(np.int64)
    amount = np.exp(np.log(6000) + rng.normal(0, 0.7, n2))
    amount = np.where(rng.random(n2) < 0.5, np.round(amount, -2), amount)
    cents_in = np.maximum(100, np.round(amount * 100)).astype(np.int64)
    parts = rng.integers(1, 4, n2)
    a3 = np.repeat(np.arange(n2), parts)
    w = rng.random(len(a3)) + 0.2
    w = w / np.bincount(a3, weights=w)[a3]
    fee = 1.0 - rng.uniform(0.0, 0.02, n2)
    cents_out = np.maximum(1, np.round(cents_in[a3] * fee[a3] * w)).astype(np.int64)
    inc = rng.exponential(1.5 * US_PER_HOUR, len(a3)).astype(np.int64)
    cs = np.cumsum(inc)
    first = np.cumsum(parts) - parts
    delay = cs - np.repeat(cs[first] - inc[first], parts)
    t_out = np.minimum(t_in[a3] + np.maximum(delay, 60_000_000), as_of_us - 1)
    acc_ids = accounts["account_id"].to_numpy()
    group = accounts["group"].to_numpy()
    cp_out = _external(rng.integers(0, 10**16, len(a3)))
    # farmers pay on to another account of their own group now and then (a mule network)
    grp_out = group[a2[a3]]
    peers = np.flatnonzero(group >= 0)
    if len(peers):
        peer = peers[rng.integers(0, len(peers), len(a3))]
        same = (grp_out >= 0) & (group[peer] == grp_out) & (peer != a2[a3]) & (rng.random(len(a3)) < 0.3)
        cp_out[same] = acc_ids[peer[same]]

    acc = np.concatenate([a1, a2, a2[a3]])
    ts = np.concatenate([ts1, t_in, t_out])
    cents = np.concatenate([cents1, cents_in, cents_out])
    direction = np.concatenate([np.where(inbound, "IN", "OUT"), np.full(n2, "IN"), np.full(len(a3), "OUT")])
    chan2 = rng.choice(np.array(["MOBILE", "ONLINE"], dtype=object), n2 + len(a3), p=[0.7, 0.3])
    channel = np.concatenate([chan1, chan2])
    cp = np.concatenate([cp1, _external(rng.integers(0, 10**16, n2)), cp_out])
    online = np.isin(channel, ("MOBILE", "ONLINE"))
    device = np.where(online, accounts["use_device"].to_numpy()[acc], None)
    ip = np.where(online & (rng.random(len(acc)) > 0.05), accounts["ip_region"].to_numpy()[acc], None)
    order = np.lexsort((ts, acc))
    n = len(acc)
    cols = {
        "txn_id": padded(np.arange(txn_offset, txn_offset + n), 12, "T"),
        "account_id": pa.array(acc_ids[acc[order]], pa.string()),
        "ts": pa.array(ts[order], pa.timestamp("us")),
        "amount": _decimal(cents[order]),
        "direction": pa.array(direction[order], pa.string()),
        "counterparty_account": pa.array(cp[order], pa.string()),
        "channel": pa.array(channel[order], pa.string()),
        "device_id": pa.array(device[order], pa.string()),
        "ip_region": pa.array(ip[order], pa.string()),
    }
    return pa.table(cols, schema=schema)
