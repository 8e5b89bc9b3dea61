"""A world that keeps the contract but not the generator's own code formats loses no rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
from pyspark.sql import SparkSession

from realname_guard.config import load_config
from realname_guard.core.generator_config import GeneratorConfig
from realname_guard.generator.world import generate_world
from realname_guard.jobs.ingest import ingest

AS_OF = dt.date(2026, 6, 30)


def test_varied_code_formats_are_not_quarantined(spark: SparkSession, tmp_path: Path) -> None:
    gen = GeneratorConfig(persons=1_000, seed=5, chunk_persons=1_000, dirty_row_share=0.0, code_style="varied",
                          mvno_share=0.2)
    generate_world(tmp_path, gen, AS_OF)
    sims = pq.read_table(tmp_path / "input" / "sim_registrations").to_pandas()
    # The formats really are other senders' (a rule fitted to MVNO01 or ICBC would reject them).
    assert {"MVNO_170", "vno-162 Mobile"} <= set(sims["operator"])
    assert sims["outlet_id"].dropna().str.startswith("网点/").all()
    cfg = load_config(local_dir=None, overrides=[f"run.input={tmp_path / 'input'}", f"run.run_date={AS_OF}"])
    result = ingest(spark, cfg, b"k" * 32)
    for name, q in result.quality.items():
        # A 1,000-person world may hold no listed card seller: an empty table validates all the same.
        assert q.rows_in > 0 or name in ("labels", "disciplinary_list"), name
        assert q.rows_quarantined <= 0.005 * q.rows_in, (name, q.rows_quarantined, q.rows_in)
        assert q.rows_clean + q.rows_quarantined == q.rows_in
    for q in result.quality.values():
        q.unpersist()
