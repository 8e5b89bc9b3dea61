"""Config: layering, overrides, and errors that name the file and the key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from realname_guard.config import load_config
from realname_guard.core.config import ConfigError


def test_defaults_load_and_overrides_apply() -> None:
    cfg = load_config(local_dir=None, overrides=["model.xgb.max_depth=3", "run.run_date=2026-06-30",
                                                  "policy.sims_per_operator_limit_overrides={MVNO01: 3}"])
    assert cfg.model.xgb.max_depth == 3
    assert cfg.run_date == dt.date(2026, 6, 30)
    assert cfg.policy.sims_per_operator_limit_overrides == {"MVNO01": 3}
    assert [s.name for s in cfg.features.enabled][:2] == ["holder_identity", "holder_cards"]
    assert set(cfg.expectations.tables) == {
        "sim_registrations", "bank_accounts", "sim_activity", "bank_transactions", "id_registry",
        "disciplinary_list", "labels",
    }


def test_config_file_layers_over_base(tmp_path: Path) -> None:
    f = tmp_path / "site.yaml"
    f.write_text("policy:\n  list_ttl_days: 60\nrun:\n  csv_encoding: GB18030\n", encoding="utf-8")
    cfg = load_config(f, local_dir=None)
    assert cfg.policy.list_ttl_days == 60 and cfg.run.csv_encoding == "GB18030"
    assert cfg.policy.reverify_deadline_days == 15  # untouched keys keep the base value


def test_unknown_key_names_the_file_and_the_key(tmp_path: Path) -> None:
    f = tmp_path / "site.yaml"
    f.write_text("model:\n  xgb:\n    max_dept: 4\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(f, local_dir=None)
    assert str(f) in str(err.value) and "model.xgb.max_dept" in str(err.value)


def test_bad_values_and_sections_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"override 'run.csv_encoding=LATIN1': run.csv_encoding"):
        load_config(local_dir=None, overrides=["run.csv_encoding=LATIN1"])
    with pytest.raises(ConfigError, match="key must start with one of"):
        load_config(local_dir=None, overrides=["nosuch.key=1"])
    with pytest.raises(ConfigError, match="expected key=value"):
        load_config(local_dir=None, overrides=["model.seed"])
    local = tmp_path / "local"
    local.mkdir()
    (local / "modle.yaml").write_text("seed: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"modle.yaml: no config section 'modle'"):
        load_config(local_dir=local)
    with pytest.raises(ConfigError, match="unknown rule 'NOPE'"):
        load_config(local_dir=None, overrides=["policy.rules=[NOPE]"])
    with pytest.raises(ConfigError, match="must not exceed high"):
        load_config(local_dir=None, overrides=["policy.tiers.medium=0.99"])
    f = tmp_path / "feats.yaml"
    f.write_text("features:\n  enabled:\n    - {name: site_batches, params: {window_dys: 8}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="feats.yaml: features.enabled.0..params: feature .site_batches. has no parameter window_dys; it takes: window_days"):
        load_config(f, local_dir=None)


def test_run_date_must_be_set() -> None:
    cfg = load_config(local_dir=None)
    with pytest.raises(ConfigError, match="--run-date"):
        _ = cfg.run_date


def test_mlflow_locations_for_a_cluster_output() -> None:
    local = load_config(overrides=["run.output=out/x"], local_dir=None)
    assert local.artifact_root == str((Path.cwd() / "out/x/mlflow/artifacts").resolve())
    assert local.tracking_uri.startswith("sqlite:////") and local.tracking_uri.endswith("out/x/mlflow/mlflow.db")
    remote = load_config(overrides=["run.output=hdfs://nn:8020/rg", "run.mlflow.tracking_uri=http://127.0.0.1:5000"],
                         local_dir=None)
    assert remote.artifact_root == "hdfs://nn:8020/rg/mlflow/artifacts"  # not the driver's disk
    assert remote.tracking_uri == "http://127.0.0.1:5000"
    served = load_config(overrides=["run.output=out/x", "run.mlflow.tracking_uri=http://127.0.0.1:5000"],
                         local_dir=None)
    assert served.artifact_root is None  # the server's artifact store, not the driver's disk
    s3 = load_config(overrides=["run.output=s3a://bucket/rg/"], local_dir=None)
    assert s3.artifact_root == "s3a://bucket/rg/mlflow/artifacts"
    with pytest.raises(ConfigError, match="set run.mlflow.tracking_uri"):
        _ = s3.tracking_uri
