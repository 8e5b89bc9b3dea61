"""Generate a whole synthetic world, chunk by chunk of persons, into ``<out>/input`` and ``<out>/truth``.

Each chunk draws from its own numpy Generator seeded with ``(seed, chunk index)``; keys that must
be unique across chunks (ID numbers, numbers, IMEIs, account and transaction ids) come from
counters carried over from chunk to chunk, so a world is the same for the same seed, size,
chunk size and ``as_of``.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from realname_guard.core.contract import TABLES
from realname_guard.core.generator_config import GeneratorConfig
from realname_guard.generator.activity import code_receiving, shop_handsets, sim_activity, transactions
from realname_guard.generator.cards import corporate_sims, honest_accounts, honest_sims
from realname_guard.generator.codes import restyle
from realname_guard.generator.dirty import inject
from realname_guard.generator.labels import make_disciplinary, make_labels, make_registry
from realname_guard.generator.population import Chunk, make_people
from realname_guard.generator.reference import (
    BANKS,
    IOT_TACS,
    PHONE_TACS,
    SIMBOX_TACS,
    US_PER_DAY,
    Regions,
    account_ids,
    imeis,
    msisdns,
    regions,
)
from realname_guard.generator.typologies import (
    card_farmers,
    dormant_mules,
    elderly_ids,
    rented_accounts,
    simbox_farms,
    stolen_ids,
)
from realname_guard.generator.writer import arrow_schema, to_arrow, write_part

log = logging.getLogger(__name__)

TAC_SETS = {"phone": PHONE_TACS, "iot": IOT_TACS, "simbox": SIMBOX_TACS}
TRUTH_SCHEMAS = {
    "sims": pa.schema([("msisdn", pa.string()), ("is_misuse", pa.int32()), ("typology", pa.string())]),
    "accounts": pa.schema([("account_id", pa.string()), ("is_misuse", pa.int32()), ("typology", pa.string())]),
    "dirty_rows": pa.schema([("table", pa.string()), ("key", pa.string()), ("kind", pa.string()),
                             ("what", pa.string())]),
}


def _us(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days * US_PER_DAY


def _sims(rng: np.random.Generator, chunk: Chunk, cfg: GeneratorConfig, reg: Regions, as_of_us: int,
          chunk_idx: int, campus_start: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All SIMs and accounts of a chunk, honest and misused, before keys are given."""
    people = chunk.people
    farm_s, farm_a = card_farmers(rng, chunk, cfg, reg, as_of_us, chunk_idx)
    stol_s, stol_a = stolen_ids(rng, chunk, cfg, reg, as_of_us, chunk_idx)
    # SIM-box boards of the farms are numbered after the card farmers' boxes
    boxes = int(farm_s["device_group"].max()) + 1 if len(farm_s) else 0
    sims = pd.concat([
        honest_sims(rng, people, cfg, reg, as_of_us, campus_start),
        corporate_sims(rng, people, cfg, reg, as_of_us), farm_s, stol_s,
        elderly_ids(rng, chunk, cfg, reg, as_of_us), simbox_farms(rng, chunk, cfg, reg, as_of_us, boxes),
    ], ignore_index=True)
    accounts = pd.concat([honest_accounts(rng, people, cfg, reg, as_of_us, campus_start), farm_a, stol_a],
                         ignore_index=True)
    dormant_mules(rng, chunk, accounts, cfg, reg, as_of_us, chunk_idx)
    rented_accounts(rng, chunk, accounts, cfg, reg, as_of_us, chunk_idx)
    return sims, accounts


def _imeis(sims: pd.DataFrame, counters: dict[str, int]) -> np.ndarray:
    """IMEI per SIM: its own device, or the shared SIM-box device of its slot."""
    kind = sims["tac_kind"].to_numpy()
    out = np.empty(len(sims), dtype=object)
    for name, tacs in TAC_SETS.items():
        m = kind == name
        if not m.any():
            continue
        local = sims["device_group"].to_numpy()[m] if name == "simbox" else np.arange(int(m.sum()))
        glob = counters[name] + local
        counters[name] += int(local.max()) + 1
        out[m] = imeis(glob // len(tacs), np.asarray(tacs)[glob % len(tacs)])
    return out


def _reserved(rng: np.random.Generator, sims: pd.DataFrame, accounts: pd.DataFrame) -> np.ndarray:
    """The bank's reserved number: the holder's own SIM, a gang number, a stale number, or null."""
    msisdn = sims["msisdn"].to_numpy()
    kind = accounts["reserved_kind"].to_numpy()
    person = accounts["person"].to_numpy()
    out = np.full(len(accounts), None, dtype=object)
    primary = pd.Series(msisdn[sims["primary"].to_numpy()], index=sims.loc[sims["primary"], "person"].to_numpy())
    m = kind == "own"
    out[m] = primary.reindex(person[m]).to_numpy()
    for k, typ in (("own_burst", "card_farmer"), ("stolen", "stolen_id")):
        own = sims[sims["typology"] == typ].groupby("person")["msisdn"].first()
        m = kind == k
        out[m] = own.reindex(person[m]).to_numpy()
    gang = sims[sims["gang_sim"]]
    gang_by_group = pd.Series(gang["msisdn"].to_numpy(), index=gang["group"].to_numpy())
    m = kind == "gang"
    out[m] = gang_by_group.reindex(accounts["group"].to_numpy()[m]).to_numpy()
    m = kind == "gang_any"
    if len(gang):
        out[m] = gang["msisdn"].to_numpy()[rng.integers(0, len(gang), int(m.sum()))]
    stale = (kind == "stale") | ((kind == "gang_any") & (len(gang) == 0))
    out[stale] = (19_200_000_000 + rng.integers(0, 100_000_000, int(stale.sum()))).astype(str)
    return out


def _contract(df: pd.DataFrame, table: str) -> pd.DataFrame:
    return df[arrow_schema(table).names]


def generate_world(out_dir: str | Path, cfg: GeneratorConfig, as_of: dt.date, fmt: str = "parquet",
                   csv_encoding: str = "UTF-8") -> dict[str, Any]:
    """Write the input tables and the ground truth of a synthetic world; return a summary."""
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt must be 'parquet' or 'csv', not {fmt!r}")
    "x".encode(csv_encoding)  # fails early on an unknown encoding
    t0 = time.perf_counter()
    out = Path(out_dir)
    for name in TABLES:
        shutil.rmtree(out / "input" / name, ignore_errors=True)
    for name in TRUTH_SCHEMAS:
        shutil.rmtree(out / "truth" / name, ignore_errors=True)
    reg = regions(cfg.seed)
    as_of_us = _us(as_of)
    schemas = {name: arrow_schema(name) for name in TABLES}
    counters = {"sim": 0, "account": 0, "txn": 0, "phone": 0, "iot": 0, "simbox": 0}
    rows: Counter[str] = Counter()
    misuse: dict[str, Counter[str]] = {"sims": Counter(), "accounts": Counter()}
    roles: Counter[str] = Counter()
    dirty_kinds: Counter[str] = Counter()
    used_ids: list[np.ndarray] = []

    for ci, start in enumerate(range(0, cfg.persons, cfg.chunk_persons)):
        n = min(cfg.chunk_persons, cfg.persons - start)
        rng = np.random.default_rng([cfg.seed, ci])
        chunk = make_people(rng, ci, start, n, cfg, reg, as_of, used_ids)
        people = chunk.people
        campus_start = as_of_us - rng.integers(20, 400, len(chunk.campus_region)) * US_PER_DAY
        sims, accounts = _sims(rng, chunk, cfg, reg, as_of_us, ci, campus_start)

        sims["msisdn"] = msisdns(sims["operator"].to_numpy(), counters["sim"] + np.arange(len(sims)),
                                 rng.integers(0, 1000, len(sims)), sims["iot"].to_numpy())
        counters["sim"] += len(sims)
        imei = _imeis(sims, counters)
        accounts["account_id"] = account_ids(accounts["bank"].to_numpy(),
                                             counters["account"] + np.arange(len(accounts)))
        counters["account"] += len(accounts)
        accounts["bank_code"] = np.array(BANKS, dtype=object)[accounts["bank"].to_numpy()]
        accounts["reserved_msisdn"] = _reserved(rng, sims, accounts)

        labels = make_labels(rng, sims, accounts, people, cfg, as_of_us)
        activity = sim_activity(rng, sims, imei, cfg, as_of_us, schemas["sim_activity"])
        if cfg.code_receiving_share > 0:  # its own stream, so that a world without them is as it was
            activity = code_receiving(np.random.default_rng([cfg.seed, ci, 3]), activity, sims, imei, cfg, as_of_us)
        if cfg.shop_handset_share > 0:  # its own stream, so that a world without shops is as it was
            activity = shop_handsets(np.random.default_rng([cfg.seed, ci, 2]), activity, sims, cfg, counters)
        txns = transactions(rng, accounts, people["pid"].to_numpy(), cfg, as_of_us, counters["txn"],
                            schemas["bank_transactions"])
        counters["txn"] += txns.num_rows
        registry = make_registry(rng, people, cfg, reg)
        # Its own stream, so that adding the list left every other table as it was.
        disciplinary = make_disciplinary(np.random.default_rng([cfg.seed, ci, 1]), sims, accounts, people, cfg,
                                         as_of_us)

        labelled = set(labels["entity_id"].tolist())
        sim_rows, sim_dirty = inject(
            rng, "sim_registrations", _contract(sims, "sim_registrations"),
            (sims["is_misuse"] == 0).to_numpy(), sims["msisdn"].isin(labelled).to_numpy(),
            cfg.dirty_row_share, cfg.dirty_fixable_fraction, as_of_us)
        acc_rows, acc_dirty = inject(
            rng, "bank_accounts", _contract(accounts, "bank_accounts"),
            (accounts["is_misuse"] == 0).to_numpy(), accounts["account_id"].isin(labelled).to_numpy(),
            cfg.dirty_row_share, cfg.dirty_fixable_fraction, as_of_us)
        dirty = pd.concat([sim_dirty, acc_dirty], ignore_index=True)

        tables: dict[str, pa.Table] = {
            "sim_registrations": to_arrow(sim_rows, schemas["sim_registrations"]),
            "bank_accounts": to_arrow(acc_rows, schemas["bank_accounts"]),
            "sim_activity": activity,
            "bank_transactions": txns,
            "id_registry": to_arrow(registry, schemas["id_registry"]),
            "disciplinary_list": to_arrow(disciplinary, schemas["disciplinary_list"]),
            "labels": to_arrow(labels, schemas["labels"]),
        }
        for name, table in tables.items():
            table = restyle(name, table, cfg.code_style)
            write_part(table, out / "input" / name, ci, fmt, csv_encoding)
            rows[name] += table.num_rows

        truth_sims = pd.DataFrame({"msisdn": sim_rows["msisdn"].to_numpy()[:len(sims)],
                                   "is_misuse": sims["is_misuse"].to_numpy().astype(np.int32),
                                   "typology": sims["typology"].to_numpy()})
        truth_accounts = pd.DataFrame({"account_id": accounts["account_id"].to_numpy(),
                                       "is_misuse": accounts["is_misuse"].to_numpy().astype(np.int32),
                                       "typology": accounts["typology"].to_numpy()})
        for name, frame_ in (("sims", truth_sims), ("accounts", truth_accounts), ("dirty_rows", dirty)):
            write_part(pa.Table.from_pandas(frame_, schema=TRUTH_SCHEMAS[name], preserve_index=False),
                       out / "truth" / name, ci)

        misuse["sims"].update(sims.loc[sims["is_misuse"] == 1, "typology"].tolist())
        misuse["accounts"].update(accounts.loc[accounts["is_misuse"] == 1, "typology"].tolist())
        roles.update(people["role"].tolist())
        dirty_kinds.update(dirty["kind"].tolist())
        log.info("chunk %d: %d persons, %d SIMs, %d accounts, %d activity rows, %d transactions (%.1fs)",
                 ci, n, len(sims), len(accounts), activity.num_rows, txns.num_rows, time.perf_counter() - t0)

    seconds = round(time.perf_counter() - t0, 2)
    log.info("world of %d persons written to %s in %.1fs", cfg.persons, out, seconds)
    return {
        "persons": cfg.persons, "as_of": as_of.isoformat(), "format": fmt, "rows": dict(rows),
        "misuse": {k: dict(v) for k, v in misuse.items()}, "roles": dict(roles),
        "dirty_rows": dict(dirty_kinds), "seconds": seconds,
    }
