"""Confirmed outcomes (partial, biased, delayed) and the identity authority's registry.

Only a minority of misused cards are ever confirmed, loud typologies (card farmers) more often
than quiet ones (elderly IDs), days to weeks after the misuse began, never after ``as_of``.
Cleared cards (label 0) are mostly confounders that looked suspicious and passed re-verification.
SIM farms and rented accounts are never labelled: no label 1 on their cards, and no label at all
(cleared cards included) on any card or ID of their holders.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from realname_guard.core.generator_config import GeneratorConfig
from realname_guard.generator.population import CONFOUNDER_ROLES, NEVER_LABELLED
from realname_guard.generator.reference import US_PER_DAY, Regions

POSITIVE_SOURCES: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "card_farmer": (("POLICE_NOTICE", "REVERIFY_FAILED", "COMPLAINT"), (0.6, 0.25, 0.15)),
    "stolen_id": (("COMPLAINT", "REVERIFY_FAILED", "POLICE_NOTICE"), (0.5, 0.3, 0.2)),
    "dormant_mule": (("POLICE_NOTICE", "COMPLAINT"), (0.7, 0.3)),
    "elderly_id": (("COMPLAINT", "REVERIFY_FAILED"), (0.6, 0.4)),
}
LABEL_COLUMNS = ["entity_type", "entity_id", "label", "label_time", "source"]


def _positives(rng: np.random.Generator, cards: pd.DataFrame, entity: str, key: str, cfg: GeneratorConfig,
               as_of_us: int) -> pd.DataFrame:
    rates = {"card_farmer": cfg.label_rate_card_farmer, "stolen_id": cfg.label_rate_stolen_id,
             "dormant_mule": cfg.label_rate_dormant_mule, "elderly_id": cfg.label_rate_elderly_id}
    bad = cards[(cards["is_misuse"] == 1) & ~cards["typology"].isin(NEVER_LABELLED)]
    typ = bad["typology"].to_numpy()
    rate = np.array([rates[t] for t in typ], dtype=float)
    delay = rng.uniform(cfg.label_delay_min_days, cfg.label_delay_max_days, len(bad)) * US_PER_DAY
    when = bad["misuse_start"].to_numpy() + delay.astype(np.int64)
    keep = (rng.random(len(bad)) < rate) & (when < as_of_us)
    source = np.empty(len(bad), dtype=object)
    for t, (choices, p) in POSITIVE_SOURCES.items():
        m = typ == t
        source[m] = rng.choice(np.array(choices, dtype=object), int(m.sum()), p=p)
    out = pd.DataFrame({"entity_type": entity, "entity_id": bad[key].to_numpy(), "label": 1,
                        "label_time": when, "source": source, "row": bad.index.to_numpy(),
                        "person": bad["person"].to_numpy(), "typology": typ})
    return out[keep]


def _negatives(rng: np.random.Generator, cards: pd.DataFrame, entity: str, key: str, n: int, roles: np.ndarray,
               cfg: GeneratorConfig, as_of_us: int) -> pd.DataFrame:
    honest = cards[(cards["is_misuse"] == 0) & ~np.isin(roles[cards["person"].to_numpy()], NEVER_LABELLED)]
    if n <= 0 or len(honest) == 0:
        return pd.DataFrame(columns=LABEL_COLUMNS)
    confounder = np.isin(roles[honest["person"].to_numpy()], CONFOUNDER_ROLES)
    w = np.where(confounder, cfg.negative_on_confounder_share / max(confounder.sum(), 1),
                 (1 - cfg.negative_on_confounder_share) / max((~confounder).sum(), 1))
    pick = rng.choice(len(honest), size=min(n, len(honest)), replace=False, p=w / w.sum())
    chosen = honest.iloc[np.sort(pick)]
    lo = np.maximum(chosen["reg_time" if entity == "SIM" else "open_time"].to_numpy(), as_of_us - 120 * US_PER_DAY)
    when = lo + (rng.random(len(chosen)) * np.maximum(as_of_us - 1 - lo, 0)).astype(np.int64)
    source = np.where(rng.random(len(chosen)) < 0.75, "REVERIFY_PASSED", "APPEAL").astype(object)
    return pd.DataFrame({"entity_type": entity, "entity_id": chosen[key].to_numpy(), "label": 0,
                         "label_time": when, "source": source})


def make_labels(rng: np.random.Generator, sims: pd.DataFrame, accounts: pd.DataFrame, people: pd.DataFrame,
                cfg: GeneratorConfig, as_of_us: int) -> pd.DataFrame:
    """Labels of SIMs, accounts and (for card farmers) persons; closes some of the confirmed cards."""
    pos_s = _positives(rng, sims, "SIM", "msisdn", cfg, as_of_us)
    pos_a = _positives(rng, accounts, "ACCOUNT", "account_id", cfg, as_of_us)
    _close(rng, sims, pos_s, "status", "cancel_time", "act_end", ("CANCELLED", "SUSPENDED"), cfg, as_of_us)
    _close(rng, accounts, pos_a, "status", "close_time", "txn_end", ("CLOSED", "FROZEN"), cfg, as_of_us)
    pos = pd.concat([pos_s, pos_a], ignore_index=True)
    farmers = pos[pos["typology"] == "card_farmer"].groupby("person")["label_time"].min()
    chosen = farmers[rng.random(len(farmers)) < cfg.person_label_share]
    persons = pd.DataFrame({"entity_type": "PERSON",
                            "entity_id": people["id_number"].to_numpy()[chosen.index.to_numpy()],
                            "label": 1, "label_time": chosen.to_numpy(), "source": "POLICE_NOTICE"})
    n_neg = int(round(cfg.negative_label_ratio * len(pos)))
    n_neg_s = int(round(n_neg * len(sims) / max(len(sims) + len(accounts), 1)))
    roles = people["role"].to_numpy()
    neg = [_negatives(rng, sims, "SIM", "msisdn", n_neg_s, roles, cfg, as_of_us),
           _negatives(rng, accounts, "ACCOUNT", "account_id", n_neg - n_neg_s, roles, cfg, as_of_us)]
    parts = [p[LABEL_COLUMNS] for p in (pos, persons, *neg) if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in LABEL_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    out["label"] = out["label"].astype(np.int32)
    out["label_time"] = out["label_time"].astype(np.int64)
    return out.sort_values(["label_time", "entity_id"], kind="stable").reset_index(drop=True)


def _close(rng: np.random.Generator, cards: pd.DataFrame, pos: pd.DataFrame, status: str, end_col: str,
           act_col: str, states: tuple[str, str], cfg: GeneratorConfig, as_of_us: int) -> None:
    """Confirmed cards are often shut down soon after confirmation (cancelled/closed or suspended/frozen)."""
    hit = pos[rng.random(len(pos)) < cfg.labelled_cards_closed_share]
    if len(hit) == 0:
        return
    when = np.minimum(hit["label_time"].to_numpy() + rng.integers(0, 2 * US_PER_DAY, len(hit)), as_of_us - 1)
    hard = rng.random(len(hit)) < 0.5
    rows = hit["row"].to_numpy()
    cards.loc[rows, status] = np.where(hard, states[0], states[1])
    cards.loc[rows, end_col] = np.where(hard, when, -1)
    cards.loc[rows, act_col] = when


def make_disciplinary(rng: np.random.Generator, sims: pd.DataFrame, accounts: pd.DataFrame, people: pd.DataFrame,
                      cfg: GeneratorConfig, as_of_us: int) -> pd.DataFrame:
    """The authorities' 失信惩戒 list: some card farmers, each with a period of two or three years.

    A share of them were listed before they opened the cards they sold here (repeat sellers, whose
    cards fall inside the period: rule DISCIPLINARY_LISTED), the others after the last one (none
    inside). Periods that would begin after ``as_of`` are not written.
    """
    cols = ["id_type", "id_number", "listed_from", "listed_until", "basis", "source"]
    opened = pd.concat([sims[["person", "reg_time", "is_misuse"]].rename(columns={"reg_time": "t"}),
                        accounts[["person", "open_time", "is_misuse"]].rename(columns={"open_time": "t"})])
    farmers = np.flatnonzero(people["role"].to_numpy() == "card_farmer")
    sold = opened[opened["person"].isin(farmers) & (opened["is_misuse"] == 1)]
    span = sold.groupby("person")["t"].agg(["min", "max"])
    span = span[rng.random(len(span)) < cfg.disciplinary_share]
    if len(span) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    before = rng.random(len(span)) < cfg.disciplinary_before_cards_share
    start = np.where(before, span["min"].to_numpy() - rng.integers(30, 365, len(span)) * US_PER_DAY,
                     span["max"].to_numpy() + rng.integers(10, 120, len(span)) * US_PER_DAY)
    years = rng.choice([2, 3], len(span))
    days = [dt.date(1970, 1, 1) + dt.timedelta(days=int(s // US_PER_DAY)) for s in start]
    until = [_years_later(d, int(y)) - dt.timedelta(days=1) for d, y in zip(days, years, strict=True)]
    person = span.index.to_numpy()
    out = pd.DataFrame({
        "id_type": people["id_type"].to_numpy()[person], "id_number": people["id_number"].to_numpy()[person],
        "listed_from": np.array(days, dtype="datetime64[D]"), "listed_until": np.array(until, dtype="datetime64[D]"),
        "basis": [f"失信惩戒决定 {d.year}-{i:05d}" for i, d in zip(person, days, strict=True)],
        "source": "公安机关",
    })
    return out[start < as_of_us].reset_index(drop=True)[cols]


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def make_registry(rng: np.random.Generator, people: pd.DataFrame, cfg: GeneratorConfig, reg: Regions) -> pd.DataFrame:
    """The authority's record for most resident ID holders; lost IDs include most stolen-ID victims."""
    resident = people[people["id_type"] == "RESIDENT_ID"]
    n = len(resident)
    keep = rng.random(n) < cfg.id_registry_coverage
    role = resident["role"].to_numpy()
    u = rng.random(n)
    status = np.full(n, "VALID", dtype=object)
    status[u < cfg.registry_expired_share] = "EXPIRED"
    old = resident["age"].to_numpy() >= 75
    status[old & (rng.random(n) < cfg.registry_deceased_share * 10)] = "DECEASED"
    status[(role != "stolen_id") & (rng.random(n) < cfg.registry_lost_share)] = "REPORTED_LOST"
    status[(role == "stolen_id") & (rng.random(n) < cfg.stolen_reported_lost_share)] = "REPORTED_LOST"
    out = pd.DataFrame({
        "id_number": resident["id_number"].to_numpy(), "name": resident["name"].to_numpy(),
        "birth_date": resident["birth"].to_numpy(), "gender": resident["gender"].to_numpy(),
        "hukou_region": reg.codes[resident["hukou"].to_numpy()].astype(object), "id_status": status,
    })
    return out[keep].reset_index(drop=True)
