"""Job: write a synthetic world (the contract's input tables + ground truth) under --output."""

from __future__ import annotations

import json
import logging

from realname_guard.core.config import Config
from realname_guard.generator.world import generate_world

log = logging.getLogger("realname_guard")


def run_generate(cfg: Config, fmt: str = "parquet") -> dict[str, object]:
    """Generate `cfg.generator.persons` persons as of the run date into `cfg.run.output`."""
    summary = generate_world(cfg.output, cfg.generator, cfg.run_date, fmt=fmt, csv_encoding=cfg.run.csv_encoding)
    log.info("world written: %s", json.dumps(summary, default=str))
    return summary
