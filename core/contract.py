"""The data contract as code: input tables, their columns and types.

Types are Spark DDL. Ingest casts every delivered column to these types; a required column
that is missing fails the run naming the table and the column; extra columns are dropped
and reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql.types import StructType


@dataclass(frozen=True)
class TableContract:
    name: str
    ddl: str
    key: tuple[str, ...]  # columns unique per row
    required: bool  # the table itself must be delivered
    pii: tuple[str, ...] = ()  # columns holding ID numbers or names: never written out raw

    @property
    def schema(self) -> StructType:
        parsed = StructType.fromDDL(self.ddl)
        assert isinstance(parsed, StructType)
        return parsed

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.schema.fields)


SIM_REGISTRATIONS = TableContract(
    name="sim_registrations",
    ddl=(
        "msisdn STRING, operator STRING, id_type STRING, id_number STRING, reg_name STRING, "
        "reg_time TIMESTAMP, channel STRING, outlet_id STRING, outlet_region STRING, "
        "face_verified BOOLEAN, status STRING, cancel_time TIMESTAMP"
    ),
    key=("msisdn",),
    required=True,
    pii=("id_number", "reg_name"),
)

BANK_ACCOUNTS = TableContract(
    name="bank_accounts",
    ddl=(
        "account_id STRING, bank_code STRING, id_type STRING, id_number STRING, holder_name STRING, "
        "open_time TIMESTAMP, branch_id STRING, branch_region STRING, channel STRING, "
        "account_class STRING, reserved_msisdn STRING, open_device_id STRING, status STRING, "
        "close_time TIMESTAMP"
    ),
    key=("account_id",),
    required=True,
    pii=("id_number", "holder_name"),
)

SIM_ACTIVITY = TableContract(
    name="sim_activity",
    ddl=(
        "msisdn STRING, day DATE, imei STRING, cell_region STRING, roam_country STRING, "
        "calls_out INT, calls_in INT, call_out_seconds BIGINT, distinct_callees INT, "
        "sms_out INT, sms_in INT, data_mb DOUBLE"
    ),
    key=("msisdn", "day", "imei", "cell_region"),
    required=False,
)

BANK_TRANSACTIONS = TableContract(
    name="bank_transactions",
    ddl=(
        "txn_id STRING, account_id STRING, ts TIMESTAMP, amount DECIMAL(18,2), direction STRING, "
        "counterparty_account STRING, channel STRING, device_id STRING, ip_region STRING"
    ),
    key=("txn_id",),
    required=False,
)

ID_REGISTRY = TableContract(
    name="id_registry",
    ddl=(
        "id_number STRING, name STRING, birth_date DATE, gender STRING, hukou_region STRING, "
        "id_status STRING"
    ),
    key=("id_number",),
    required=False,
    pii=("id_number", "name"),
)

LABELS = TableContract(
    name="labels",
    ddl="entity_type STRING, entity_id STRING, label INT, label_time TIMESTAMP, source STRING",
    key=(),
    required=False,
    pii=(),  # entity_id holds an ID number for PERSON rows: hashed at ingest
)

TABLES: dict[str, TableContract] = {
    t.name: t
    for t in (SIM_REGISTRATIONS, BANK_ACCOUNTS, SIM_ACTIVITY, BANK_TRANSACTIONS, ID_REGISTRY, LABELS)
}

OPERATORS = ("CMCC", "CUCC", "CTCC")
ID_TYPES = ("RESIDENT_ID", "PASSPORT", "HMT_PERMIT", "OTHER")
SIM_CHANNELS = ("STORE", "AGENT", "ONLINE", "CORPORATE")
SIM_STATUSES = ("ACTIVE", "SUSPENDED", "CANCELLED")
ACCOUNT_CHANNELS = ("COUNTER", "MOBILE_APP", "ONLINE", "AGENT")
ACCOUNT_CLASSES = ("I", "II", "III")
ACCOUNT_STATUSES = ("ACTIVE", "FROZEN", "CLOSED")
TXN_DIRECTIONS = ("IN", "OUT")
TXN_CHANNELS = ("ATM", "POS", "ONLINE", "MOBILE", "COUNTER")
ID_STATUSES = ("VALID", "REPORTED_LOST", "DECEASED", "EXPIRED")
LABEL_ENTITY_TYPES = ("SIM", "ACCOUNT", "PERSON")
LABEL_SOURCES = ("POLICE_NOTICE", "REVERIFY_FAILED", "REVERIFY_PASSED", "APPEAL", "COMPLAINT")
