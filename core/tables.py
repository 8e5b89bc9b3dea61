"""The validated, privacy-safe tables that features are computed from, by their contract alias.

After ingest no raw ID number or name remains: ``id_number`` is replaced by ``id_hash`` (keyed
HMAC) and ``id_masked`` plus the attributes parsed from it (``id_birth_date``, ``id_gender``,
``id_region``); names are replaced by their normalised form (``name_norm``), kept in memory for
name matching and never written out.

Which tables exist comes from the contract (``core.contract.TABLES``): ``t.sims``, ``t.activity``
and so on are the contract's aliases; a table not delivered reads as ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame

from realname_guard.core.contract import TABLES, by_alias


def table_names() -> tuple[str, ...]:
    """Every contract table's alias, in contract order."""
    return tuple(t.alias for t in TABLES.values())


class Tables:
    """The contract's tables by alias; `derived` holds frames computed once from them (cards, holders)."""

    def __init__(self, frames: Mapping[str, DataFrame | None] | None = None, **named: DataFrame | None) -> None:
        given = {**(frames or {}), **named}
        names = table_names()
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise KeyError(f"no contract table goes by {', '.join(unknown)}; tables: {', '.join(names)}")
        self._frames: dict[str, DataFrame | None] = {n: given.get(n) for n in names}
        self.derived: dict[str, DataFrame] = {}

    def __getattr__(self, name: str) -> DataFrame | None:
        if name.startswith("_"):
            raise AttributeError(name)
        frames = self.__dict__.get("_frames", {})
        if name in frames:
            return frames[name]
        if name in table_names():  # registered after this Tables was built: not delivered
            return None
        raise AttributeError(f"Tables has no table {name!r}; tables: {', '.join(table_names())}")

    @property
    def sims(self) -> DataFrame:
        return self.get("sims")

    @property
    def accounts(self) -> DataFrame:
        return self.get("accounts")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._frames)

    def has(self, name: str) -> bool:
        return self._frames.get(name) is not None

    def get(self, name: str) -> DataFrame:
        df = self._frames.get(name)
        if df is None:
            raise KeyError(f"table {contract_name(name)} was not delivered")
        return df

    def frames(self) -> dict[str, DataFrame]:
        """The delivered tables by alias."""
        return {n: df for n, df in self._frames.items() if df is not None}

    def with_(self, **frames: DataFrame | None) -> Tables:
        """A copy with some tables replaced (derived frames are not carried over)."""
        return Tables({**self._frames, **frames})


def contract_name(alias: str) -> str:
    """The contract's name of the table the feature code calls `alias` (sims -> sim_registrations)."""
    return by_alias(alias).name
