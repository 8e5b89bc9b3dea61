"""Validate one ingested table with Great Expectations and split it into clean and quarantine.

GE gives the per-expectation counts (run summary, Data Docs); the same specs, as Spark row
predicates (:mod:`quality.expectations`), decide which rows are quarantined and why. GE is
asked for counts only: no unexpected values, because ID numbers and names are personal data
and must not reach results, Data Docs or logs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import great_expectations as gx
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context import AbstractDataContext
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.datasource.fluent import SparkDatasource
from pyspark import StorageLevel
from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import MapType, StructType, VariantType

from realname_guard.core.config import ExpectationSpec
from realname_guard.quality.expectations import (
    UNIQUE,
    ExpectationConfigError,
    build_expectation,
    reason_text,
    reject_condition,
)

logger = logging.getLogger(__name__)

REASONS = "_reasons"
DATASOURCE = "realname_guard"
BATCH_DEFINITION = "whole_dataframe"
# Counts and percentages only: no partial_unexpected_list, no index lists, no unexpected rows.
RESULT_FORMAT: dict[str, Any] = {
    "result_format": "BASIC",
    "partial_unexpected_count": 0,
    "exclude_unexpected_values": True,
    "include_unexpected_rows": False,
    "return_unexpected_index_query": False,
}
_NUMERIC_RESULT_KEYS = ("element_count", "unexpected_count", "unexpected_percent", "missing_count")


class ValidationRunError(RuntimeError):
    """GE could not evaluate an expectation (not a data failure: a bug or a bad spec)."""


@dataclass
class TableQuality:
    """What validating one table produced: the split, the counts and GE's per-expectation results.

    ``clean`` and ``quarantine`` read from one cached DataFrame; call :meth:`unpersist` once
    both have been written or consumed.
    """

    table: str
    clean: DataFrame
    quarantine: DataFrame
    rows_in: int
    rows_clean: int
    rows_quarantined: int
    reason_counts: dict[str, int]
    expectations: list[dict[str, Any]]
    ge_success: bool
    rows_not_yet_known: int = 0  # dated after the run date and set aside (run.future_rows: cut)
    _cached: DataFrame | None = field(default=None, repr=False)

    @property
    def bad_row_share(self) -> float:
        return self.rows_quarantined / self.rows_in if self.rows_in else 0.0

    @property
    def failed_table_expectations(self) -> list[dict[str, Any]]:
        return [e for e in self.expectations if e["level"] == "table" and not e["success"]]

    def summary(self) -> dict[str, Any]:
        """JSON-ready counts and results for the run summary (no data values)."""
        return {
            "table": self.table,
            "rows_in": self.rows_in,
            "rows_clean": self.rows_clean,
            "rows_quarantined": self.rows_quarantined,
            "bad_row_share": self.bad_row_share,
            "rows_not_yet_known": self.rows_not_yet_known,
            "reasons": dict(self.reason_counts),
            "ge_success": self.ge_success,
            "expectations": [dict(e) for e in self.expectations],
        }

    def unpersist(self) -> None:
        if self._cached is not None:
            self._cached.unpersist()
            self._cached = None


def new_context() -> AbstractDataContext:
    """An ephemeral, in-memory GE context for one run: no analytics, no progress bars.

    No temporary ``local_site`` is created; :func:`quality.docs.build_data_docs` adds its own.
    """
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _orderable(df: DataFrame) -> list[str]:
    """Columns Spark can sort on (all contract columns are; maps and variants are not)."""
    return [
        f.name
        for f in df.schema.fields
        if not isinstance(f.dataType, MapType | VariantType | StructType) and f.name != REASONS
    ]


def _check_specs_against(df: DataFrame, table: str, specs: Sequence[ExpectationSpec]) -> None:
    """Columns and row conditions must resolve on the delivered table: fail naming them."""
    for spec in specs:
        if spec.column is not None and spec.column not in df.columns:
            raise ExpectationConfigError(
                f"table {table!r}: expectation {spec.type!r} names column {spec.column!r}, "
                f"which the table does not have"
            )
        if spec.row_condition:
            try:
                df.select(F.expr(spec.row_condition).alias("c"))  # analysed eagerly, no job
            except AnalysisException as exc:
                raise ExpectationConfigError(
                    f"table {table!r}: row_condition {spec.row_condition!r} of {spec.type!r} "
                    f"does not resolve: {exc.getMessage()}"
                ) from None


def annotate(df: DataFrame, table: str, specs: Sequence[ExpectationSpec]) -> DataFrame:
    """``df`` plus ``_reasons array<string>``: every reason a row is rejected, in spec order.

    Of rows sharing a unique key the one kept is the one failing the fewest non-unique specs,
    then the first by all its columns ascending (nulls first): deterministic across reruns.
    """
    row_specs = [s for s in specs if s.level == "row"]
    others = [s for s in row_specs if s.type != UNIQUE]
    n_other = "__n_other_reasons"
    other_flags = [
        F.when(reject_condition(s, table, ()), F.lit(1)).otherwise(F.lit(0)) for s in others
    ]
    staged = df.withColumn(n_other, sum(other_flags, F.lit(0)) if other_flags else F.lit(0))
    order_by: list[Column] = [F.col(n_other).asc()] + [
        F.col(c).asc_nulls_first() for c in _orderable(df)
    ]
    flags = [F.when(reject_condition(s, table, order_by), F.lit(reason_text(s))) for s in row_specs]
    reasons = (
        F.array_distinct(F.array_compact(F.array(*flags)))
        if flags
        else F.array().cast("array<string>")
    )
    return staged.withColumn(REASONS, reasons).drop(n_other)


def _register(
    context: AbstractDataContext, table: str, specs: Sequence[ExpectationSpec]
) -> gx.ValidationDefinition:
    """Suite, asset and validation definition for ``table`` (replacing earlier ones)."""
    source: SparkDatasource
    if DATASOURCE in context.data_sources.all():
        source = cast(SparkDatasource, context.data_sources.get(DATASOURCE))
    else:
        # persist=False: we cache the frame ourselves; GE's own persist is never released.
        source = context.data_sources.add_spark(name=DATASOURCE, persist=False)
    if table in source.get_asset_names():
        asset = source.get_asset(table)
    else:
        asset = source.add_dataframe_asset(name=table)
    if any(b.name == BATCH_DEFINITION for b in asset.batch_definitions):
        batch_definition = asset.get_batch_definition(BATCH_DEFINITION)
    else:
        batch_definition = asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)

    suite = gx.ExpectationSuite(name=table, meta={"table": table})
    for index, spec in enumerate(specs):
        expectation = build_expectation(spec, table)
        expectation.meta = {**(expectation.meta or {}), "spec_index": index}
        suite.add_expectation(expectation)
    suite = context.suites.add_or_update(suite)

    definition = gx.ValidationDefinition(name=table, data=batch_definition, suite=suite)
    return context.validation_definitions.add_or_update(definition)


def _result_dicts(
    table: str, specs: Sequence[ExpectationSpec], results: Any
) -> list[dict[str, Any]]:
    """GE's per-expectation results as plain dicts, in spec order; raise if GE errored."""
    out: list[dict[str, Any] | None] = [None] * len(specs)
    for result in results.results:
        config = result.expectation_config
        index = int((config.meta or {}).get("spec_index", -1))
        spec = specs[index]
        info = result.exception_info or {}
        errors = [info] if "raised_exception" in info else list(info.values())
        for err in errors:
            if isinstance(err, dict) and err.get("raised_exception"):
                raise ValidationRunError(
                    f"table {table!r}: GE could not evaluate {spec.type!r}"
                    f"{f' on {spec.column!r}' if spec.column else ''}: {err.get('exception_message')}"
                )
        body = result.result or {}
        entry: dict[str, Any] = {
            "type": spec.type,
            "column": spec.column,
            "level": spec.level,
            "row_condition": spec.row_condition,
            "reason": reason_text(spec),
            "success": bool(result.success),
        }
        for key in _NUMERIC_RESULT_KEYS:
            entry[key] = body.get(key)
        observed = body.get("observed_value")
        # Numbers only (e.g. a row count): an observed value could otherwise be a data value.
        entry["observed_value"] = (
            observed if isinstance(observed, int | float) and not isinstance(observed, bool) else None
        )
        out[index] = entry
    missing = [specs[i].type for i, e in enumerate(out) if e is None]
    if missing:
        raise ValidationRunError(f"table {table!r}: GE returned no result for {missing}")
    return [e for e in out if e is not None]


def validate_table(
    df: DataFrame,
    table_name: str,
    specs: Sequence[ExpectationSpec],
    context: AbstractDataContext,
    *,
    run_id: str | None = None,
    not_yet_known: str | None = None,
) -> TableQuality:
    """Run the table's GE suite and split its rows into clean and quarantine (with reasons).

    Rows whose boolean column `not_yet_known` is true (dated after the run date, in a backfill)
    are set aside first: they are neither validated nor counted in, only counted apart, so that
    rows in = clean + quarantined holds for the rows the run date knows.
    The annotated frame is cached once and serves GE's metric jobs, the counts and the two
    outputs; counts are Spark aggregates (one small row is collected).
    """
    specs = tuple(specs)
    _check_specs_against(df, table_name, specs)
    definition = _register(context, table_name, specs)

    cached = annotate(df, table_name, specs).persist(StorageLevel.MEMORY_AND_DISK)
    later = F.lit(False) if not_yet_known is None else F.coalesce(F.col(not_yet_known), F.lit(False))
    known = ~later
    reasons = list(dict.fromkeys(reason_text(s) for s in specs if s.level == "row"))
    bad = F.size(REASONS) > 0
    aggs = [F.count_if(known).alias("rows_in"), F.count_if(bad & known).alias("rows_quarantined"),
            F.count_if(later).alias("rows_later")]
    aggs += [F.count_if(F.array_contains(REASONS, r) & known).alias(f"r{i}") for i, r in enumerate(reasons)]
    counts = cached.agg(*aggs).first()
    assert counts is not None
    rows_in, rows_bad = int(counts["rows_in"]), int(counts["rows_quarantined"])
    reason_counts = {r: int(counts[f"r{i}"]) for i, r in enumerate(reasons)}
    annotated = cached if not_yet_known is None else cached.filter(known)

    ge_run_id = RunIdentifier(run_name=run_id) if run_id else None
    results = definition.run(
        batch_parameters={"dataframe": annotated.drop(REASONS)},
        result_format=RESULT_FORMAT,
        run_id=ge_run_id,
    )
    expectations = _result_dicts(table_name, specs, results)

    quality = TableQuality(
        table=table_name,
        clean=annotated.filter(~bad).drop(REASONS),
        quarantine=annotated.filter(bad),
        rows_in=rows_in,
        rows_clean=rows_in - rows_bad,
        rows_quarantined=rows_bad,
        reason_counts=reason_counts,
        expectations=expectations,
        ge_success=bool(results.success),
        rows_not_yet_known=int(counts["rows_later"]),
        _cached=cached,
    )
    logger.info(
        "quality %s: %d rows in, %d quarantined (%.2f%%); GE suite %s",
        table_name,
        rows_in,
        rows_bad,
        100 * quality.bad_row_share,
        "passed" if quality.ge_success else "failed",
    )
    for reason, count in reason_counts.items():
        if count:
            logger.info("quality %s: %d rows: %s", table_name, count, reason)
    if quality.rows_not_yet_known:
        logger.info("quality %s: %d rows dated after the run date set aside (not yet known)",
                    table_name, quality.rows_not_yet_known)
    return quality
