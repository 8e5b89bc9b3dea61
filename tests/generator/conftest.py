"""One small generated world shared by the generator tests (generated once per session)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from realname_guard.core.generator_config import GeneratorConfig
from realname_guard.generator.world import generate_world

AS_OF = dt.date(2026, 6, 30)
CFG = GeneratorConfig(persons=2_000, seed=12, chunk_persons=1_000)


@dataclass
class World:
    root: Path
    summary: dict[str, Any]
    cfg: GeneratorConfig

    def table(self, name: str) -> pd.DataFrame:
        return pq.read_table(self.root / "input" / name).to_pandas()

    def truth(self, name: str) -> pd.DataFrame:
        return pq.read_table(self.root / "truth" / name).to_pandas()


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("world")
    summary = generate_world(root, CFG, AS_OF)
    return World(root, summary, CFG)
