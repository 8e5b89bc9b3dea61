"""Spark features vs the DuckDB reference on the same clean Parquet: write, time, compare.

The clean tables are the frames ``jobs.ingest.ingest`` returns (validated, de-identified), written
once to Parquet so both engines start from the same files. ``name_norm`` is not written (names
never leave memory, CONTRACT.md); none of the compared groups reads it, and the Spark side gets it
back as a null column so ``features.common.holders`` still resolves.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path
from typing import Any

import duckdb
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from benchmarks import duckdb_features as ddf
from realname_guard.core.config import FeatureSpec
from realname_guard.core.tables import Tables
from realname_guard.features.assemble import FeatureSet, build_features
from realname_guard.features.registry import FeatureContext

CLEAN_TABLES = ("sims", "accounts", "activity", "transactions", "registry", "labels")
REL_TOL = 1e-9
ABS_TOL = 1e-12  # values that are zero on one side and round-off on the other


def write_clean_tables(spark: SparkSession, tables: Tables, out: Path, count: bool = True) -> dict[str, int]:
    """Write the clean tables to ``out/<name>/`` as Parquet (timestamps as UTC micros); return row counts."""
    previous = spark.conf.get("spark.sql.parquet.outputTimestampType")
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    rows: dict[str, int] = {}
    try:
        for name in CLEAN_TABLES:
            df = getattr(tables, name)
            if df is None:
                continue
            if "name_norm" in df.columns:
                df = df.drop("name_norm")
            df.write.mode("overwrite").parquet(str(out / name))
            if count:
                rows[name] = spark.read.parquet(str(out / name)).count()
    finally:
        spark.conf.set("spark.sql.parquet.outputTimestampType", previous or "INT96")
    return rows


def read_clean_tables(spark: SparkSession, root: Path) -> Tables:
    """The clean tables as Spark frames, ``name_norm`` restored as nulls where ingest had it."""
    frames: dict[str, DataFrame | None] = {}
    for name in CLEAN_TABLES:
        path = root / name
        if not path.exists():
            frames[name] = None
            continue
        df = spark.read.parquet(str(path))
        if name in ("sims", "accounts", "registry"):
            df = df.withColumn("name_norm", F.lit(None).cast("string"))
        frames[name] = df
    return Tables(**frames)  # type: ignore[arg-type]


def clean_paths(root: Path) -> dict[str, Path]:
    return {name: root / name for name in ddf.TABLES}


def spark_feature_set(tables: Tables, as_of: dt.date, window_days: int = 30) -> FeatureSet:
    ctx = FeatureContext(as_of=as_of, activity_window_days=window_days)
    return build_features(tables, ctx, tuple(FeatureSpec(name=g) for g in ddf.GROUPS))


def time_spark(spark: SparkSession, clean: Path, out: Path, as_of: dt.date, window_days: int = 30) -> dict[str, Any]:
    """Spark's ``build_features`` for the reference groups + a Parquet write, from the clean Parquet."""
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    fs = spark_feature_set(read_clean_tables(spark, clean), as_of, window_days)
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    fs.frame.write.mode("overwrite").parquet(str(out))
    seconds = time.perf_counter() - t0
    fs.release()  # drop the derived frames build_features cached
    return {"seconds": round(seconds, 2), "columns": list(fs.columns)}


def time_duckdb(clean: Path, out: Path, as_of: dt.date, window_days: int = 30, threads: int = 2) -> dict[str, Any]:
    """The DuckDB SQL + a Parquet write, from the same clean Parquet, on `threads` threads."""
    if out.exists():
        out.unlink()
    t0 = time.perf_counter()
    con = ddf.connect(threads)
    sql = ddf.build(con, clean_paths(clean), as_of, window_days)
    rows = ddf.write_features(con, sql, out)
    seconds = time.perf_counter() - t0
    con.close()
    return {"seconds": round(seconds, 2), "rows": rows}


def compare(spark_out: Path, duck_out: Path, columns: list[str]) -> dict[str, Any]:
    """Join both outputs on (entity_type, entity_id) and count mismatches per column.

    Numbers match within ``REL_TOL`` relative (or ``ABS_TOL`` absolute); nulls match nulls only.
    Entity columns must be equal exactly (timestamps compared as local wall time).
    """
    con = ddf.connect(2)
    sp = f"read_parquet('{spark_out.as_posix()}/*.parquet')"
    dk = f"read_parquet('{duck_out.as_posix()}')"
    con.execute(f"CREATE TEMP VIEW sp AS SELECT * REPLACE (CAST(opened_at AS TIMESTAMP) AS opened_at) FROM {sp}")
    con.execute(f"CREATE TEMP VIEW dk AS SELECT * FROM {dk}")
    counts = con.execute(
        "SELECT (SELECT count(*) FROM sp), (SELECT count(*) FROM dk),"
        " (SELECT count(*) FROM sp ANTI JOIN dk USING (entity_type, entity_id)),"
        " (SELECT count(*) FROM dk ANTI JOIN sp USING (entity_type, entity_id)),"
        " (SELECT count(*) - count(DISTINCT (entity_type, entity_id)) FROM sp)"
    ).fetchone()
    assert counts is not None
    exact = [c for c in ddf.ENTITY_COLUMNS if c not in ("entity_type", "entity_id")]
    checks = [f'sum(CASE WHEN s."{c}" IS NOT DISTINCT FROM d."{c}" THEN 0 ELSE 1 END) AS "{c}"' for c in exact]
    for c in columns:
        a, b = f's."{c}"', f'd."{c}"'
        same = (f"({a} IS NULL AND {b} IS NULL) OR ({a} IS NOT NULL AND {b} IS NOT NULL AND "
                f"abs({a} - {b}) <= greatest({REL_TOL} * greatest(abs({a}), abs({b})), {ABS_TOL}))")
        checks.append(f'sum(CASE WHEN {same} THEN 0 ELSE 1 END) AS "{c}"')
    rel = con.execute(
        f"SELECT {', '.join(checks)} FROM sp s JOIN dk d USING (entity_type, entity_id)"
    )
    names = [d[0] for d in rel.description]
    row = rel.fetchone()
    assert row is not None
    by_column = {n: int(v or 0) for n, v in zip(names, row, strict=True)}
    examples: dict[str, list[Any]] = {}
    for c, n in by_column.items():
        if n and c in columns:
            examples[c] = con.execute(
                f'SELECT entity_type, entity_id, s."{c}", d."{c}" FROM sp s JOIN dk d USING (entity_type, entity_id) '
                f'WHERE NOT (coalesce(abs(s."{c}" - d."{c}") <= greatest({REL_TOL} * greatest(abs(s."{c}"), '
                f'abs(d."{c}")), {ABS_TOL}), s."{c}" IS NULL AND d."{c}" IS NULL)) LIMIT 3'
            ).fetchall()
    con.close()
    mismatches = {c: n for c, n in by_column.items() if n}
    return {
        "rows_spark": counts[0],
        "rows_duckdb": counts[1],
        "only_in_spark": counts[2],
        "only_in_duckdb": counts[3],
        "duplicate_keys_spark": counts[4],
        "columns_compared": len(by_column),
        "mismatches_by_column": mismatches,
        "examples": {c: [list(map(str, r)) for r in rows] for c, rows in examples.items()},
        "equal": not mismatches and counts[0] == counts[1] and counts[2] == 0 and counts[3] == 0,
    }


def duck_query_plan(clean: Path, as_of: dt.date, window_days: int = 30) -> str:
    """EXPLAIN of the DuckDB query (for the results file's appendix)."""
    con: duckdb.DuckDBPyConnection = ddf.connect(2)
    sql = ddf.build(con, clean_paths(clean), as_of, window_days)
    plan = "\n".join(str(r[1]) for r in con.execute(f"EXPLAIN {sql}").fetchall())
    con.close()
    return plan
