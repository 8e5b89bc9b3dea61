"""Synthetic worlds: every input table of the contract plus ground truth, deterministic by seed."""

from __future__ import annotations

from typing import Any

__all__ = ["generate_world"]


def __getattr__(name: str) -> Any:
    # lazy, so that loading the config (core.generator_config) does not import numpy/pyarrow
    if name == "generate_world":
        from realname_guard.generator.world import generate_world

        return generate_world
    raise AttributeError(name)
