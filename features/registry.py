"""The feature registry: feature groups register themselves by name; YAML chooses which to build.

A group is a pure function ``fn(tables, ctx, **params) -> DataFrame`` keyed either by
``id_hash`` (level ``holder``: one row per ID holder, joined to every card of that holder) or by
``(entity_type, entity_id)`` (level ``card``: one row per SIM or account). Each output column
carries a description, used for the catalogue and as the reason text in the lists.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from realname_guard.core.schema import CARD_KEY, HOLDER_KEY
from realname_guard.core.tables import table_names

Level = Literal["holder", "card"]


@dataclass(frozen=True)
class Output:
    """One feature column: what it means (English, Chinese term where one exists) and its unit."""

    description: str
    unit: str = "count"
    zh: str = ""  # the Chinese term, where one exists (the catalogue prints it)
    # The same description in Chinese, for the reasons of the lists (risk desks read Chinese first).
    description_zh: str = ""


@dataclass(frozen=True)
class FeatureContext:
    """What every feature may know besides the tables: the as-of date and the policy's SIM limits.

    The limits are set once, in ``policy`` (sims_per_operator_limit and its overrides,
    sims_total_limit); the features that count the excess and the rules that fire on it read the
    same numbers.
    """

    as_of: dt.date
    activity_window_days: int = 30
    sims_per_operator_limit: int = 5
    sims_per_operator_limit_overrides: Mapping[str, int] = field(default_factory=dict)
    sims_total_limit: int = 10
    accounts_class_i_per_bank_limit: int = 1

    @property
    def as_of_end(self) -> Column:
        """First instant after the as-of date (local time): data must be strictly before it."""
        return F.lit(dt.datetime.combine(self.as_of + dt.timedelta(days=1), dt.time()))

    @property
    def window_start(self) -> dt.date:
        return self.as_of - dt.timedelta(days=self.activity_window_days - 1)


@dataclass(frozen=True)
class FeatureDef:
    name: str
    level: Level
    needs: tuple[str, ...]
    outputs: dict[str, Output]
    fn: Callable[..., DataFrame]
    doc: str


_REGISTRY: dict[str, FeatureDef] = {}


def feature(name: str, level: Level, needs: tuple[str, ...], outputs: dict[str, Output]) -> Callable[
    [Callable[..., DataFrame]], Callable[..., DataFrame]
]:
    """Register a feature group under `name`."""

    def register(fn: Callable[..., DataFrame]) -> Callable[..., DataFrame]:
        if name in _REGISTRY:
            raise ValueError(f"feature {name!r} registered twice")
        unknown = set(needs) - set(table_names())
        if unknown:
            raise ValueError(f"feature {name!r} needs unknown tables {sorted(unknown)}")
        _REGISTRY[name] = FeatureDef(name, level, needs, outputs, fn, (fn.__doc__ or "").strip())
        return fn

    return register


def _load_all() -> None:
    # Importing the modules runs their @feature decorators.
    from realname_guard.features import (  # noqa: F401
        cross_registry,
        devices,
        flows,
        identity,
        names,
        network,
        outlets,
        registration,
        usage,
    )


def registry() -> dict[str, FeatureDef]:
    _load_all()
    return dict(_REGISTRY)


def family(fdef: FeatureDef) -> str:
    """The group's family of evidence: the module that defines it (``flows``, ``devices``, ...)."""
    return fdef.fn.__module__.rsplit(".", 1)[-1]


def output_families() -> dict[str, str]:
    """Every feature output column -> its group's family (``model.views`` groups families)."""
    return {col: family(fdef) for fdef in registry().values() for col in fdef.outputs}


def known_features() -> set[str]:
    return set(registry())


def check_params(name: str, params: Mapping[str, Any]) -> None:
    """Fail, naming what the group takes, if `params` holds a name its function does not accept."""
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    params_after_tables_ctx = list(inspect.signature(registry()[name].fn).parameters.values())[2:]
    accepted = [p.name for p in params_after_tables_ctx if p.kind in named]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        takes = ", ".join(accepted) or "no parameters"
        raise ValueError(f"feature {name!r} has no parameter {', '.join(unknown)}; it takes: {takes}")


def key_columns(level: Level) -> tuple[str, ...]:
    return HOLDER_KEY if level == "holder" else CARD_KEY
