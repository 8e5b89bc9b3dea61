"""Each typology and confounder is present and carries its signal in the columns the docs name."""

from __future__ import annotations

import unicodedata

import pandas as pd
import pytest

from realname_guard.generator.population import CONFOUNDER_ROLES, MISUSE_ROLES
from realname_guard.generator.reference import SIMBOX_COUNTRIES
from tests.generator.conftest import World


def _normalised(df: pd.DataFrame, invalid: set[str], key: str) -> pd.DataFrame:
    """Delivered rows without the invalid ones, ID numbers and names folded as ingest would."""
    df = df[~df[key].isin(invalid)].drop_duplicates(key).copy()
    for col in ("id_number", "reg_name", "holder_name"):
        if col in df:
            df[col] = df[col].map(lambda v: unicodedata.normalize("NFKC", v).replace(" ", "").upper())
    return df


@pytest.fixture(scope="module")
def cards(world: World) -> dict[str, pd.DataFrame]:
    dirty = world.truth("dirty_rows")
    invalid = set(dirty.loc[dirty["kind"] == "invalid", "key"])
    sims = _normalised(world.table("sim_registrations"), invalid, "msisdn").merge(world.truth("sims"), on="msisdn")
    accounts = _normalised(world.table("bank_accounts"), invalid, "account_id").merge(
        world.truth("accounts"), on="account_id")
    return {"sims": sims, "accounts": accounts, "activity": world.table("sim_activity").merge(
        world.truth("sims"), on="msisdn"), "txns": world.table("bank_transactions").merge(
        world.truth("accounts"), on="account_id")}


def test_every_typology_and_confounder_present(world: World, cards: dict[str, pd.DataFrame]) -> None:
    roles = world.summary["roles"]
    assert all(roles.get(r, 0) > 0 for r in (*MISUSE_ROLES, *CONFOUNDER_ROLES))
    sim_typ = set(cards["sims"]["typology"])
    acc_typ = set(cards["accounts"]["typology"])
    assert {"card_farmer", "stolen_id", "elderly_id"} <= sim_typ
    assert {"card_farmer", "stolen_id", "dormant_mule"} <= acc_typ
    assert {"student", "family_plan", "corporate_iot", "traveller", "migrant", "normal"} <= sim_typ
    assert {"merchant", "student", "migrant"} <= acc_typ
    misuse = cards["sims"]["is_misuse"] == 1
    assert (cards["sims"].loc[misuse, "typology"].isin(MISUSE_ROLES)).all()
    assert not cards["sims"].loc[~misuse, "typology"].isin(MISUSE_ROLES).any()
    assert 0 < misuse.mean() < 0.1


def test_card_farmers_sim_boxes_abroad(cards: dict[str, pd.DataFrame]) -> None:
    sims = cards["sims"][cards["sims"]["typology"] == "card_farmer"]
    assert (sims["channel"] == "AGENT").all()
    span = sims.groupby("outlet_region")["reg_time"].agg(lambda t: (t.max() - t.min()).days)
    assert (span <= 4).all()  # a burst at one agent within a few days
    act = cards["activity"][cards["activity"]["typology"] == "card_farmer"]
    assert (act["cell_region"] == "ABROAD").all() and act["roam_country"].isin(SIMBOX_COUNTRIES).all()
    assert act.groupby("imei")["msisdn"].nunique().max() >= 3  # many SIMs in one SIM box
    assert act["calls_in"].mean() < 1 and act["calls_out"].mean() > 30
    assert (act["distinct_callees"] / act["calls_out"].clip(lower=1)).mean() > 0.8
    assert (act["call_out_seconds"] / act["calls_out"].clip(lower=1)).mean() < 60
    honest = cards["activity"][cards["activity"]["typology"] == "normal"]
    assert honest["calls_in"].mean() > 1 and (honest["cell_region"] != "ABROAD").all()


def test_card_farmer_accounts_pass_money_through(cards: dict[str, pd.DataFrame]) -> None:
    accounts = cards["accounts"][cards["accounts"]["typology"] == "card_farmer"]
    own = set(cards["sims"]["msisdn"])
    assert accounts["reserved_msisdn"].isin(own).all()
    txns = cards["txns"][cards["txns"]["typology"] == "card_farmer"].copy()
    txns["amount"] = txns["amount"].astype(float)
    flow = txns.groupby(["account_id", "direction"])["amount"].sum().unstack(fill_value=0)
    ratio = flow["OUT"].sum() / flow["IN"].sum()
    assert 0.9 < ratio <= 1.0
    assert txns.groupby("account_id")["counterparty_account"].nunique().mean() > 5
    # reserved phone is often a gang number registered to another person's ID
    sims = cards["sims"].set_index("msisdn")
    reserved_owner = sims.loc[accounts["reserved_msisdn"], "id_number"].to_numpy()
    assert (reserved_owner != accounts["id_number"].to_numpy()).any()


def test_stolen_ids_used_far_from_home_without_face_check(world: World, cards: dict[str, pd.DataFrame]) -> None:
    sims = cards["sims"][cards["sims"]["typology"] == "stolen_id"]
    assert not sims["face_verified"].any()
    assert (sims["outlet_region"].str[:2] != sims["id_number"].str[:2]).all()
    registry = world.table("id_registry").set_index("id_number")
    victims = sims["id_number"].drop_duplicates()
    assert (registry.reindex(victims)["id_status"] == "REPORTED_LOST").any()
    names = registry.reindex(sims["id_number"])["name"].to_numpy()
    assert (sims["reg_name"].to_numpy() != names).any()  # names sometimes slightly off
    own = cards["sims"][cards["sims"]["id_number"].isin(victims) & (cards["sims"]["typology"] != "stolen_id")]
    assert len(own) and (own["is_misuse"] == 0).all()


def test_dormant_mules_silent_then_burst(world: World, cards: dict[str, pd.DataFrame]) -> None:
    accounts = cards["accounts"][cards["accounts"]["typology"] == "dormant_mule"]
    assert (accounts["open_time"] < pd.Timestamp(world.summary["as_of"]) - pd.Timedelta(days=700)).all()
    txns = cards["txns"][cards["txns"]["typology"] == "dormant_mule"]
    window_start = pd.Timestamp(world.summary["as_of"]) - pd.Timedelta(days=world.cfg.activity_days)
    first = txns.groupby("account_id")["ts"].min()
    assert (first > window_start + pd.Timedelta(days=0.5 * world.cfg.activity_days)).all()
    assert (txns.groupby("account_id")["ts"].agg(lambda t: (t.max() - t.min()).days) <= 8).all()


def test_elderly_ids_extra_sims_used_elsewhere(cards: dict[str, pd.DataFrame], world: World) -> None:
    sims = cards["sims"]
    bad = sims[sims["typology"] == "elderly_id"]
    assert not bad["face_verified"].any() and (bad["channel"] == "STORE").all()
    birth_year = bad["id_number"].str[6:10].astype(int)
    assert (int(world.summary["as_of"][:4]) - birth_year >= 65).all()
    assert bad.groupby("outlet_id")["id_number"].nunique().max() >= 2  # one insider, several victims
    act = cards["activity"]
    bad_imei = set(act.loc[act["typology"] == "elderly_id", "imei"].dropna())
    own = sims[sims["id_number"].isin(bad["id_number"]) & (sims["is_misuse"] == 0)]
    own_imei = set(act.loc[act["msisdn"].isin(own["msisdn"]), "imei"].dropna())
    assert bad_imei and not (bad_imei & own_imei)
    used = act[act["typology"] == "elderly_id"].merge(bad[["msisdn", "outlet_region"]], on="msisdn")
    assert (used["cell_region"] != used["outlet_region"]).all()


def test_confounders_look_odd_but_are_honest(cards: dict[str, pd.DataFrame]) -> None:
    sims, act = cards["sims"], cards["activity"]
    corp = sims[sims["typology"] == "corporate_iot"]
    assert (corp["channel"] == "CORPORATE").all() and corp.groupby("id_number").size().max() >= 20
    assert (act.loc[act["typology"] == "corporate_iot", ["calls_out", "calls_in", "sms_out"]] == 0).all().all()
    family = sims[sims["typology"] == "family_plan"]
    assert family.groupby("id_number").size().median() >= 3
    fam_act = act[act["typology"] == "family_plan"]
    assert fam_act.groupby("imei")["msisdn"].nunique().max() == 1  # each member in their own phone
    trips = act[act["typology"] == "traveller"]
    assert (trips["cell_region"] == "ABROAD").any() and (trips["calls_in"] > 0).any()
    students = sims[sims["typology"] == "student"]
    assert students.groupby("id_number").size().median() >= 2
    migrants = sims[sims["typology"] == "migrant"]
    assert (act[act["typology"] == "migrant"].merge(migrants[["msisdn", "id_number"]], on="msisdn")
            .pipe(lambda d: (d["cell_region"].str[:2] != d["id_number"].str[:2]).mean()) > 0.9)
    merchants = cards["txns"][cards["txns"]["typology"] == "merchant"]
    assert merchants.groupby("account_id").size().mean() > 15
    assert (sims.loc[sims["typology"].isin(CONFOUNDER_ROLES), "is_misuse"] == 0).all()
