"""Policy rules: named, documented conditions that fire on a scored card.

A rule is a function ``fn(cfg, **params) -> Column`` of the scored frame's columns, registered
by name like a feature group and configured like one (``policy.rules``: a name, or a name and
``params`` that must fit the function). Rules do not score; they explain and, for those named in
``policy.list_on_rules``, list a card on their own. A listing that no rule supports rests on the
model alone and is marked for human review (PIPL Art. 24).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column
from pyspark.sql import functions as F

from realname_guard.core.config import PolicyConfig
from realname_guard.core.kinds import ACCOUNT, SIM

RuleFn = Callable[..., Column]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    fn: RuleFn
    needs: tuple[str, ...]  # columns the rule reads; without them it cannot fire


_RULES: dict[str, Rule] = {}


def rule(name: str, description: str, needs: tuple[str, ...] = ()) -> Callable[[RuleFn], RuleFn]:
    """Register a rule under `name`; its keyword parameters after `cfg` are its configurable params."""

    def register(fn: RuleFn) -> RuleFn:
        if name in _RULES and _RULES[name].fn is not fn:
            raise ValueError(f"rule {name!r} registered twice")
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
    "HOLDER_CONFIRMED",
    "The holder's misuse was confirmed (a PERSON label): this card is re-verified",
)
def holder_confirmed(cfg: PolicyConfig) -> Column:
    # Only when the card's own label does not confirm it (then CONFIRMED_MISUSE fires). Whether
    # the card has evidence of its own, and so is escalated, policy.lists decides.
    return F.col("holder_confirmed") & ~F.col("confirmed_misuse")


@rule(
    "SIMS_OVER_OPERATOR_LIMIT",
    "The ID holds more open SIMs at this operator than allowed (一证五户)",
    needs=("sims_over_operator_limit", "opened_corporate"),
)
def sims_over_operator_limit(cfg: PolicyConfig) -> Column:
    # The excess is counted over open SIMs by the feature group registration_limits, with the
    # policy's limit and its per-operator overrides: a cancelled number is no longer held.
    return (F.col("entity_type") == SIM.name) & (F.col("sims_over_operator_limit") > 0) & _personal()


@rule(
    "SIMS_OVER_TOTAL_LIMIT",
    "The ID holds more open SIMs across operators than the configured total",
    needs=("sims_over_total_limit", "opened_corporate"),
)
def sims_over_total_limit(cfg: PolicyConfig) -> Column:
    return (F.col("entity_type") == SIM.name) & (F.col("sims_over_total_limit") > 0) & _personal()


@rule(
    "CLASS_I_OVER_BANK_LIMIT",
    "The ID holds more open Class-I accounts at this bank than allowed (一人一行一类户)",
    needs=("class_i_over_bank_limit",),
)
def class_i_over_bank_limit(cfg: PolicyConfig) -> Column:
    return (F.col("entity_type") == ACCOUNT.name) & (F.col("class_i_over_bank_limit") > 0)


@rule(
    "DISCIPLINARY_LISTED",
    "Opened while its holder was on the 失信惩戒 list (a card seller found by the authorities)",
    needs=("opened_while_disciplined",),
)
def disciplinary_listed(cfg: PolicyConfig) -> Column:
    return F.col("opened_while_disciplined") == 1


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


def rule_params(name: str) -> list[str]:
    """The parameters a rule takes from config (keyword parameters after `cfg`)."""
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in list(inspect.signature(_RULES[name].fn).parameters.values())[1:] if p.kind in named]


def check_params(name: str, params: Mapping[str, Any]) -> None:
    """Fail, naming what the rule takes, if `params` holds a name its function does not accept."""
    accepted = rule_params(name)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        takes = ", ".join(accepted) or "no parameters"
        raise ValueError(f"rule {name!r} has no parameter {', '.join(unknown)}; it takes: {takes}")


def _configured(cfg: PolicyConfig) -> list[tuple[str, dict[str, Any]]]:
    """(name, params) of the rules reported or listing on, each once, in configuration order."""
    out = {spec.name: dict(spec.params) for spec in cfg.rules}
    for name in cfg.list_on_rules:
        out.setdefault(name, {})
    return list(out.items())


def rule_inputs(cfg: PolicyConfig) -> tuple[str, ...]:
    """Columns the configured rules read (their declared `needs`), in rule order."""
    return tuple(dict.fromkeys(c for n, _ in _configured(cfg) for c in _RULES[n].needs))


def known_rules() -> set[str]:
    return set(_RULES)


def rules() -> dict[str, Rule]:
    return dict(_RULES)


def rule_hits(cfg: PolicyConfig, available: set[str]) -> Column:
    """array<string> of the configured rules that fire; a rule whose inputs are absent cannot fire."""
    hits = [
        F.when(F.coalesce(_RULES[n].fn(cfg, **params), F.lit(False)), F.lit(n))
        for n, params in _configured(cfg)
        if set(_RULES[n].needs) <= available
    ]
    if not hits:
        return F.array().cast("array<string>")
    return F.filter(F.array(*hits), lambda x: x.isNotNull())
