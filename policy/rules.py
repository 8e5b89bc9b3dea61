"""Policy rules: named, documented conditions that fire on a scored card.

A rule is a function of the scored frame's columns and the policy config returning a boolean
Column. Rules do not score; they explain and, for those named in ``policy.list_on_rules``, list a
card on their own. A listing that no rule supports rests on the model alone and is marked for
human review (PIPL Art. 24).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import Column
from pyspark.sql import functions as F

from core.config import PolicyConfig


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    fn: Callable[[PolicyConfig], Column]
    needs: tuple[str, ...]  # feature columns the rule reads; without them it cannot fire


_RULES: dict[str, Rule] = {}


def rule(
    name: str, description: str, needs: tuple[str, ...] = ()
) -> Callable[[Callable[[PolicyConfig], Column]], Callable[[PolicyConfig], Column]]:
    def register(fn: Callable[[PolicyConfig], Column]) -> Callable[[PolicyConfig], Column]:
        _RULES[name] = Rule(name, description, fn, needs)
        return fn

    return register


def _personal() -> Column:
    # Corporate (IoT, fleet) SIMs are outside the per-person limits.
    return F.coalesce(F.col("opened_corporate") != 1, F.lit(True))


@rule("CONFIRMED_MISUSE", "Confirmed misuse: police notice or failed re-verification (label 1)")
def confirmed_misuse(cfg: PolicyConfig) -> Column:
    return F.col("confirmed_misuse")


@rule("COMPLAINT", "A complaint names this card (label 1 from a complaint, not yet confirmed)")
def complaint(cfg: PolicyConfig) -> Column:
    return F.col("complaint")


@rule(
    "SIMS_OVER_OPERATOR_LIMIT",
    "The ID holds more SIMs at this operator than allowed (一证五户)",
    needs=("sims_same_operator", "opened_corporate"),
)
def sims_over_operator_limit(cfg: PolicyConfig) -> Column:
    limit = F.lit(cfg.sims_per_operator_limit)
    for operator, value in cfg.sims_per_operator_limit_overrides.items():
        limit = F.when(F.col("recipient") == operator, F.lit(value)).otherwise(limit)
    return (F.col("entity_type") == "SIM") & (F.col("sims_same_operator") > limit) & _personal()


@rule(
    "SIMS_OVER_TOTAL_LIMIT",
    "The ID holds more SIMs across operators than the configured total",
    needs=("sims_total", "opened_corporate"),
)
def sims_over_total_limit(cfg: PolicyConfig) -> Column:
    return (F.col("sims_total") > F.lit(cfg.sims_total_limit)) & _personal()


@rule(
    "ID_STATUS_INVALID",
    "The registry reports the ID lost, expired, or its holder deceased",
    needs=("id_status_invalid",),
)
def id_status_invalid(cfg: PolicyConfig) -> Column:
    return F.col("id_status_invalid") == 1


@rule(
    "RESERVED_PHONE_OTHER_ID",
    "The account's reserved phone is registered to another ID",
    needs=("reserved_phone_other_id",),
)
def reserved_phone_other_id(cfg: PolicyConfig) -> Column:
    return F.col("reserved_phone_other_id") == 1


def _configured(cfg: PolicyConfig) -> list[str]:
    """Rule names reported or listing on, each once, in configuration order."""
    return list(dict.fromkeys((*cfg.rules, *cfg.list_on_rules)))


def rule_inputs(cfg: PolicyConfig) -> tuple[str, ...]:
    """Feature columns the configured rules read (their declared `needs`), in rule order."""
    return tuple(dict.fromkeys(c for n in _configured(cfg) for c in _RULES[n].needs))


def known_rules() -> set[str]:
    return set(_RULES)


def rules() -> dict[str, Rule]:
    return dict(_RULES)


def rule_hits(cfg: PolicyConfig, available: set[str]) -> Column:
    """array<string> of the configured rules that fire; a rule whose inputs are absent cannot fire."""
    names = _configured(cfg)
    hits = [
        F.when(F.coalesce(_RULES[n].fn(cfg), F.lit(False)), F.lit(n))
        for n in names
        if set(_RULES[n].needs) <= available
    ]
    if not hits:
        return F.array().cast("array<string>")
    return F.filter(F.array(*hits), lambda x: x.isNotNull())
