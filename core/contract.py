"""The data contract as code: input tables, their columns and types, and each table's time facts.

Types are Spark DDL. Ingest casts every delivered column to these types; a required column
that is missing fails the run naming the table and the column; extra columns are dropped
and reported.

Each table also says once what the rest of the code needs to know about it: the name it goes by
in the feature code (``alias``), its event-time column, the column holding a person's name, and
its as-of rule, i.e. which rows a feature computed as of a date may see:

- ``since``: a row exists from its event time on (a card registered, a label known);
- ``window``: only rows inside the activity window ending on the as-of date (usage, transactions);
- ``always``: no time of its own; every row is visible (the ID registry).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pyspark.sql.types import StructType

AsOfRule = Literal["since", "window", "always"]


@dataclass(frozen=True)
class TableContract:
    name: str
    ddl: str
    key: tuple[str, ...]  # columns unique per row
    required: bool  # the table itself must be delivered
    pii: tuple[str, ...] = ()  # columns holding ID numbers or names: never written out raw
    alias: str = ""  # the name feature code reads it by (Tables.<alias>); default: `name`
    event_time: str | None = None  # when the row happened; rows after the run date are quarantined
    name_column: str | None = None  # a person's name: normalised at ingest, never written out
    as_of: AsOfRule = "always"
    description: str = ""

    def __post_init__(self) -> None:
        if not self.alias:
            object.__setattr__(self, "alias", self.name)
        if self.as_of != "always" and self.event_time is None:
            raise ValueError(f"table {self.name}: as-of rule {self.as_of!r} needs an event_time column")
        for col in (self.event_time, self.name_column, *self.key):
            if col is not None and col not in self.columns:
                raise ValueError(f"table {self.name}: column {col!r} is not in its DDL")

    @property
    def schema(self) -> StructType:
        parsed = StructType.fromDDL(self.ddl)
        assert isinstance(parsed, StructType)
        return parsed

    @property
    def types(self) -> dict[str, str]:
        """Column -> DDL type, read from the DDL without Spark (top-level commas only)."""
        parts, depth, start = [], 0, 0
        for i, ch in enumerate(self.ddl):
            depth += ch in "(<"
            depth -= ch in ")>"
            if ch == "," and depth == 0:
                parts.append(self.ddl[start:i])
                start = i + 1
        parts.append(self.ddl[start:])
        pairs = (p.strip().split(None, 1) for p in parts if p.strip())
        return {name: kind.strip().upper() for name, kind in pairs}

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.types)


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
    alias="sims",
    event_time="reg_time",
    name_column="reg_name",
    as_of="since",
    description="One row per SIM card ever registered, by the operators.",
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
    alias="accounts",
    event_time="open_time",
    name_column="holder_name",
    as_of="since",
    description="One row per bank account ever opened, by the banks.",
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
    alias="activity",
    event_time="day",
    as_of="window",
    description="Daily usage per SIM, handset and cell region.",
)

BANK_TRANSACTIONS = TableContract(
    name="bank_transactions",
    ddl=(
        "txn_id STRING, account_id STRING, ts TIMESTAMP, amount DECIMAL(18,2), direction STRING, "
        "counterparty_account STRING, channel STRING, device_id STRING, ip_region STRING"
    ),
    key=("txn_id",),
    required=False,
    alias="transactions",
    event_time="ts",
    as_of="window",
    description="One row per account transaction.",
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
    alias="registry",
    name_column="name",
    description="The ID registry's record per ID number (optional).",
)

DISCIPLINARY_LIST = TableContract(
    name="disciplinary_list",
    ddl="id_type STRING, id_number STRING, listed_from DATE, listed_until DATE, basis STRING, source STRING",
    key=(),  # one holder may have had several periods
    required=False,
    pii=("id_number",),
    alias="disciplinary",
    description=(
        "The authorities' 失信惩戒 list (optional): persons found to have sold, rented or lent cards, "
        "each with a listing period. A card opened inside its holder's period is a rule hit "
        "(`DISCIPLINARY_LISTED`); the periods are the authorities' and the job never changes one."
    ),
)

LABELS = TableContract(
    name="labels",
    ddl="entity_type STRING, entity_id STRING, label INT, label_time TIMESTAMP, source STRING",
    key=(),
    required=False,
    pii=(),  # entity_id holds an ID number for PERSON rows: hashed at ingest
    alias="labels",
    event_time="label_time",
    as_of="since",
    description=(
        "Confirmed outcomes: misuse (1) or cleared (0) per card or person. Besides the contract's "
        "sources, `HUMAN_REVIEW` records a reviewer's decision on a listing that rests on the model "
        "alone: 1 upholds it (it may then escalate past its deadline), 0 clears it."
    ),
)

# Every contract table by name, in the order ingest reads them. A new card kind's source table is
# added with `register_table` (core.kinds.register_kind does it).
TABLES: dict[str, TableContract] = {
    t.name: t
    for t in (SIM_REGISTRATIONS, BANK_ACCOUNTS, SIM_ACTIVITY, BANK_TRANSACTIONS, ID_REGISTRY, DISCIPLINARY_LIST, LABELS)
}


def register_table(contract: TableContract) -> None:
    """Add a table to the contract (a new card kind's registrations); its name and alias must be new."""
    for t in TABLES.values():
        if t.name == contract.name or t.alias == contract.alias:
            if t == contract:
                return
            raise ValueError(f"table {contract.name} ({contract.alias}) clashes with {t.name} ({t.alias})")
    TABLES[contract.name] = contract


def by_alias(alias: str) -> TableContract:
    for t in TABLES.values():
        if t.alias == alias:
            return t
    raise KeyError(f"no contract table goes by {alias!r}; tables: {', '.join(t.alias for t in TABLES.values())}")


# The value sets of the coded columns (statuses, channels, sources) are validation rules, not
# contract code: conf/base/expectations.yaml holds them, and docs/contract.md prints them.
