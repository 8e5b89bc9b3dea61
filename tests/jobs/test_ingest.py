"""Reading the contract's tables: formats, encodings, missing and extra columns, bad values."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from realname_guard.core.contract import LABELS, SIM_REGISTRATIONS
from realname_guard.core.io import InputError, locate_table, read_contract_table

HEADER = "msisdn,operator,id_type,id_number,reg_name,reg_time,channel,outlet_id,outlet_region,face_verified,status"


def _write(path: Path, text: str, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))


def test_gb18030_csv_with_extra_and_absent_nullable_columns(spark: SparkSession, tmp_path: Path) -> None:
    rows = [
        "13800000001,CMCC,RESIDENT_ID,11010519491231002x,張偉,2026-06-01 10:00:00,STORE,o1,110105,true,ACTIVE,x",
        "13800000002,CUCC,RESIDENT_ID,11010519491231002X,李娜,not a time,AGENT,,110105,maybe,ACTIVE,y",
    ]
    _write(tmp_path / "in" / "sim_registrations" / "part-0.csv", HEADER + ",note\n" + "\n".join(rows) + "\n", "gb18030")
    located = locate_table(spark, str(tmp_path / "in"), "sim_registrations")
    assert located is not None and located.fmt == "csv"
    df, report = read_contract_table(spark, located, SIM_REGISTRATIONS, "GB18030")
    assert report["extra_columns"] == ["note"]
    assert report["absent_columns"] == ["cancel_time"]
    got = [r.asDict() for r in df.orderBy("msisdn").collect()]
    assert got[0]["reg_name"] == "張偉"  # decoded from GB18030
    assert got[0]["reg_time"] == dt.datetime(2026, 6, 1, 10, 0)
    assert got[0]["face_verified"] is True and got[0]["_cast_failures"] is None
    assert got[0]["cancel_time"] is None
    # A value that does not fit its type becomes null and is named, for the quarantine.
    assert got[1]["reg_time"] is None and got[1]["face_verified"] is None
    assert got[1]["_cast_failures"] == "reg_time,face_verified"


def test_missing_required_column_names_table_and_column(spark: SparkSession, tmp_path: Path) -> None:
    _write(tmp_path / "in" / "labels.csv", "entity_type,entity_id,label_time,source\nSIM,13800000001,2026-06-01,APPEAL\n")
    located = locate_table(spark, str(tmp_path / "in"), "labels")
    assert located is not None
    with pytest.raises(InputError, match=r"input table labels .* lacks required column\(s\): label;"):
        read_contract_table(spark, located, LABELS, "UTF-8")


def test_locate_table_forms(spark: SparkSession, tmp_path: Path) -> None:
    root = tmp_path / "in"
    spark.createDataFrame([("SIM", "1", 1, dt.datetime(2026, 6, 1), "APPEAL")], LABELS.ddl).write.parquet(
        str(root / "labels.parquet")
    )
    assert locate_table(spark, str(root), "labels").fmt == "parquet"  # type: ignore[union-attr]
    assert locate_table(spark, str(root), "id_registry") is None
    (root / "sim_activity").mkdir()
    with pytest.raises(InputError, match="holds no Parquet or CSV parts"):
        locate_table(spark, str(root), "sim_activity")


def test_gbk_csv_decodes_like_gb18030(spark: SparkSession, tmp_path: Path) -> None:
    row = "13800000001,CMCC,RESIDENT_ID,11010519491231002X,王芳,2026-06-01 10:00:00,STORE,网点1,110105,true,ACTIVE"
    _write(tmp_path / "in" / "sim_registrations.csv", HEADER + "\n" + row + "\n", "gbk")
    located = locate_table(spark, str(tmp_path / "in"), "sim_registrations")
    assert located is not None
    df, _ = read_contract_table(spark, located, SIM_REGISTRATIONS, "GBK")
    got = df.collect()  # one row
    assert (got[0]["reg_name"], got[0]["outlet_id"], got[0]["_cast_failures"]) == ("王芳", "网点1", None)


def test_a_csv_with_only_its_header_reads_as_an_empty_table(spark: SparkSession, tmp_path: Path) -> None:
    _write(tmp_path / "in" / "sim_registrations.csv", HEADER + "\n")
    located = locate_table(spark, str(tmp_path / "in"), "sim_registrations")
    assert located is not None
    df, report = read_contract_table(spark, located, SIM_REGISTRATIONS, "UTF-8")
    assert df.count() == 0
    assert report["extra_columns"] == [] and "msisdn" in df.columns


def test_very_long_strings_are_read_whole(spark: SparkSession, tmp_path: Path) -> None:
    name, outlet = "张" * 100_000, "o" * 1_000_000
    row = f"13800000001,CMCC,RESIDENT_ID,11010519491231002X,{name},2026-06-01 10:00:00,STORE,{outlet},110105,true,ACTIVE"
    _write(tmp_path / "in" / "sim_registrations.csv", HEADER + "\n" + row + "\n")
    located = locate_table(spark, str(tmp_path / "in"), "sim_registrations")
    assert located is not None
    df, _ = read_contract_table(spark, located, SIM_REGISTRATIONS, "UTF-8")
    got = df.collect()  # one row
    assert (len(got[0]["reg_name"]), len(got[0]["outlet_id"]), got[0]["_cast_failures"]) == (100_000, 1_000_000, None)
