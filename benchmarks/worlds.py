"""Benchmark worlds, generated once and cached under ``bench-cache/`` by seed, size and parameters.

A cached world is only reused when its key matches: persons, seed, the as-of date and a hash of
every other generator parameter. A half-written world (no ``_complete.json``) is regenerated.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from realname_guard.core.generator_config import GeneratorConfig
from realname_guard.generator.world import generate_world

log = logging.getLogger(__name__)

CACHE_DIR = Path(__file__).resolve().parent.parent / "bench-cache"
DONE = "_complete.json"


def world_key(cfg: GeneratorConfig, as_of: dt.date) -> str:
    """``p<persons>-s<seed>-<as_of>-<hash of all other parameters>``."""
    params = dataclasses.asdict(cfg)
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:10]
    return f"p{cfg.persons}-s{cfg.seed}-{as_of.isoformat()}-{digest}"


def cached_world(persons: int, seed: int, as_of: dt.date, cache: Path = CACHE_DIR) -> tuple[Path, dict[str, Any]]:
    """The world's root (holding ``input/`` and ``truth/``) and its generator summary; generate if absent."""
    cfg = GeneratorConfig(persons=persons, seed=seed)
    root = cache / world_key(cfg, as_of)
    marker = root / DONE
    if marker.is_file():
        return root, json.loads(marker.read_text())
    shutil.rmtree(root, ignore_errors=True)
    log.info("generating a %d-person world into %s", persons, root)
    summary = generate_world(root, cfg, as_of)
    marker.write_text(json.dumps(summary, indent=2, default=str))
    return root, summary


def hot_key_world(base: Path, simbox_sims: int = 50_000, corporate_sims: int = 10_000) -> Path:
    """A copy of a world's inputs with two hot keys, for the skew check of the feature stage.

    * one SIM-box IMEI: every ``sim_activity`` row of ``simbox_sims`` SIMs is rewritten to carry
      the same IMEI (one handset carrying 50,000 SIMs);
    * one corporate ID: ``corporate_sims`` SIM registrations get the same ``id_number`` (a
      corporate customer's IoT batch), with id_type ``OTHER`` and channel ``CORPORATE``.

    Built by post-processing the generated Parquet, not by changing the generator.
    """
    out = base.parent / (base.name + f"-hot{simbox_sims}x{corporate_sims}")
    marker = out / DONE
    if marker.is_file():
        return out
    shutil.rmtree(out, ignore_errors=True)
    src = base / "input"
    dst = out / "input"
    dst.mkdir(parents=True)
    for entry in src.iterdir():
        if entry.name not in ("sim_activity", "sim_registrations"):
            (dst / entry.name).symlink_to(entry.resolve(), target_is_directory=entry.is_dir())
    sims = pq.read_table(src / "sim_registrations")
    # Take the SIMs in msisdn order so the choice is deterministic; skip already-corporate SIMs.
    msisdn = sims.column("msisdn")
    honest = pc.and_(pc.invert(pc.equal(sims.column("channel"), "CORPORATE")), pc.is_valid(msisdn))
    pool = sims.filter(honest).column("msisdn").to_pylist()
    pool = sorted(set(pool))
    corp = set(pool[:corporate_sims])
    is_corp = pc.is_in(msisdn, value_set=pa.array(sorted(corp)))
    corp_id = "91110000MA0BENCH01"  # a unified social credit code (id_type OTHER)
    cols = {name: sims.column(name) for name in sims.column_names}
    cols["id_number"] = pc.if_else(is_corp, pa.scalar(corp_id), cols["id_number"])
    cols["id_type"] = pc.if_else(is_corp, pa.scalar("OTHER"), cols["id_type"])
    cols["channel"] = pc.if_else(is_corp, pa.scalar("CORPORATE"), cols["channel"])
    (dst / "sim_registrations").mkdir()
    pq.write_table(pa.table(cols, schema=sims.schema), dst / "sim_registrations" / "part-00000.parquet")

    act = pq.read_table(src / "sim_activity")
    active = sorted(set(act.column("msisdn").to_pylist()) - corp)
    box = pa.array(active[:simbox_sims])
    in_box = pc.is_in(act.column("msisdn"), value_set=box)
    imei = pc.if_else(in_box, pa.scalar("86000000BENCHBOX"), act.column("imei"))
    act = act.set_column(act.schema.get_field_index("imei"), "imei", imei)
    (dst / "sim_activity").mkdir()
    pq.write_table(act, dst / "sim_activity" / "part-00000.parquet", row_group_size=1_000_000)
    marker.write_text(json.dumps({"base": str(base), "simbox_sims": len(box), "corporate_sims": len(corp)}))
    return out
