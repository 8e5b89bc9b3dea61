"""Features and rules are configured alike and checked when the config loads, naming file and key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import Column
from pyspark.sql import functions as F

from realname_guard.config import load_config
from realname_guard.core.config import ConfigError, PolicyConfig
from realname_guard.policy import rules


@pytest.fixture
def rule_with_params() -> Iterator[str]:
    @rules.rule("MANY_DEVICES", "The holder's cards were opened on many devices", needs=("open_device_ids",))
    def many_devices(cfg: PolicyConfig, at_least: int = 3) -> Column:
        return F.col("open_device_ids") >= F.lit(at_least)

    try:
        yield "MANY_DEVICES"
    finally:
        del rules._RULES["MANY_DEVICES"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_rule_takes_params_that_fit_its_function(tmp_path: Path, rule_with_params: str) -> None:
    ok = write(tmp_path, "policy:\n  rules: [CONFIRMED_MISUSE, {name: MANY_DEVICES, params: {at_least: 4}}]\n")
    cfg = load_config(ok, local_dir=None)
    assert cfg.policy.rules[1].name == "MANY_DEVICES" and cfg.policy.rules[1].params == {"at_least": 4}
    bad = write(tmp_path, "policy:\n  rules: [{name: MANY_DEVICES, params: {at_lest: 4}}]\n")
    with pytest.raises(ConfigError, match=r"run.yaml: policy.rules\[0\].params: rule 'MANY_DEVICES' has no "
                                          r"parameter at_lest; it takes: at_least"):
        load_config(bad, local_dir=None)


def test_a_rule_needing_a_disabled_group_fails_at_load(tmp_path: Path, rule_with_params: str) -> None:
    cfg = write(tmp_path, "features:\n  enabled: [{name: holder_identity}, {name: holder_cards}, "
                          "{name: card_registration}, {name: reserved_phone}]\n"
                          "policy:\n  rules: [MANY_DEVICES]\n")
    with pytest.raises(ConfigError, match=r"run.yaml: policy.rules\[0\]: rule 'MANY_DEVICES' reads "
                                          r"'open_device_ids' from feature group 'open_device_fanin', which is not enabled"):
        load_config(cfg, local_dir=None)


def test_duplicates_and_unknown_names_fail_at_load() -> None:
    with pytest.raises(ConfigError, match=r"policy.rules\[1\]: rule 'COMPLAINT' is configured twice"):
        load_config(local_dir=None, overrides=["policy.rules=[COMPLAINT, COMPLAINT]"])
    with pytest.raises(ConfigError, match=r"policy.list_on_rules\[0\]: unknown rule 'CONFIRMED'"):
        load_config(local_dir=None, overrides=["policy.list_on_rules=[CONFIRMED]"])
    with pytest.raises(ConfigError, match=r"features.enabled\[1\]: feature 'holder_cards' is enabled twice"):
        load_config(local_dir=None, overrides=["features.enabled=[{name: holder_cards}, {name: holder_cards}]",
                                               "policy.rules=[]"])


def test_a_key_nothing_reads_is_not_a_key() -> None:
    # The card limits are set once, in policy; a limit nothing reads is refused.
    with pytest.raises(ConfigError, match="policy.accounts_per_bank_limit"):
        load_config(local_dir=None, overrides=["policy.accounts_per_bank_limit=1"])
    with pytest.raises(ConfigError, match="feature 'registration_limits' has no parameter total_limit"):
        load_config(local_dir=None, overrides=[
            "features.enabled=[{name: holder_identity}, {name: holder_cards}, {name: card_registration}, "
            "{name: reserved_phone}, {name: registration_limits, params: {total_limit: 8}}]"])


def test_anomaly_signal_groups_name_anomaly_features_once() -> None:
    with pytest.raises(ConfigError, match=r"policy.anomaly.same_signal\[0\]\[1\]: 'holder_age' is not one of "
                                          r"policy.anomaly.features"):
        load_config(local_dir=None, overrides=["policy.anomaly.same_signal=[[imei_max_ids, holder_age]]"])
    with pytest.raises(ConfigError, match=r"policy.anomaly.same_signal\[1\]\[0\]: 'imei_max_ids' is already in "
                                          r"same_signal\[0\]"):
        load_config(local_dir=None, overrides=[
            "policy.anomaly.same_signal=[[imei_max_ids, imei_max_sims], [imei_max_ids, open_device_ids]]"])
    with pytest.raises(ConfigError, match=r"policy.anomaly.same_signal\[0\]\[1\]: 'imei_max_ids' is already in "
                                          r"same_signal\[0\]"):
        load_config(local_dir=None, overrides=["policy.anomaly.same_signal=[[imei_max_ids, imei_max_ids]]"])
    with pytest.raises(ConfigError, match=r"policy.anomaly.features\[0\]: unknown feature output 'imei_max_id'; "
                                          r"did you mean imei_max_ids"):
        load_config(local_dir=None, overrides=["policy.anomaly.features=[imei_max_id]",
                                               "policy.anomaly.same_signal=[]"])
