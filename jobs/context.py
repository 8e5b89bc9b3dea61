"""What every job shares: config, the hash key, Spark, the publisher, and the run summary."""

from __future__ import annotations

import datetime as dt
import json
import logging
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import mlflow
import psutil
from pyspark.sql import DataFrame, SparkSession

from realname_guard.core.config import Config, ModelConfig
from realname_guard.core.io import AtomicPublisher, Fs
from realname_guard.core.kinds import model_inputs
from realname_guard.core.privacy import hash_key_from_env
from realname_guard.core.spark import StageProgress, get_spark
from realname_guard.core.tables import Tables
from realname_guard.features.registry import FeatureContext, output_families
from realname_guard.models.registry import ensure_experiment
from realname_guard.models.train import view_columns

log = logging.getLogger("realname_guard")

FEATURES = "features"  # the published feature table's dataset
PROGRESS_EVERY_S = 30.0  # a long stage says how far it has got this often


@dataclass
class JobContext:
    cfg: Config
    spark: SparkSession
    key: bytes
    publisher: AtomicPublisher
    summary: dict[str, Any] = field(default_factory=dict)
    _stage_no: int = 0

    @property
    def run_date(self) -> dt.date:
        return self.cfg.run_date

    @property
    def run_date_str(self) -> str:
        return self.cfg.run_date.isoformat()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time a stage, log its start and end, and record wall time and peak memory."""
        self._stage_no += 1
        log.info("[%d] %s: started", self._stage_no, name)
        # Name the stage's Spark jobs in the UI and event logs (profiling, progress on a cluster).
        group = f"stage-{self._stage_no}"
        self.spark.sparkContext.setJobGroup(group, f"realname-guard {name}")
        start = time.perf_counter()
        try:
            with StageProgress(self.spark, f"[{self._stage_no}] {name}", group, PROGRESS_EVERY_S):
                yield
        finally:
            seconds = round(time.perf_counter() - start, 2)
            timings = self.summary.setdefault("timings_s", {})
            timings[name] = seconds
            mem = self.summary.setdefault("peak_memory_mb", {})
            mem[name] = peak_memory_mb(self.spark)
            log.info("[%d] %s: done in %.1f s", self._stage_no, name, seconds)


def peak_memory_mb(spark: SparkSession) -> dict[str, float]:
    """Peak resident memory of this Python driver and current RSS of the local JVM, in MiB."""
    py_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    jvm_rss = 0.0
    try:
        jvm = spark.sparkContext._jvm
        assert jvm is not None
        pid = int(jvm.java.lang.ProcessHandle.current().pid())
        jvm_rss = psutil.Process(pid).memory_info().rss / 2**20
    except Exception:  # noqa: BLE001 - memory figures are informative only
        pass
    return {"python_peak": round(py_peak, 1), "jvm_rss": round(jvm_rss, 1)}


def open_context(cfg: Config) -> JobContext:
    """Check the key before Spark starts (fail fast), then start Spark and a publisher."""
    key = hash_key_from_env(cfg.run.hash_key_env)
    spark = get_spark(cfg.spark, cfg.run.timezone)
    publisher = AtomicPublisher(spark, cfg.output, cfg.run_date.isoformat())
    summary: dict[str, Any] = {
        "run_date": cfg.run_date.isoformat(),
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "input_root": cfg.run.input,
        "output_root": cfg.output,
        "spark": {"master": spark.sparkContext.master, "parallelism": spark.sparkContext.defaultParallelism},
    }
    return JobContext(cfg=cfg, spark=spark, key=key, publisher=publisher, summary=summary)


def start_tracking(ctx: JobContext) -> str:
    """Point MLflow at the configured store and make sure the experiment exists; return its id."""
    mlflow.set_tracking_uri(ctx.cfg.tracking_uri)
    return ensure_experiment(ctx.cfg.run.mlflow.experiment, ctx.cfg.artifact_root)


def resumed_line(resumed: list[dict[str, str]]) -> str:
    """What a resumed run (``run --resume``) took from the manifests of an earlier run."""
    stages = ", ".join(f"{r['stage']} (completed {r['finished_at']})" for r in resumed)
    return f"Resumed: {stages} came from the manifests of an earlier run of this date with the same inputs and " \
        "configuration."


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=False, default=str, ensure_ascii=False)


def feature_context(ctx: JobContext) -> FeatureContext:
    cfg = ctx.cfg
    return FeatureContext(
        as_of=ctx.run_date,
        activity_window_days=cfg.features.activity_window_days,
        sims_per_operator_limit=cfg.policy.sims_per_operator_limit,
        sims_per_operator_limit_overrides=dict(cfg.policy.sims_per_operator_limit_overrides),
        sims_total_limit=cfg.policy.sims_total_limit,
        accounts_class_i_per_bank_limit=cfg.policy.accounts_class_i_per_bank_limit,
    )


def read_features(ctx: JobContext) -> DataFrame:
    """The published feature table of this run date (for `train`/`score` run on their own)."""
    path = f"{ctx.cfg.output}/{FEATURES}/run_date={ctx.run_date_str}"
    if not Fs(ctx.spark, path).exists(path):
        raise FileNotFoundError(
            f"no features for run date {ctx.run_date_str} at {path}: run `realname-guard features` first"
        )
    return ctx.spark.read.parquet(path)


@dataclass
class RunState:
    """What one step hands the next within a run: the validated tables and the feature table."""

    ctx: JobContext
    ingested: Any = None  # jobs.ingest.IngestResult, once the inputs (or the labels) are read
    features: DataFrame | None = None

    @property
    def tables(self) -> Tables:
        if self.ingested is None:
            raise RuntimeError("no inputs read in this run (the validate step reads them)")
        return self.ingested.tables  # type: ignore[no-any-return]

    @property
    def labels(self) -> DataFrame | None:
        return self.tables.labels

    def feature_table(self) -> DataFrame:
        """This run's features, or the published ones of this run date (train or score alone)."""
        if self.features is None:
            self.features = read_features(self.ctx)
        return self.features


def model_views(cfg: ModelConfig, feature_cols: list[str]) -> dict[str, list[str]] | None:
    """The columns of each view of ``model.views`` among `feature_cols`, or None: one classifier."""
    if not cfg.views:
        return None
    return view_columns(feature_cols, output_families(), cfg.views, model_inputs())
