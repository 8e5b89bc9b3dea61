"""Resume manifests: a stage's manifest matches only the run date, inputs, configuration and key it
was written for. (That `run --resume` skips the completed stages and lists the same rows is tested on
the whole job: tests/pipelines/test_daily.py.)"""

from __future__ import annotations

import os
from pathlib import Path

from pyspark.sql import SparkSession

from realname_guard.config import load_config
from realname_guard.core.config import Config
from realname_guard.pipelines.resume import (
    Fingerprint,
    completed,
    config_fingerprint,
    inputs_fingerprint,
    manifest_path,
    write_manifest,
)

KEY = b"0123456789abcdef0123456789abcdef"


def _cfg(tmp_path: Path, *overrides: str) -> Config:
    return load_config(local_dir=None, overrides=[f"run.input={tmp_path / 'in'}", f"run.output={tmp_path / 'out'}",
                                                  "run.run_date=2026-06-30", *overrides])


def test_the_config_fingerprint_follows_every_setting_and_the_key(tmp_path: Path) -> None:
    base = config_fingerprint(_cfg(tmp_path), KEY)
    assert config_fingerprint(_cfg(tmp_path), KEY) == base
    assert config_fingerprint(_cfg(tmp_path, "model.xgb.max_depth=3"), KEY) != base
    assert config_fingerprint(_cfg(tmp_path, "policy.tiers.high=0.9"), KEY) != base
    assert config_fingerprint(_cfg(tmp_path), b"another key, another set of id_hash") != base
    assert KEY.decode() not in base


def test_the_inputs_fingerprint_follows_every_file(spark: SparkSession, tmp_path: Path) -> None:
    table = tmp_path / "in" / "labels"
    table.mkdir(parents=True)
    (table / "part-0.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    root = str(tmp_path / "in")
    first = inputs_fingerprint(spark, root)
    assert inputs_fingerprint(spark, root) == first
    (table / "part-1.csv").write_text("a,b\n3,4\n", encoding="utf-8")
    second = inputs_fingerprint(spark, root)
    assert second != first  # a file more
    os.utime(table / "part-1.csv", (1_700_000_000, 1_700_000_000))
    third = inputs_fingerprint(spark, root)
    assert third != second  # same size, redelivered later
    (table / "part-1.csv").write_text("a,b\n3,45\n", encoding="utf-8")
    assert inputs_fingerprint(spark, root) != third  # another size


def test_a_manifest_matches_only_what_it_was_written_for(spark: SparkSession, tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    fp = Fingerprint("inputs-1", "config-1")
    assert completed(spark, cfg, fp, "features") is None  # nothing written yet
    write_manifest(spark, cfg, fp, "features", {"features": {"rows": 12}, "model": {"version": "9"}})
    assert Path(manifest_path(cfg, "features")).is_file()
    done = completed(spark, cfg, fp, "features")
    assert done is not None and done["summary"] == {"features": {"rows": 12}}  # its own sections only
    assert completed(spark, cfg, Fingerprint("inputs-2", "config-1"), "features") is None
    assert completed(spark, cfg, Fingerprint("inputs-1", "config-2"), "features") is None
    assert completed(spark, _cfg(tmp_path, "run.run_date=2026-07-01"), fp, "features") is None
    assert completed(spark, cfg, fp, "train") is None
