"""Ingest: read the contract tables, conform and normalise them, validate, quarantine, de-identify.

What leaves this module holds no raw ID number and no name: clean rows carry ``id_hash`` (keyed
HMAC-SHA256), ``id_masked`` and the attributes parsed from the ID; quarantined rows carry the
same hash and mask, their source file and the reasons, so an operator can find and fix them in
its own extract.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from realname_guard.core.config import Config
from realname_guard.core.contract import TABLES, TableContract
from realname_guard.core.identity import id_birth_date, id_gender, id_region, id_valid, normalise_id
from realname_guard.core.io import InputError, locate_table, read_contract_table
from realname_guard.core.names import normalise_name
from realname_guard.core.privacy import hmac_sha256, mask_id
from realname_guard.core.tables import Tables
from realname_guard.quality.validate import TableQuality, new_context, validate_table

log = logging.getLogger(__name__)



@dataclass
class IngestResult:
    tables: Tables
    quarantine: dict[str, DataFrame] = field(default_factory=dict)
    quality: dict[str, TableQuality] = field(default_factory=dict)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # per table: path, format, columns
    absent: dict[str, str] = field(default_factory=dict)  # optional tables not delivered
    ge_context: Any = None  # the Great Expectations context holding this run's results (Data Docs)

    own_cache: set[str] = field(default_factory=set)  # tables whose clean rows have their own cache

    def release_validation(self) -> None:
        """Fill the de-identified tables' caches, then drop the validation caches they are read from.

        Call once the quarantine has been written: from then on only the clean tables are read,
        and holding two copies of a table crowds the feature stage's own caches out of memory
        (onto disk). One count per such table; the features would fill these caches anyway. A
        table without ID numbers keeps its validation cache, which its clean rows are read from.
        """
        for name in sorted(self.own_cache):
            self.tables.get(TABLES[name].alias).count()
        for name in self.own_cache:
            self.quality[name].unpersist()


def normalise(df: DataFrame, contract: TableContract, run_date: dt.date | None = None) -> DataFrame:
    """Trim strings, normalise ID numbers, add ``_id_valid`` and ``_after_run_date`` flags.

    ``_after_run_date`` marks rows whose event time lies after the run date (an extract taken
    on the run date cannot hold them); it is false for every row when `run_date` is None.
    """
    string_cols = [f.name for f in contract.schema.fields if f.dataType.typeName() == "string"]
    out = df.select(*[F.trim(F.col(c)).alias(c) if c in string_cols else F.col(c) for c in df.columns])
    out = out.select(*[F.when(F.col(c) != "", F.col(c)).alias(c) if c in string_cols else F.col(c) for c in out.columns])
    if "id_number" in contract.columns:
        out = out.withColumn("id_number", normalise_id(F.col("id_number")))
        id_type = F.col("id_type") if "id_type" in contract.columns else F.lit("RESIDENT_ID")
        out = out.withColumn("_id_valid", id_valid(id_type, F.col("id_number")))
    event = contract.event_time
    if event is not None:
        after = F.lit(False) if run_date is None else F.to_date(F.col(event)) > F.lit(run_date)
        out = out.withColumn("_after_run_date", F.coalesce(after, F.lit(False)))
    if contract.name == "labels":
        out = out.withColumn(
            "entity_id",
            F.when(F.col("entity_type") == "PERSON", normalise_id(F.col("entity_id"))).otherwise(F.col("entity_id")),
        )
    return out


def carries_personal_ids(contract: TableContract) -> bool:
    """Whether :func:`deidentify` rewrites the table (ID numbers, names or person labels in it)."""
    return contract.name == "labels" or "id_number" in contract.columns


def deidentify(df: DataFrame, contract: TableContract, key: bytes, keep_name: bool) -> DataFrame:
    """Replace raw ID numbers and names: hash + mask + parsed attributes; normalised name if kept."""
    if contract.name == "labels":
        person = F.col("entity_type") == "PERSON"
        return df.withColumn("entity_id", F.when(person, hmac_sha256(F.col("entity_id"), key)).otherwise(F.col("entity_id")))
    if "id_number" not in contract.columns:
        return df
    idn = F.col("id_number")
    resident = F.col("id_type") == "RESIDENT_ID" if "id_type" in contract.columns else F.lit(True)
    cols: list[Any] = []
    for c in df.columns:
        if c == "id_number":
            cols += [
                hmac_sha256(idn, key).alias("id_hash"),
                mask_id(idn).alias("id_masked"),
                F.when(resident, id_birth_date(idn)).alias("id_birth_date"),
                F.when(resident, id_gender(idn)).alias("id_gender"),
                F.when(resident, id_region(idn)).alias("id_region"),
            ]
        elif c == contract.name_column:
            if keep_name:
                cols.append(normalise_name(F.col(c)).alias("name_norm"))
        else:
            cols.append(F.col(c))
    return df.select(*cols)


def ingest(spark: SparkSession, cfg: Config, key: bytes, only: tuple[str, ...] | None = None) -> IngestResult:
    """Read, validate and de-identify every contract table (or only the named ones)."""
    frames: dict[str, DataFrame | None] = {}
    result = IngestResult(tables=None)  # type: ignore[arg-type]
    result.ge_context = new_context()
    for name, contract in TABLES.items():
        if only is not None and name not in only:
            frames[name] = None
            continue
        located = locate_table(spark, cfg.run.input, name)
        if located is None:
            if contract.required and only is None:
                raise InputError(
                    f"required input table {name} not found under {cfg.run.input} "
                    f"(expected {name}/ with Parquet or CSV parts, or {name}.parquet / {name}.csv)"
                )
            result.absent[name] = "not delivered"
            frames[name] = None
            log.info("optional table %s not delivered", name)
            continue
        raw, report = read_contract_table(spark, located, contract, cfg.run.csv_encoding)
        result.inputs[name] = report
        specs = cfg.expectations.tables.get(name, ())
        # quarantine: later rows fail the `_after_run_date` expectation; cut: they are set aside
        # uncounted (a backfilled day did not know them); ignore: kept (features and decisions
        # still read only what their as-of date knew).
        mode = cfg.run.future_rows
        cutoff = cfg.run_date if mode in ("quarantine", "cut") else None
        quality = validate_table(
            normalise(raw, contract, cutoff), name, specs, result.ge_context, run_id=cfg.run_date.isoformat(),
            not_yet_known="_after_run_date" if mode == "cut" and contract.event_time is not None else None,
        )
        result.quality[name] = quality
        result.quarantine[name] = deidentify(quality.quarantine, contract, key, keep_name=False)
        clean = deidentify(
            quality.clean.drop("_source_file", "_cast_failures", "_id_valid", "_after_run_date"), contract, key, True
        )
        if carries_personal_ids(contract):
            # Hashing and name normalisation run once: every feature group reads these tables.
            clean = clean.persist(StorageLevel.MEMORY_AND_DISK)
            result.own_cache.add(name)
        # Else the clean rows are read straight from the validation cache (a filter): one copy.
        frames[name] = clean
        log.info(
            "table %s: %d rows in, %d clean, %d quarantined",
            name,
            quality.rows_in,
            quality.rows_clean,
            quality.rows_quarantined,
        )
    result.tables = Tables({TABLES[name].alias: frame for name, frame in frames.items()})
    return result
