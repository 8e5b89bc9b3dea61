"""The world as files: contract schemas, determinism, unique keys, dates, volumes, CSV output."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T

from realname_guard.core.contract import TABLES
from realname_guard.core.generator_config import GeneratorConfig
from realname_guard.generator.world import generate_world
from realname_guard.generator.writer import arrow_schema, arrow_type
from tests.generator.conftest import AS_OF, CFG, World

AS_OF_TS = dt.datetime.combine(AS_OF, dt.time())


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_writes_every_table_and_truth(world: World) -> None:
    for name in TABLES:
        assert sorted(p.name for p in (world.root / "input" / name).iterdir()) == [
            "part-00000.parquet", "part-00001.parquet"]
        assert world.summary["rows"][name] > 0
    for name in ("sims", "accounts", "dirty_rows"):
        assert (world.root / "truth" / name / "part-00000.parquet").is_file()


@pytest.mark.parametrize("name", list(TABLES))
def test_parquet_types_match_contract(world: World, name: str) -> None:
    schema = pq.read_schema(world.root / "input" / name / "part-00000.parquet")
    assert schema.remove_metadata() == arrow_schema(name)
    assert schema.names == list(arrow_schema(name).names)


def test_contract_types_as_spark_sees_them(world: World, spark) -> None:  # noqa: ANN001
    for name, contract in TABLES.items():
        expected = contract.schema
        assert pq.read_schema(world.root / "input" / name / "part-00000.parquet").names == [
            f.name for f in expected.fields]
        assert [arrow_type(f.dataType.simpleString()) for f in expected.fields] == list(arrow_schema(name).types)
        read = spark.read.parquet(str(world.root / "input" / name)).schema
        # naive timestamps (local China time, no zone) read as TIMESTAMP_NTZ; ingest casts them
        naive = [T.TimestampType() if isinstance(f.dataType, T.TimestampNTZType) else f.dataType
                 for f in read.fields]
        assert list(zip(read.names, naive, strict=True)) == [(f.name, f.dataType) for f in expected.fields]
    # The same registration read back by Spark carries the same local wall-clock time (picked by
    # its number: Spark need not read the parts in the order they were written).
    sims = world.table("sim_registrations").dropna(subset=["reg_time"])
    sims = sims[~sims["msisdn"].duplicated(keep=False)]
    msisdn, first = sims["msisdn"].iloc[0], sims["reg_time"].iloc[0]
    row = (spark.read.parquet(str(world.root / "input" / "sim_registrations")).where(F.col("msisdn") == msisdn)
           .selectExpr("date_format(cast(cast(reg_time as string) as timestamp), "
                       "'yyyy-MM-dd HH:mm:ss.SSSSSS') as t").first())
    assert row is not None and row["t"] == first.strftime("%Y-%m-%d %H:%M:%S.%f")


def test_same_seed_same_bytes_other_seed_other_world(world: World, tmp_path: Path) -> None:
    again = generate_world(tmp_path / "again", CFG, AS_OF)
    assert _digest(tmp_path / "again") == _digest(world.root)
    assert again["rows"] == world.summary["rows"]
    other = GeneratorConfig(persons=CFG.persons, seed=CFG.seed + 1, chunk_persons=CFG.chunk_persons)
    generate_world(tmp_path / "other", other, AS_OF)
    assert _digest(tmp_path / "other") != _digest(world.root)


def test_keys_unique_except_deliberate_duplicates(world: World) -> None:
    sims, accounts = world.table("sim_registrations"), world.table("bank_accounts")
    dirty = world.truth("dirty_rows")
    dup = set(dirty.loc[dirty["what"].str.endswith("delivered twice"), "key"])
    assert set(sims.loc[sims["msisdn"].duplicated(), "msisdn"]) <= dup
    assert set(accounts.loc[accounts["account_id"].duplicated(), "account_id"]) <= dup
    assert world.table("bank_transactions")["txn_id"].is_unique
    registry = world.table("id_registry")
    assert registry["id_number"].is_unique
    truth = world.truth("sims")
    assert truth["msisdn"].is_unique and set(truth["msisdn"]) == set(sims["msisdn"])
    assert set(world.truth("accounts")["account_id"]) == set(accounts["account_id"])
    clean = sims[~sims["msisdn"].isin(dirty["key"])]
    assert clean["msisdn"].str.fullmatch(r"1\d{10}").all()
    activity = world.table("sim_activity")
    assert not activity.duplicated(["msisdn", "day", "imei", "cell_region"]).any()
    renamed = set(dirty["what"].str.extract(r"true number (\d{11})")[0].dropna())
    assert set(activity["msisdn"]) <= set(sims["msisdn"]) | renamed


def test_everything_dated_before_as_of(world: World) -> None:
    dirty = world.truth("dirty_rows")
    future = set(dirty.loc[dirty["what"].str.endswith("in the future"), "key"])
    sims, accounts = world.table("sim_registrations"), world.table("bank_accounts")
    assert (sims.loc[~sims["msisdn"].isin(future), "reg_time"].dropna() < AS_OF_TS).all()
    assert (sims.loc[sims["msisdn"].isin(future), "reg_time"] > AS_OF_TS).all()
    assert (accounts.loc[~accounts["account_id"].isin(future), "open_time"].dropna() < AS_OF_TS).all()
    assert (sims["cancel_time"].dropna() < AS_OF_TS).all() and (accounts["close_time"].dropna() < AS_OF_TS).all()
    # an invalid (future or null) reg_time may fall on a cancelled SIM
    dated = sims[~sims["msisdn"].isin(dirty.loc[dirty["kind"] == "invalid", "key"])]
    assert ((dated["cancel_time"] >= dated["reg_time"]) | dated["cancel_time"].isna()).all()
    assert (world.table("bank_transactions")["ts"] < AS_OF_TS).all()
    days = world.table("sim_activity")["day"]
    assert days.min() == AS_OF - dt.timedelta(days=CFG.activity_days) and days.max() < AS_OF
    assert (world.table("labels")["label_time"] <= AS_OF_TS).all()
    assert (world.table("id_registry")["birth_date"] < AS_OF).all()


def test_volume_is_moderate(world: World) -> None:
    rows = world.summary["rows"]
    assert rows["sim_activity"] / rows["sim_registrations"] <= 10
    assert rows["bank_transactions"] / rows["bank_accounts"] <= 10
    amounts = world.table("bank_transactions")["amount"].astype(float)
    assert (amounts > 0).all()


def test_csv_in_gb18030(tmp_path: Path) -> None:
    cfg = GeneratorConfig(persons=1_000, seed=3)
    summary = generate_world(tmp_path, cfg, AS_OF, fmt="csv", csv_encoding="GB18030")
    raw = (tmp_path / "input" / "sim_registrations" / "part-00000.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    for name in TABLES:
        path = tmp_path / "input" / name / "part-00000.csv"
        table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(encoding="gb18030"),
                               convert_options=pacsv.ConvertOptions(
                                   column_types={f.name: pa.string() for f in arrow_schema(name)}))
        assert table.column_names == arrow_schema(name).names
        assert table.num_rows == summary["rows"][name]
    names = pacsv.read_csv(tmp_path / "input" / "id_registry" / "part-00000.csv",
                           read_options=pacsv.ReadOptions(encoding="gb18030")).column("name").to_pylist()
    assert all("\u4e00" <= n[0] <= "\u9fff" for n in names)
    with pytest.raises(ValueError, match="fmt"):
        generate_world(tmp_path, cfg, AS_OF, fmt="json")


def test_the_disciplinary_list_names_card_sellers_with_periods_of_two_or_three_years(world: World) -> None:
    listed = world.table("disciplinary_list")
    assert len(listed) > 0
    sims, truth = world.table("sim_registrations"), world.truth("sims")
    sellers = set(sims.merge(truth, on="msisdn").query("typology == 'card_farmer'")["id_number"])
    assert set(listed["id_number"]) <= sellers
    years = (pd.to_datetime(listed["listed_until"]) - pd.to_datetime(listed["listed_from"])).dt.days / 365.25
    assert years.between(1.99, 3.01).all()
    assert (pd.to_datetime(listed["listed_from"]).dt.date <= AS_OF).all()
    # At least one seller opened a sold card inside their period (what DISCIPLINARY_LISTED finds).
    opened = sims.merge(listed, on="id_number")
    day = pd.to_datetime(opened["reg_time"]).dt.date
    assert ((day >= opened["listed_from"]) & (day <= opened["listed_until"])).any()
