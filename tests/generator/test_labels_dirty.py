"""Labels are partial, biased and delayed; dirty rows come at the configured share, with their truth."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from realname_guard.core.generator_config import GeneratorConfig
from realname_guard.generator.reference import id_checksum_ok
from tests.generator.conftest import AS_OF, World


def _fold(value: str) -> str:
    return unicodedata.normalize("NFKC", value).replace(" ", "").replace("\u3000", "").upper()


def test_labels_partial_delayed_and_biased(world: World) -> None:
    labels = world.table("labels")
    assert (labels["label_time"] <= pd.Timestamp(AS_OF)).all()
    assert set(labels["entity_type"]) == {"SIM", "ACCOUNT", "PERSON"}
    truth = pd.concat([world.truth("sims").rename(columns={"msisdn": "entity_id"}),
                       world.truth("accounts").rename(columns={"account_id": "entity_id"})])
    cards = labels[labels["entity_type"] != "PERSON"].merge(truth, on="entity_id", how="left")
    positives, negatives = cards[cards["label"] == 1], cards[cards["label"] == 0]
    assert (positives["is_misuse"] == 1).all() and (negatives["is_misuse"] == 0).all()
    assert set(positives["source"]) <= {"POLICE_NOTICE", "REVERIFY_FAILED", "COMPLAINT"}
    assert set(negatives["source"]) <= {"REVERIFY_PASSED", "APPEAL"}
    misused = truth[truth["is_misuse"] == 1]
    assert 0 < len(positives) < 0.5 * len(misused)  # a strict minority is ever confirmed
    rate = (positives.groupby("typology").size() / misused.groupby("typology").size()).fillna(0)
    assert rate["card_farmer"] > 0 and (rate < 0.5).all()
    assert negatives["typology"].ne("normal").mean() >= 0.5  # cleared cards are mostly confounders
    persons = labels[labels["entity_type"] == "PERSON"]
    assert persons["entity_id"].map(lambda v: bool(id_checksum_ok(np.array([v]))[0])).all()


def test_sim_farms_and_rented_accounts_are_never_labelled(world: World) -> None:
    sims = world.table("sim_registrations").merge(world.truth("sims"), on="msisdn")
    accounts = world.table("bank_accounts").merge(world.truth("accounts"), on="account_id")
    hidden = ("simbox_farm", "rented_account")
    for typology, cards in (("simbox_farm", sims), ("rented_account", accounts)):
        assert (cards.loc[cards["typology"] == typology, "is_misuse"] == 1).sum() >= 8, typology
    assert {*world.summary["misuse"]["sims"], *world.summary["misuse"]["accounts"]} >= set(hidden)
    holders = set(sims.loc[sims["typology"].isin(hidden), "id_number"]) | set(
        accounts.loc[accounts["typology"].isin(hidden), "id_number"])
    # no label of any kind (confirmed or cleared) on their cards, their holders' other cards or IDs
    held = set(sims.loc[sims["id_number"].isin(holders), "msisdn"]) | set(
        accounts.loc[accounts["id_number"].isin(holders), "account_id"]) | holders
    labels = world.table("labels")
    assert len(labels) and not labels["entity_id"].isin(held).any()
    assert not world.table("disciplinary_list")["id_number"].isin(holders).any()


def test_labels_come_after_the_misuse_started(world: World) -> None:
    labels = world.table("labels")
    sims = world.table("sim_registrations").drop_duplicates("msisdn").set_index("msisdn")
    sim_labels = labels[(labels["entity_type"] == "SIM") & (labels["label"] == 1)]
    reg = sims.loc[sim_labels["entity_id"], "reg_time"].to_numpy()
    delay = (sim_labels["label_time"].to_numpy() - reg) / np.timedelta64(1, "D")
    assert (delay >= world.cfg.label_delay_min_days).all()


@pytest.mark.parametrize(("table", "key"), [("sim_registrations", "msisdn"), ("bank_accounts", "account_id")])
def test_dirty_rows_at_the_configured_share(world: World, table: str, key: str) -> None:
    rows = world.table(table)
    dirty = world.truth("dirty_rows")
    dirty = dirty[dirty["table"] == table]
    share = len(dirty) / len(rows)
    assert 0.5 * world.cfg.dirty_row_share <= share <= 1.5 * world.cfg.dirty_row_share
    assert set(dirty["kind"]) == {"fixable", "invalid"} and set(dirty["key"]) <= set(rows[key])
    resident = rows[rows["id_type"] == "RESIDENT_ID"]
    clean = resident[~resident[key].isin(dirty["key"])]
    assert id_checksum_ok(clean["id_number"].to_numpy()).all()
    fixable = resident[resident[key].isin(dirty.loc[dirty["kind"] == "fixable", "key"])]
    assert id_checksum_ok(fixable["id_number"].map(_fold).to_numpy()).all()
    assert not id_checksum_ok(fixable["id_number"].to_numpy()).all() or (
        fixable.filter(like="name").iloc[:, 0].str.contains(r"\s|\u3000").any())
    bad = dirty.loc[dirty["what"] == "id_number check character wrong", "key"]
    assert not id_checksum_ok(rows.loc[rows[key].isin(bad), "id_number"].to_numpy()).any()


def test_every_dirty_kind_appears_in_a_larger_world(tmp_path: Path) -> None:
    from realname_guard.generator.world import generate_world

    cfg = GeneratorConfig(persons=1_000, seed=5, dirty_row_share=0.1)
    summary = generate_world(tmp_path, cfg, AS_OF)
    dirty = pd.read_parquet(tmp_path / "truth" / "dirty_rows")
    what = " | ".join(dirty["what"])
    for text in ("lower-case x", "full-width digits", "id_number with spaces", "name with spaces",
                 "full-width space", "check character wrong", "digits (true number", "is null",
                 "operator is blank", "unknown channel", "delivered twice", "in the future"):
        assert text in what, text
    assert summary["dirty_rows"]["fixable"] > summary["dirty_rows"]["invalid"]


def test_config_defaults_match_yaml_and_bad_values_fail() -> None:
    path = Path(__file__).resolve().parents[2] / "conf" / "base" / "generator.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert GeneratorConfig(**data) == GeneratorConfig()
    with pytest.raises(ValidationError):
        GeneratorConfig(persons=10)
    with pytest.raises(ValidationError):
        GeneratorConfig(card_farmer_share=0.1, student_share=0.3, family_plan_share=0.3)
    with pytest.raises(ValidationError):
        GeneratorConfig(unknown_knob=1)  # type: ignore[call-arg]
