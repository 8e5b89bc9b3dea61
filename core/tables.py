"""The validated, privacy-safe tables that features are computed from.

After ingest no raw ID number or name remains: ``id_number`` is replaced by ``id_hash`` (keyed
HMAC) and ``id_masked`` plus the attributes parsed from it (``id_birth_date``, ``id_gender``,
``id_region``); names are replaced by their normalised form (``name_norm``), kept in memory for
name matching and never written out.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar

from pyspark.sql import DataFrame


@dataclass(frozen=True)
class Tables:
    sims: DataFrame
    accounts: DataFrame
    activity: DataFrame | None = None
    transactions: DataFrame | None = None
    registry: DataFrame | None = None
    labels: DataFrame | None = None
    # Frames derived from these tables (holders, cards), computed once and shared by feature groups.
    derived: dict[str, DataFrame] = field(default_factory=dict, compare=False, repr=False)

    NAMES: ClassVar[tuple[str, ...]] = ("sims", "accounts", "activity", "transactions", "registry", "labels")
    CONTRACT_NAME: ClassVar[dict[str, str]] = {
        "sims": "sim_registrations",
        "accounts": "bank_accounts",
        "activity": "sim_activity",
        "transactions": "bank_transactions",
        "registry": "id_registry",
        "labels": "labels",
    }

    def has(self, name: str) -> bool:
        return getattr(self, name) is not None

    def get(self, name: str) -> DataFrame:
        df = getattr(self, name)
        if df is None:
            raise KeyError(f"table {self.CONTRACT_NAME[name]} was not delivered")
        return df

    def with_(self, **frames: DataFrame | None) -> Tables:
        return replace(self, derived={}, **frames)  # type: ignore[arg-type]
