"""Outcomes: labels (with delays after misuse begins), card status at the run date, and the 失信惩戒 list.

Decided before any traffic is drawn, because a card suspended, frozen or closed at label time carries no traffic
after it. Nothing here is dated at or after the run date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from benchmarks.blind_world import identity as ident
from benchmarks.blind_world.assumptions import Assumptions
from benchmarks.blind_world.population import Population
from benchmarks.blind_world.timebase import NAT, days, run_midnight, uniform_times

Rng = np.random.Generator

# (card kind, key column, time column, "stopped" statuses (no end time, with end time), end-time column)
KINDS = (
    ("SIM", "msisdn", "reg_time", ("SUSPENDED", "CANCELLED"), "cancel_time"),
    ("ACCOUNT", "account_id", "open_time", ("FROZEN", "CLOSED"), "close_time"),
)
# the holder himself can pass re-verification of a card he rented out; not so for stolen or bought identities
HOLDER_CAN_REVERIFY = ("student_rental", "card_seller", "dormant_mule", "cross_border", "quiet_lender",
                       "elderly_agent", "corrupt_outlet")
PERSON_LABELLED = ("student_rental", "card_seller", "dormant_mule", "cross_border")

PROVINCES = {
    "11": ("京", "北京市"), "12": ("津", "天津市"), "13": ("冀", "石家庄市"), "14": ("晋", "太原市"),
    "15": ("蒙", "呼和浩特市"), "21": ("辽", "沈阳市"), "22": ("吉", "长春市"), "23": ("黑", "哈尔滨市"),
    "31": ("沪", "上海市"), "32": ("苏", "南京市"), "33": ("浙", "杭州市"), "34": ("皖", "合肥市"),
    "35": ("闽", "福州市"), "36": ("赣", "南昌市"), "37": ("鲁", "济南市"), "41": ("豫", "郑州市"),
    "42": ("鄂", "武汉市"), "43": ("湘", "长沙市"), "44": ("粤", "广州市"), "45": ("桂", "南宁市"),
    "46": ("琼", "海口市"), "50": ("渝", "重庆市"), "51": ("川", "成都市"), "52": ("黔", "贵阳市"),
    "53": ("滇", "昆明市"), "61": ("陕", "西安市"), "62": ("甘", "兰州市"), "63": ("青", "西宁市"),
    "64": ("宁", "银川市"), "65": ("新", "乌鲁木齐市"),
}


@dataclass
class Outcomes:
    labels: pd.DataFrame
    disciplinary: pd.DataFrame


def _lognormal_days(rng: Rng, median: npt.NDArray[np.float64], sigma: float = 0.6) -> npt.NDArray[np.float64]:
    return np.maximum(2.0, median * np.exp(rng.normal(0, sigma, len(median))))


def _sources(rng: Rng, typology: npt.NDArray[np.str_], a: Assumptions) -> npt.NDArray[np.object_]:
    out = np.full(len(typology), "POLICE_NOTICE", dtype=object)
    for t, tp in a.typology.items():
        m = typology == t
        if m.any() and tp.sources:
            names = np.array([s for s, _ in tp.sources])
            w = np.array([w for _, w in tp.sources])
            out[m] = rng.choice(names, int(m.sum()), p=w / w.sum())
    return out


def _label_rows(kind: str, ids: npt.ArrayLike, label: int, t: npt.ArrayLike, source: npt.ArrayLike) -> pd.DataFrame:
    ids_a = np.asarray(ids)
    return pd.DataFrame({"entity_type": kind, "entity_id": ids_a, "label": np.full(len(ids_a), label, np.int32),
                         "label_time": np.asarray(t, dtype="datetime64[s]"), "source": np.asarray(source)})


def _card_labels(rng: Rng, a: Assumptions, df: pd.DataFrame, kind: str, key: str, tcol: str, r: np.datetime64,
                 group: npt.NDArray[np.object_]) -> tuple[list[pd.DataFrame], npt.NDArray[np.datetime64]]:
    """Label rows for one card kind, and per card the time of its latest label 1 (NaT if none stands)."""
    n = len(df)
    typ = df["typology"].to_numpy().astype(str)
    mis = df["is_misuse"].to_numpy() == 1
    start = df["misuse_start"].to_numpy().astype("datetime64[s]")
    born = df[tcol].to_numpy().astype("datetime64[s]")
    ids = df[key].to_numpy()
    out: list[pd.DataFrame] = []
    one_at = np.full(n, NAT)

    p = np.array([a.typology[t].p_label if t in a.typology else 0.0 for t in typ])
    med = np.array([a.typology[t].delay_median_days if t in a.typology else 60.0 for t in typ])
    t1 = start + days(_lognormal_days(rng, np.maximum(med, 1.0)))
    hit = mis & (rng.random(n) < p) & (t1 < r)
    out.append(_label_rows(kind, ids[hit], 1, t1[hit], _sources(rng, typ[hit], a)))
    one_at[hit] = t1[hit]

    can = mis & ~hit & np.isin(typ, HOLDER_CAN_REVERIFY) & (rng.random(n) < a.misuse_cleared_rate)
    t0 = start + days(_lognormal_days(rng, np.full(n, 40.0)))
    can &= t0 < r
    out.append(_label_rows(kind, ids[can], 0, t0[can], "REVERIFY_PASSED"))

    honest = ~mis
    lo = np.maximum(born + np.timedelta64(2, "D"), r - np.timedelta64(a.label_window_days, "D"))
    ok = honest & (lo < r - np.timedelta64(1, "D"))
    clear_p = np.array([a.cleared_rate.get(str(g), 0.0) for g in group])
    false_p = np.array([a.false_label_rate.get(str(g), 0.0) for g in group])
    u = rng.random(n)
    cleared = ok & (u < clear_p)
    wrong = ok & ~cleared & (rng.random(n) < false_p)
    tc = uniform_times(rng, lo, np.full(n, r - np.timedelta64(1, "h")))
    appeal = cleared & (rng.random(n) < a.appeal_share)
    t_flag = np.maximum(tc - days(5 + rng.random(n) * 35), lo)
    out.append(_label_rows(kind, ids[appeal], 1, t_flag[appeal],
                           rng.choice(np.array(["COMPLAINT", "POLICE_NOTICE"]), int(appeal.sum()))))
    out.append(_label_rows(kind, ids[cleared], 0, tc[cleared],
                           np.where(appeal[cleared], "APPEAL", "REVERIFY_PASSED")))
    out.append(_label_rows(kind, ids[wrong], 1, tc[wrong],
                           rng.choice(np.array(["REVERIFY_FAILED", "COMPLAINT"]), int(wrong.sum()), p=[0.7, 0.3])))
    one_at[wrong] = tc[wrong]
    return out, one_at


def _stop(rng: Rng, a: Assumptions, df: pd.DataFrame, statuses: tuple[str, str], end_col: str,
          at: npt.NDArray[np.datetime64]) -> None:
    """Suspend/freeze (no end time) or cancel/close (end time) a share of cards at their label time."""
    stop = ~np.isnat(at) & (rng.random(len(df)) < a.p_stop_on_label) & np.isnat(df["stop_time"].to_numpy())
    hard = stop & (rng.random(len(df)) < 0.3)
    df.loc[stop, "status"] = statuses[0]
    df.loc[hard, "status"] = statuses[1]
    df.loc[hard, end_col] = at[hard]
    df.loc[stop, "stop_time"] = at[stop]


def _churn(rng: Rng, df: pd.DataFrame, kind: str, tcol: str, r: np.datetime64) -> None:
    """Ordinary cancellations, closures and freezes that no label explains."""
    n = len(df)
    typ = df["typology"].to_numpy().astype(str)
    free = np.isnat(df["stop_time"].to_numpy())
    born = df[tcol].to_numpy().astype("datetime64[s]")
    u = rng.random(n)
    if kind == "SIM":
        p_end = np.where(typ == "migrant_worker", 0.10, np.where(typ == "corporate_iot", 0.02, 0.04))
        p_end = np.where(typ == "simbox_farm", 0.10, p_end)  # operator's anti-spam shut-down, no label
        p_end = np.where(df["is_misuse"].to_numpy() == 1, np.where(typ == "simbox_farm", p_end, 0.0), p_end)
        end = free & (u < p_end)
        lo = np.where(typ == "simbox_farm", df["misuse_start"].to_numpy().astype("datetime64[s]"), born)
        t = uniform_times(rng, np.minimum(lo, r - np.timedelta64(1, "D")), np.full(n, r))
        df.loc[end, "status"] = "CANCELLED"
        df.loc[end, "cancel_time"] = t[end]
        df.loc[end, "stop_time"] = t[end]
        sus = free & ~end & (u > 0.99) & (df["is_misuse"].to_numpy() == 0)  # arrears
        ts = uniform_times(rng, np.full(n, r - np.timedelta64(60, "D")), np.full(n, r))
        df.loc[sus, "status"] = "SUSPENDED"
        df.loc[sus, "stop_time"] = np.maximum(ts[sus], born[sus])
    else:
        honest = df["is_misuse"].to_numpy() == 0
        end = free & honest & (u < 0.03)
        t = uniform_times(rng, born, np.full(n, r))
        df.loc[end, "status"] = "CLOSED"
        df.loc[end, "close_time"] = t[end]
        df.loc[end, "stop_time"] = t[end]
        # 涉案冻结: a shop that was paid with fraud money gets frozen too
        p_fr = np.where(typ == "small_merchant", 0.03, 0.002)
        fr = free & honest & ~end & (rng.random(n) < p_fr)
        tf = uniform_times(rng, np.maximum(born, np.full(n, r - np.timedelta64(90, "D"))), np.full(n, r))
        df.loc[fr, "status"] = "FROZEN"
        df.loc[fr, "stop_time"] = tf[fr]


def _person_labels(rng: Rng, a: Assumptions, pop: Population, first_one: pd.Series, r: np.datetime64
                   ) -> tuple[pd.DataFrame, pd.Series]:
    """PERSON labels for sellers/renters (after their first confirmed card, or on their own), and a few cleared."""
    pers = pop.persons
    ov = pers["overlay"].to_numpy().astype(str)
    p_lab = np.array([a.typology[o].p_person_label if o in PERSON_LABELLED else 0.0 for o in ov])
    mis_start = pd.concat([pop.sims.loc[pop.sims["is_misuse"] == 1, ["person", "misuse_start"]],
                           pop.accounts.loc[pop.accounts["is_misuse"] == 1, ["person", "misuse_start"]]])
    earliest = mis_start.groupby("person")["misuse_start"].min().reindex(range(len(pers))).to_numpy()
    earliest = earliest.astype("datetime64[s]")
    base = first_one.reindex(range(len(pers))).to_numpy().astype("datetime64[s]")
    med = np.array([a.typology[o].delay_median_days if o in a.typology else 60.0 for o in ov]) * 1.5
    own = earliest + days(_lognormal_days(rng, np.maximum(med, 1.0)))
    t = np.where(np.isnat(base), own, base + days(rng.random(len(pers)) * 30))
    hit = (rng.random(len(pers)) < p_lab) & ~np.isnat(t) & (t < r)
    ids = ident.dirty_ids(rng, pers["id_clean"].to_numpy().astype(str), a.formats.dirty_id_rate * 2)
    rows = [_label_rows("PERSON", ids[hit], 1, t[hit], "POLICE_NOTICE")]
    grp = pers["group"].to_numpy()
    clr = np.isin(grp, ["family_plan", "corporate_iot", "multi_account"]) & (rng.random(len(pers)) < 0.01)
    tc = r - days(1 + rng.random(len(pers)) * (a.label_window_days - 1))
    rows.append(_label_rows("PERSON", ids[clr], 0, tc[clr], "REVERIFY_PASSED"))
    return pd.concat(rows, ignore_index=True), pd.Series(t[hit], index=np.flatnonzero(hit))


def _disciplinary(rng: Rng, a: Assumptions, pop: Population, person_t: pd.Series, r: np.datetime64) -> pd.DataFrame:
    pers = pop.persons
    ov = pers["overlay"].to_numpy().astype(str)
    sellers = np.flatnonzero((ov == "card_seller") & (rng.random(len(pers)) < 0.3))
    mis = pop.sims[pop.sims["is_misuse"] == 1].groupby("person")["reg_time"].min()
    first_reg = mis.reindex(sellers).to_numpy().astype("datetime64[s]")
    first_reg = np.where(np.isnat(first_reg), r - np.timedelta64(30, "D"), first_reg)
    s_from = first_reg - days(5 + rng.random(len(sellers)) * 200)  # listed for an earlier case, still selling
    renters = person_t[np.isin(ov[person_t.index.to_numpy()], ["student_rental", "cross_border"])]
    renters = renters[rng.random(len(renters)) < 0.5]
    r_from = renters.to_numpy().astype("datetime64[s]") + days(10 + rng.random(len(renters)) * 50)
    keep = r_from < r - np.timedelta64(1, "D")
    r_idx, r_from = renters.index.to_numpy()[keep], r_from[keep]
    quiet = rng.choice(np.flatnonzero(ov == ""), max(2, len(pers) // 2500), replace=False)
    q_from = r - days(100 + rng.random(len(quiet)) * 1400)  # older cases; some periods already over
    who = np.r_[sellers, r_idx, quiet].astype(np.int64)
    frm = np.r_[s_from, r_from, q_from].astype("datetime64[D]")
    years = rng.choice(np.array([2, 3]), len(who), p=[0.6, 0.4])
    until = (frm.astype("datetime64[M]") + (years * 12).astype("timedelta64[M]")).astype("datetime64[D]")
    until = until + (frm - frm.astype("datetime64[M]").astype("datetime64[D]")) - np.timedelta64(1, "D")
    renew = rng.random(len(who)) < 0.15  # an earlier consecutive period (at most 5 years in all)
    prev_until = frm[renew] - np.timedelta64(1, "D")
    prev_from = (frm[renew].astype("datetime64[M]") - np.timedelta64(24, "M")).astype("datetime64[D]")
    prev_from = prev_from + (frm[renew] - frm[renew].astype("datetime64[M]").astype("datetime64[D]"))
    who_all = np.r_[who, who[renew]]
    frm_all = np.r_[frm, prev_from]
    until_all = np.r_[until, prev_until]
    hukou = pers["hukou"].to_numpy()[who_all].astype(str)
    prov = [PROVINCES.get(h[:2], ("京", "北京市")) for h in hukou]
    year = frm_all.astype("datetime64[Y]").astype(int) + 1970
    num = rng.integers(1, 9999, len(who_all))
    basis = [f"{p[0]}公断惩字〔{y}〕{k:04d}号" for p, y, k in zip(prov, year, num, strict=True)]
    ids = ident.dirty_ids(rng, pers["id_clean"].to_numpy()[who_all].astype(str), a.formats.dirty_id_rate)
    return pd.DataFrame({
        "id_type": pers["id_type"].to_numpy()[who_all], "id_number": ids, "listed_from": frm_all,
        "listed_until": until_all, "basis": basis, "source": [f"{p[1]}公安局" for p in prov],
    }).sort_values(["id_number", "listed_from"], ignore_index=True)


def decide_outcomes(rng: Rng, pop: Population, a: Assumptions, run_date: str) -> Outcomes:
    """Labels and disciplinary list; sets status, end times and `stop_time` (traffic ends) on every card."""
    r = run_midnight(run_date)
    group = pop.persons["group"].to_numpy()
    label_parts: list[pd.DataFrame] = []
    firsts: list[pd.Series] = []
    ones: dict[str, npt.NDArray[np.datetime64]] = {}
    for kind, key, tcol, _statuses, end_col in KINDS:
        df = pop.sims if kind == "SIM" else pop.accounts
        df["status"] = "ACTIVE"
        df[end_col] = pd.Series(np.full(len(df), NAT), dtype="datetime64[s]")
        df["stop_time"] = pd.Series(np.full(len(df), NAT), dtype="datetime64[s]")
        parts, one_at = _card_labels(rng, a, df, kind, key, tcol, r, group[df["person"].to_numpy()])
        label_parts += parts
        ones[kind] = one_at
        mis = (df["is_misuse"].to_numpy() == 1) & ~np.isnat(one_at)
        firsts.append(pd.Series(one_at[mis], index=df["person"].to_numpy()[mis]))
    first_one = pd.concat(firsts).groupby(level=0).min()
    person_rows, person_t = _person_labels(rng, a, pop, first_one, r)
    label_parts.append(person_rows)
    for kind, _key, _tcol, statuses, end_col in KINDS:
        df = pop.sims if kind == "SIM" else pop.accounts
        at = ones[kind].copy()
        by_person = person_t.reindex(df["person"].to_numpy()).to_numpy().astype("datetime64[s]")
        via_person = (df["is_misuse"].to_numpy() == 1) & np.isnat(at) & ~np.isnat(by_person)
        at[via_person] = by_person[via_person]
        _stop(rng, a, df, statuses, end_col, at)
    for kind, _key, tcol, _statuses, _end in KINDS:
        _churn(rng, pop.sims if kind == "SIM" else pop.accounts, kind, tcol, r)
    labels = pd.concat([p for p in label_parts if len(p)], ignore_index=True)
    labels = labels.sort_values(["label_time", "entity_type", "entity_id"], ignore_index=True)
    return Outcomes(labels, _disciplinary(rng, a, pop, person_t, r))
