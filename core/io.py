"""Reading the contract's tables and publishing outputs atomically.

File-system calls go through Hadoop's FileSystem API on the JVM, so the same code handles local
paths, HDFS and object stores under spark-submit. Publishing writes into a hidden staging folder
(``_staging-*``: ignored by Spark, pyarrow and DuckDB) and renames it into place, so a run date's
folder appears complete or not at all.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from realname_guard.core.contract import TableContract

log = logging.getLogger(__name__)


class InputError(ValueError):
    """An input table is missing, unreadable, or lacks a required column."""


# Columns the contract documents as nullable: when a delivery lacks one it is filled with nulls
# and reported; every other contract column must be present.
OPTIONAL_COLUMNS: dict[str, frozenset[str]] = {
    "sim_registrations": frozenset({"outlet_id", "cancel_time"}),
    "bank_accounts": frozenset({"branch_id", "reserved_msisdn", "open_device_id", "close_time"}),
    "sim_activity": frozenset({"imei", "roam_country"}),
    "bank_transactions": frozenset({"counterparty_account", "device_id", "ip_region"}),
    "id_registry": frozenset(),
    "disciplinary_list": frozenset({"basis", "source"}),
    "labels": frozenset(),
}


class Fs:
    """Thin wrapper over org.apache.hadoop.fs.FileSystem for one path's file system."""

    def __init__(self, spark: SparkSession, path: str) -> None:
        jvm = spark.sparkContext._jvm
        assert jvm is not None, "needs a driver-side SparkContext"
        self._jvm = jvm
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()  # type: ignore[attr-defined]
        self._fs = jvm.org.apache.hadoop.fs.Path(path).getFileSystem(self._conf)

    def _p(self, path: str) -> Any:
        return self._jvm.org.apache.hadoop.fs.Path(path)

    def exists(self, path: str) -> bool:
        return bool(self._fs.exists(self._p(path)))

    def is_dir(self, path: str) -> bool:
        return self.exists(path) and bool(self._fs.getFileStatus(self._p(path)).isDirectory())

    def list(self, path: str) -> list[str]:
        """Names (not paths) of the entries directly under `path`; [] if it does not exist."""
        if not self.exists(path):
            return []
        return sorted(str(s.getPath().getName()) for s in self._fs.listStatus(self._p(path)))

    def files(self, path: str) -> Sequence[tuple[str, int, int]]:
        """Every file under `path`, recursively: (path, size in bytes, modification time in ms)."""
        if not self.exists(path):
            return []
        out = []
        found = self._fs.listFiles(self._p(path), True)
        while found.hasNext():
            status = found.next()
            out.append((str(status.getPath().toUri().getPath()), int(status.getLen()), int(status.getModificationTime())))
        return out

    def delete(self, path: str) -> None:
        if self.exists(path):
            self._fs.delete(self._p(path), True)

    def rename(self, src: str, dst: str) -> None:
        parent = self._p(dst).getParent()
        if parent is not None and not self._fs.exists(parent):
            self._fs.mkdirs(parent)
        if not self._fs.rename(self._p(src), self._p(dst)):
            raise OSError(f"could not rename {src} to {dst}")

    def copy_from_local(self, local_dir: str, dst: str) -> None:
        self._fs.copyFromLocalFile(False, True, self._p("file://" + local_dir), self._p(dst))

    def read_text(self, path: str) -> str:
        stream = self._fs.open(self._p(path))
        try:
            reader = self._jvm.java.io.BufferedReader(self._jvm.java.io.InputStreamReader(stream, "UTF-8"))
            lines = []
            line = reader.readLine()
            while line is not None:
                lines.append(line)
                line = reader.readLine()
            return "\n".join(lines)
        finally:
            stream.close()

    def write_text(self, path: str, text: str) -> None:
        out = self._fs.create(self._p(path), True)
        try:
            out.write(bytearray(text.encode("utf-8")))
        finally:
            out.close()


@dataclass(frozen=True)
class Located:
    path: str
    fmt: str  # "parquet" | "csv"


def locate_table(spark: SparkSession, root: str, table: str) -> Located | None:
    """Find `<root>/<table>/` (Parquet or CSV parts) or `<root>/<table>.parquet|.csv`."""
    fs = Fs(spark, root)
    base = f"{root.rstrip('/')}/{table}"
    for ext in ("parquet", "csv"):
        if fs.exists(f"{base}.{ext}"):
            return Located(f"{base}.{ext}", ext)
    if fs.is_dir(base):
        names = [n for n in fs.list(base) if not n.startswith(("_", "."))]
        if any(n.endswith(".parquet") for n in names):
            return Located(base, "parquet")
        if any(n.endswith(".csv") or n.endswith(".csv.gz") for n in names):
            return Located(base, "csv")
        if names:
            return Located(base, "parquet")  # Spark-written parts without an extension
        raise InputError(f"input table {table}: folder {base} holds no Parquet or CSV parts")
    return None


def read_contract_table(
    spark: SparkSession, located: Located, contract: TableContract, csv_encoding: str
) -> tuple[DataFrame, dict[str, Any]]:
    """Read one table and conform it to the contract.

    Every contract column is cast with ``try_cast`` so one bad value cannot crash the run: a
    non-empty value that does not fit its type becomes null and its column is named in
    ``_cast_failures`` (the quality suite quarantines such rows). Returns the frame and a report
    of extra (dropped) and absent optional columns.
    """
    if located.fmt == "csv":
        raw = (
            spark.read.option("header", "true")
            .option("encoding", csv_encoding)
            .option("inferSchema", "false")
            .option("mode", "PERMISSIVE")
            .csv(located.path)
        )
    else:
        raw = spark.read.parquet(located.path)
    delivered = {c.lower(): c for c in raw.columns}
    optional = OPTIONAL_COLUMNS.get(contract.name, frozenset())
    missing = [c for c in contract.columns if c not in delivered and c not in optional]
    if missing:
        raise InputError(
            f"input table {contract.name} ({located.path}) lacks required column(s): {', '.join(missing)}; "
            f"it has: {', '.join(raw.columns)}"
        )
    extra = sorted(set(raw.columns) - {delivered[c] for c in contract.columns if c in delivered})
    absent_optional = sorted(c for c in contract.columns if c not in delivered)
    cols = []
    failures = []
    for field in contract.schema.fields:
        if field.name not in delivered:
            cols.append(F.lit(None).cast(field.dataType).alias(field.name))
            continue
        src = F.col(f"`{delivered[field.name]}`")
        if raw.schema[delivered[field.name]].dataType == field.dataType:
            cols.append(src.alias(field.name))
            continue
        as_text = F.trim(src.cast("string"))
        if field.dataType.typeName() == "boolean":
            lowered = F.lower(as_text)
            typed = (
                F.when(lowered.isin("true", "t", "1", "y", "yes"), F.lit(True))
                .when(lowered.isin("false", "f", "0", "n", "no"), F.lit(False))
                .otherwise(F.lit(None).cast("boolean"))
            )
        else:
            typed = F.when(as_text != "", as_text).try_cast(field.dataType)
        cols.append(typed.alias(field.name))
        failures.append(F.when(as_text.isNotNull() & (as_text != "") & typed.isNull(), F.lit(field.name)))
    cast_failures = F.concat_ws(",", *failures) if failures else F.lit("")
    df = raw.select(*cols, F.input_file_name().alias("_source_file"), cast_failures.alias("_cast_failures"))
    df = df.withColumn("_cast_failures", F.when(F.col("_cast_failures") != "", F.col("_cast_failures")))
    report = {"path": located.path, "format": located.fmt, "extra_columns": extra, "absent_columns": absent_optional}
    if extra:
        log.warning("input table %s: ignoring extra column(s) %s", contract.name, ", ".join(extra))
    if absent_optional:
        log.warning("input table %s: absent nullable column(s) %s filled with nulls", contract.name, absent_optional)
    return df, report


class AtomicPublisher:
    """Stage several datasets, then swap them all into `<output>/<name>/run_date=D` at once."""

    def __init__(self, spark: SparkSession, output_root: str, run_date: str) -> None:
        self.spark = spark
        self.root = output_root.rstrip("/")
        self.run_date = run_date
        self.token = uuid.uuid4().hex[:12]
        self.fs = Fs(spark, self.root)
        self._staged: list[str] = []

    def final_path(self, name: str) -> str:
        return f"{self.root}/{name}/run_date={self.run_date}"

    def staging_path(self, name: str) -> str:
        return f"{self.root}/{name}/_staging-run_date={self.run_date}-{self.token}"

    def _mark(self, name: str) -> None:
        """Count `name` as staged before anything is written: a write that fails half-way (a full
        disk) leaves a partial folder, which `abort` must remove too."""
        if name not in self._staged:
            self._staged.append(name)

    def stage(self, name: str, df: DataFrame, partition_by: tuple[str, ...] = (), subpath: str = "") -> str:
        """Write `df` as Parquet into the staging folder of dataset `name` (optionally a sub-folder)."""
        path = self.staging_path(name) + (f"/{subpath}" if subpath else "")
        self._mark(name)
        writer = df.write.mode("overwrite")
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        writer.parquet(path)
        return path

    def stage_csv(
        self, name: str, df: DataFrame, partition_by: str, filename: str, order_by: tuple[Any, ...] = ()
    ) -> list[str]:
        """Write `df` as one CSV per value of `partition_by`: ``<name>/run_date=D/<col>=<value>/<filename>``,
        UTF-8 with a byte-order mark (so that Excel reads the Chinese text), a header, nulls empty.

        The columns must be flat (no arrays or structs). The rows of one value go to one task, so
        each folder holds one file, renamed to `filename`. Returns the folders written.
        """
        staging = self.staging_path(name)
        scratch = f"{staging}/_csv-{filename}"
        self._mark(name)
        first = next(c for c in df.columns if c != partition_by)
        # The mark leads the header line: the first column's name carries it.
        marked = df.withColumnRenamed(first, "\ufeff" + first)
        (
            marked.repartition(partition_by)
            .sortWithinPartitions(partition_by, *order_by)
            .write.mode("overwrite")
            .partitionBy(partition_by)
            .option("header", True)
            .option("encoding", "UTF-8")
            .csv(scratch)
        )
        folders = [f for f in self.fs.list(scratch) if f.startswith(f"{partition_by}=")]
        for folder in folders:
            parts = [n for n in self.fs.list(f"{scratch}/{folder}") if n.startswith("part-") and n.endswith(".csv")]
            if len(parts) != 1:
                raise OSError(f"expected one CSV part in {scratch}/{folder}, found {len(parts)}")
            self.fs.rename(f"{scratch}/{folder}/{parts[0]}", f"{staging}/{folder}/{filename}")
        self.fs.delete(scratch)
        return folders

    def stage_local_dir(self, name: str, local_dir: str, subpath: str) -> None:
        """Copy a local folder (e.g. rendered Data Docs) into dataset `name`'s staging folder."""
        self._mark(name)
        self.fs.copy_from_local(local_dir, f"{self.staging_path(name)}/{subpath}")

    def stage_text(self, name: str, filename: str, text: str) -> None:
        """Stage a small text file (a report) as `<name>/run_date=D/<filename>`."""
        self._mark(name)
        self.fs.write_text(f"{self.staging_path(name)}/{filename}", text)

    def commit(self) -> dict[str, str]:
        """Swap every staged dataset into place; the old run-date folder is removed after."""
        done = {}
        for name in self._staged:
            final, staging = self.final_path(name), self.staging_path(name)
            trash = f"{self.root}/{name}/_trash-run_date={self.run_date}-{self.token}"
            if self.fs.exists(final):
                self.fs.rename(final, trash)
            self.fs.rename(staging, final)
            self.fs.delete(trash)
            self._sweep(name)
            done[name] = final
        self._staged.clear()
        return done

    def _sweep(self, name: str) -> None:
        """Remove what a killed run of this date left in dataset `name` (kill -9 skips `abort`):
        its staging and trash folders. Only one run of a date writes to an output at a time."""
        prefixes = (f"_staging-run_date={self.run_date}-", f"_trash-run_date={self.run_date}-")
        for left in self.fs.list(f"{self.root}/{name}"):
            if left.startswith(prefixes):
                log.info("removing %s/%s, left by an interrupted run", name, left)
                self.fs.delete(f"{self.root}/{name}/{left}")

    def abort(self) -> None:
        """Remove whatever was staged (called when the run fails before commit)."""
        for name in self._staged:
            self.fs.delete(self.staging_path(name))
        self._staged.clear()


def prior_run_dates(spark: SparkSession, dataset_path: str, before: str) -> list[str]:
    """Run dates (YYYY-MM-DD) of committed partitions of a dataset earlier than `before`."""
    fs = Fs(spark, dataset_path)
    dates = [n.split("=", 1)[1] for n in fs.list(dataset_path) if n.startswith("run_date=")]
    return sorted(d for d in dates if d < before)
