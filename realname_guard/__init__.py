"""realname-guard: find SIM cards and bank accounts that are real-name but not real person (实名不实人).

The public API is small; everything else is internal and may change::

    import realname_guard as rg

    cfg = rg.load_config(overrides=["run.input=extracts/2026-06-30", "run.output=out",
                                    "run.run_date=2026-06-30"])
    summary = rg.run_pipeline(cfg, rg.RUN)          # validate -> features -> train -> score

    @rg.feature("my_group", level="card", needs=("sims",), outputs={"my_col": rg.Output("...")})
    def my_group(tables, ctx): ...

    @rg.rule("MY_RULE", "what it means in words", needs=("my_col",))
    def my_rule(cfg): ...

Names resolve on first use, so importing a submodule does not start Spark or load MLflow.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_API = {
    "load_config": "realname_guard.config",
    "Config": "realname_guard.core.config",
    "ConfigError": "realname_guard.core.config",
    "run_pipeline": "realname_guard.pipelines.daily",
    "STEPS": "realname_guard.pipelines.daily",
    "RUN": "realname_guard.pipelines.daily",
    "feature": "realname_guard.features.registry",
    "Output": "realname_guard.features.registry",
    "FeatureContext": "realname_guard.features.registry",
    "rule": "realname_guard.policy.rules",
    "CardKind": "realname_guard.core.kinds",
    "register_kind": "realname_guard.core.kinds",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'realname_guard' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
