"""Resume: every completed stage of a run date leaves a manifest; ``run --resume`` skips a stage whose
manifest matches today's inputs and configuration, and redoes the rest.

A manifest is ``<output>/_manifests/run_date=D/<stage>.json``: the stage, the run date, status, when
it finished, the inputs fingerprint (every file under the input root: relative path, size,
modification time), the configuration fingerprint (the whole configuration and a keyed digest of the
hash key, never the key), the outputs it left and the summary sections it wrote (so that the report
of a resumed run reads as the report of an undisturbed one).

Only a stage whose outputs are durable the moment it ends can be skipped: ``features`` (the feature
table is published at once) and ``train`` (its snapshots are published, its model registered and
gated in MLflow). ``validate`` and ``score`` always run: the quarantine, the lists and the report are
published together at the end, so a run that crashed has none of them. A stage is skipped only when
every resumable stage before it was skipped too: a changed input or configuration redoes everything
after it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession

from realname_guard.core.config import Config
from realname_guard.core.io import Fs

log = logging.getLogger("realname_guard")

MANIFESTS = "_manifests"
# The stages a resumed run may skip, in pipeline order, with the summary sections each writes.
RESUMABLE: dict[str, tuple[str, ...]] = {"features": ("features",), "train": ("backtest", "model")}


@dataclass(frozen=True)
class Fingerprint:
    inputs: str
    config: str


def inputs_fingerprint(spark: SparkSession, root: str) -> str:
    """SHA-256 over every file under `root` (relative path, size, modification time), sorted.

    Listed through Hadoop's file system, so the same holds for hdfs:// and s3a:// inputs; the files
    are not read, so this costs one listing whatever their size."""
    fs = Fs(spark, root)
    base = root.rstrip("/")
    entries = sorted(
        (path[len(base):] if path.startswith(base) else path, size, mtime) for path, size, mtime in fs.files(root)
    )
    return hashlib.sha256(json.dumps(entries).encode("utf-8")).hexdigest()


def config_fingerprint(cfg: Config, key: bytes) -> str:
    """SHA-256 of the whole configuration, plus a keyed digest standing for the hash key: outputs
    hashed under another key must not be taken for this run's."""
    text = json.dumps(dataclasses.asdict(cfg), sort_keys=True, default=str)
    key_digest = hmac.new(key, b"realname-guard manifest", hashlib.sha256).hexdigest()
    return hashlib.sha256(f"{text}\n{key_digest}".encode()).hexdigest()


def fingerprint(spark: SparkSession, cfg: Config, key: bytes) -> Fingerprint:
    return Fingerprint(inputs_fingerprint(spark, cfg.run.input), config_fingerprint(cfg, key))


def manifest_path(cfg: Config, stage: str) -> str:
    return cfg.output_path(MANIFESTS, f"run_date={cfg.run_date.isoformat()}", f"{stage}.json")


def write_manifest(spark: SparkSession, cfg: Config, fp: Fingerprint, stage: str, summary: dict[str, Any]) -> None:
    """Record `stage` as completed for this run date, inputs and configuration."""
    path = manifest_path(cfg, stage)
    body = {
        "stage": stage,
        "run_date": cfg.run_date.isoformat(),
        "status": "completed",
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "inputs_fingerprint": fp.inputs,
        "config_fingerprint": fp.config,
        "summary": {k: summary[k] for k in RESUMABLE[stage] if k in summary},
    }
    Fs(spark, path).write_text(path, json.dumps(body, indent=2, default=str, ensure_ascii=False))


def completed(spark: SparkSession, cfg: Config, fp: Fingerprint, stage: str) -> dict[str, Any] | None:
    """The manifest of `stage` if it completed for this run date with the same inputs and
    configuration; None (with the reason logged) otherwise."""
    path = manifest_path(cfg, stage)
    fs = Fs(spark, path)
    if not fs.exists(path):
        log.info("resume: %s has no manifest for %s: it runs", stage, cfg.run_date)
        return None
    body: dict[str, Any] = json.loads(fs.read_text(path))
    if body.get("status") != "completed":
        why = "did not complete"
    elif body.get("inputs_fingerprint") != fp.inputs:
        why = "the inputs changed since"
    elif body.get("config_fingerprint") != fp.config:
        why = "the configuration (or the hash key) changed since"
    else:
        return body
    log.info("resume: %s of %s %s: it runs again, and every stage after it", stage, cfg.run_date, why)
    return None
