"""Small literal inputs shared by the quality tests (ID numbers and names are fictitious)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from realname_guard.core.contract import BANK_ACCOUNTS, SIM_REGISTRATIONS

EXTRA_DDL = "_source_file STRING, _cast_failures STRING, _id_valid BOOLEAN, _after_run_date BOOLEAN"
SIM_DDL = f"{SIM_REGISTRATIONS.ddl}, {EXTRA_DDL}"
BANK_DDL = f"{BANK_ACCOUNTS.ddl}, {EXTRA_DDL}"

T0 = dt.datetime(2026, 3, 1, 9, 30)
T1 = dt.datetime(2026, 4, 2, 18, 0)

# Literal personal data in the inputs: must never appear in GE results or Data Docs.
PII_STRINGS = (
    "11010519491231002X",
    "110105194912310021",
    "44030619900307123X",
    "E12345678",
    "张三",
    "李四",
    "王五",
    "赵六",
    "钱七",
    "陈小明",
)


def sim(**overrides: Any) -> tuple[Any, ...]:
    """A clean sim_registrations row (contract columns + ingest columns), with overrides."""
    row: dict[str, Any] = {
        "msisdn": "13800000001",
        "operator": "CMCC",
        "id_type": "RESIDENT_ID",
        "id_number": "11010519491231002X",
        "reg_name": "张三",
        "reg_time": T0,
        "channel": "STORE",
        "outlet_id": "OUT01",
        "outlet_region": "110105",
        "face_verified": True,
        "status": "ACTIVE",
        "cancel_time": None,
        "_source_file": "a.parquet",
        "_cast_failures": None,
        "_id_valid": True,
        "_after_run_date": False,
    }
    unknown = set(overrides) - set(row)
    assert not unknown, unknown
    row.update(overrides)
    return tuple(row.values())


def bank(**overrides: Any) -> tuple[Any, ...]:
    """A clean bank_accounts row, with overrides."""
    row: dict[str, Any] = {
        "account_id": "ACC001",
        "bank_code": "ICBC",
        "id_type": "RESIDENT_ID",
        "id_number": "11010519491231002X",
        "holder_name": "张三",
        "open_time": T0,
        "branch_id": "BR01",
        "branch_region": "110105",
        "channel": "COUNTER",
        "account_class": "I",
        "reserved_msisdn": "13800000001",
        "open_device_id": None,
        "status": "ACTIVE",
        "close_time": None,
        "_source_file": "b.parquet",
        "_cast_failures": None,
        "_id_valid": True,
        "_after_run_date": False,
    }
    unknown = set(overrides) - set(row)
    assert not unknown, unknown
    row.update(overrides)
    return tuple(row.values())


# (row, reasons in spec order of conf/base/expectations.yaml); [] = clean.
SIM_CASES: list[tuple[tuple[Any, ...], list[str]]] = [
    (sim(), []),
    # same msisdn, identical but for the source file: the first by all columns is kept
    (sim(_source_file="b.parquet"), ["duplicate msisdn"]),
    (
        sim(msisdn="1380000000", operator="MVNO7X", id_type="PASSPORT", id_number="E12345678",
            reg_name="李四", channel="ONLINE", outlet_id=None, outlet_region=None),
        ["msisdn: does not match ^1[0-9]{10}$"],
    ),
    (
        # any non-empty operator code is valid (an MVNO's code has no fixed format)
        sim(msisdn=None, operator="MVNO_170", reg_name="王五", id_number="44030619900307123X"),
        ["msisdn: is null"],
    ),
    (sim(msisdn="13800000003", status="CANCELLED", cancel_time=T1), []),
    (
        sim(msisdn="13800000004", cancel_time=T1, reg_time=None, _cast_failures="reg_time"),
        ["reg_time: is null", "cancel_time: set but status is not CANCELLED",
         "value not castable to the contract type"],
    ),
    (
        sim(msisdn="13800000005", id_number="110105194912310021", reg_name="赵六", _id_valid=False),
        ["id_number: not a valid ID number"],
    ),
    (
        sim(msisdn="13800000006", status=None, cancel_time=T1, channel="KIOSK", reg_name="钱七"),
        ["status: is null", "channel: not in {STORE, AGENT, ONLINE, CORPORATE}",
         "cancel_time: set but status is not CANCELLED"],
    ),
    # a duplicated key whose first row (by source file) is bad: the clean one is kept
    (
        sim(msisdn="13900000009", outlet_region="1101", reg_name="陈小明"),
        ["outlet_region: does not match ^[0-9]{6}$", "duplicate msisdn"],
    ),
    (sim(msisdn="13900000009", reg_name="陈小明", _source_file="z.parquet"), []),
]

BANK_CASES: list[tuple[tuple[Any, ...], list[str]]] = [
    (bank(), []),
    (bank(account_id="ACC002", reserved_msisdn=None, status="CLOSED", close_time=T1), []),
    (
        bank(account_id="ACC003", reserved_msisdn="+8613800000001", account_class="IV",
             holder_name="李四", close_time=T1),
        ["account_class: not in {I, II, III}", "reserved_msisdn: does not match ^1[0-9]{10}$",
         "close_time: set but status is not CLOSED"],
    ),
    (bank(account_id="ACC001", _source_file="c.parquet"), ["duplicate account_id"]),
]
