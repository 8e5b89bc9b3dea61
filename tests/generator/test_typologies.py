"""Each typology and confounder is present and carries its signal in the columns the docs name."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from realname_guard.core.generator_config import GeneratorConfig
from realname_guard.generator.population import CONFOUNDER_ROLES, MISUSE_ROLES
from realname_guard.generator.reference import SHOP_TACS, SIMBOX_COUNTRIES
from realname_guard.generator.world import generate_world
from tests.generator.conftest import AS_OF, World


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
    assert {"card_farmer", "stolen_id", "elderly_id", "simbox_farm"} <= sim_typ
    assert {"card_farmer", "stolen_id", "dormant_mule", "rented_account"} <= acc_typ
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


def test_simbox_farms_run_many_bought_ids_on_a_few_boards_outbound_only(cards: dict[str, pd.DataFrame]) -> None:
    sims, act = cards["sims"], cards["activity"]
    farm = sims[sims["typology"] == "simbox_farm"]
    assert len(farm) >= 20 and (farm["is_misuse"] == 1).all()
    assert set(farm["channel"]) <= {"AGENT", "ONLINE"}
    assert farm.groupby("id_number").size().max() <= 2  # each bought ID gives one or two SIMs
    own = sims[sims["id_number"].isin(farm["id_number"]) & (sims["typology"] != "simbox_farm")]
    assert farm["id_number"].isin(own["id_number"]).all() and (own["is_misuse"] == 0).all()  # ordinary holders
    used = act[act["typology"] == "simbox_farm"].dropna(subset=["imei"]).merge(
        farm[["msisdn", "id_number", "reg_time"]], on="msisdn", suffixes=("_act", ""))
    boards = used.groupby("imei").agg(sims=("msisdn", "nunique"), ids=("id_number", "nunique"),
                                      homes=("id_number", lambda v: v.str[:6].nunique()),
                                      burst=("reg_time", lambda t: (t.max() - t.min()).days))
    assert len(boards) >= 2 and boards["sims"].max() <= 16
    assert (boards["ids"] >= 3).all() and boards["ids"].median() >= 5  # many holders per IMEI
    assert (boards["homes"] >= 0.5 * boards["ids"]).all()  # unrelated IDs, from all over the country
    assert (boards["burst"] <= 4).all()  # registered in a burst of days
    assert not used["imei"].isin(act.loc[act["typology"] != "simbox_farm", "imei"]).any()
    per_board = used.groupby("imei")[["calls_out", "sms_out", "calls_in", "sms_in", "data_mb"]].mean()
    assert ((per_board["calls_out"] > 30) | (per_board["sms_out"] > 100)).all()  # calls or bulk SMS
    assert (per_board["calls_in"] < 1).all() and (per_board["sms_in"] < 1).all() and (per_board["data_mb"] < 5).all()
    assert (used["cell_region"] != "ABROAD").all()
    callers = used[used["calls_out"] > 0]
    assert (callers["distinct_callees"] / callers["calls_out"]).mean() > 0.9
    honest = act[act["typology"] == "normal"].dropna(subset=["imei"]).merge(sims[["msisdn", "id_number"]],
                                                                              on="msisdn")
    assert honest.groupby("imei")["id_number"].nunique().max() == 1


def test_rented_accounts_of_unrelated_holders_converge_on_a_few_phones(world: World,
                                                                       cards: dict[str, pd.DataFrame]) -> None:
    accounts, txns = cards["accounts"], cards["txns"]
    rented = accounts[accounts["typology"] == "rented_account"]
    assert len(rented) >= world.cfg.rented_room_min and rented["id_number"].is_unique  # one account per renter
    others = accounts[accounts["id_number"].isin(rented["id_number"]) & (accounts["typology"] != "rented_account")]
    assert (others["is_misuse"] == 0).all()
    # the registration is the renter's own, as honest as any: old enough, reserved number the renter's own
    own_sims = cards["sims"].loc[cards["sims"]["is_misuse"] == 0, ["msisdn", "id_number"]]
    reserved = rented.dropna(subset=["reserved_msisdn"]).merge(own_sims, left_on="reserved_msisdn",
                                                              right_on="msisdn", suffixes=("", "_sim"))
    assert len(reserved) and (reserved["id_number"] == reserved["id_number_sim"]).all()
    moved = txns[txns["typology"] == "rented_account"].merge(rented[["account_id", "id_number"]], on="account_id")
    online = moved.dropna(subset=["device_id"])
    assert len(online) and online["account_id"].nunique() >= 0.9 * len(rented)
    assert online.groupby("account_id")["device_id"].nunique().max() == 1
    phones = online.groupby("device_id").agg(ids=("id_number", "nunique"),
                                             homes=("id_number", lambda v: v.str[:6].nunique()))
    assert (phones["ids"] >= 4).all() and len(phones) < len(rented) / 3  # many IDs on a few phones
    assert (phones["homes"] >= 0.5 * phones["ids"]).all()
    honest = txns[txns["is_misuse"] == 0].dropna(subset=["device_id"]).merge(
        accounts[["account_id", "id_number"]], on="account_id")
    assert honest.groupby("device_id")["id_number"].nunique().max() == 1  # an honest phone is its holder's
    moved["amount"] = moved["amount"].astype(float)
    flow = moved.groupby("direction")["amount"].sum()
    assert 0.9 < flow["OUT"] / flow["IN"] <= 1.0  # pass-through


def test_never_labelled_typologies_can_be_switched_off(tmp_path: Path) -> None:
    cfg = GeneratorConfig(persons=1_000, seed=4, simbox_farm_share=0, rented_account_share=0)
    summary = generate_world(tmp_path, cfg, AS_OF)
    assert "simbox_farm" not in summary["roles"] and "rented_account" not in summary["roles"]
    assert not {"simbox_farm", "rented_account"} & {*summary["misuse"]["sims"], *summary["misuse"]["accounts"]}
    assert summary["misuse"]["sims"]["card_farmer"] > 0


def test_shop_handsets_carry_many_holders_sims_for_a_day_each_and_change_nothing_else(tmp_path: Path) -> None:
    base = GeneratorConfig(persons=2_000, seed=5)
    with_shops = GeneratorConfig(persons=2_000, seed=5, shop_handset_share=0.1, shop_handset_sims=20)
    plain = World(tmp_path / "plain", generate_world(tmp_path / "plain", base, AS_OF), base)
    shops = World(tmp_path / "shops", generate_world(tmp_path / "shops", with_shops, AS_OF), with_shops)
    act = shops.table("sim_activity").merge(shops.truth("sims"), on="msisdn")
    in_shop = act[act["imei"].str[:8].isin([str(t) for t in SHOP_TACS])]
    assert (in_shop["typology"] == "shop_handset").all() and (in_shop["is_misuse"] == 0).all()
    per_sim = in_shop.groupby(["imei", "msisdn"])["day"].nunique()
    assert len(per_sim) > 20 and (per_sim == 1).all()  # a day each
    assert per_sim.groupby(level="imei").size().max() == 20
    assert act.loc[act["typology"] == "shop_handset", "msisdn"].nunique() == len(per_sim)
    # Everything but those rows' handsets and their SIMs' typology is as without shops.
    before = plain.table("sim_activity").drop(columns="imei")
    pd.testing.assert_frame_equal(before, shops.table("sim_activity").drop(columns="imei"))
    pd.testing.assert_frame_equal(plain.table("sim_registrations"), shops.table("sim_registrations"))


def test_code_receiving_sims_take_texts_and_hardly_call_and_change_nothing_else(tmp_path: Path) -> None:
    base = GeneratorConfig(persons=4_000, seed=5)
    with_codes = GeneratorConfig(persons=4_000, seed=5, code_receiving_share=0.5)
    plain = World(tmp_path / "plain", generate_world(tmp_path / "plain", base, AS_OF), base)
    codes = World(tmp_path / "codes", generate_world(tmp_path / "codes", with_codes, AS_OF), with_codes)
    per_day = (
        codes.table("sim_activity").groupby("msisdn")[["sms_in", "calls_out"]].mean()
        .join(codes.truth("sims").set_index("msisdn")[["typology", "is_misuse"]], how="inner")
    )
    receiving = (per_day["sms_in"] >= 6) & (per_day["calls_out"] < 2)
    victims = per_day["typology"].isin(["stolen_id", "elderly_id"])
    assert receiving[victims].mean() > 0.25  # about half of them, a few with too few days to tell
    assert not receiving[~victims].any()
    assert not (per_day.loc[victims & ~receiving, "calls_out"] < 2).all()  # the rest still call
    # Every other table, and every other SIM's usage, is as without them.
    for table in ("sim_registrations", "bank_accounts", "bank_transactions", "labels"):
        pd.testing.assert_frame_equal(plain.table(table), codes.table(table))
    def others(world: World) -> pd.DataFrame:
        act = world.table("sim_activity")
        return act[~act["msisdn"].isin(per_day.index[victims])].sort_values(["msisdn", "day"], ignore_index=True)

    pd.testing.assert_frame_equal(others(plain), others(codes))
