"""The data-quality gate: stop the run when a table is too broken to score on.

A table fails when its quarantined share exceeds ``max_bad_row_share`` (or the table's entry
in ``max_bad_row_share_per_table``), or when one of its ``level: table`` expectations fails
(e.g. a required table arrived empty). One error names every failing table.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from realname_guard.core.config import QualityConfig
from realname_guard.quality.validate import TableQuality

logger = logging.getLogger(__name__)

TOP_REASONS = 3


class DataQualityError(RuntimeError):
    """At least one table failed the quality gate; the message names table, share and reasons."""


def threshold_for(table: str, config: QualityConfig) -> float:
    """The bad-row share a table may reach: its own override or the global one."""
    return config.max_bad_row_share_per_table.get(table, config.max_bad_row_share)


def _top_reasons(quality: TableQuality, k: int = TOP_REASONS) -> str:
    ranked = sorted(
        ((n, r) for r, n in quality.reason_counts.items() if n), key=lambda item: (-item[0], item[1])
    )
    return "; ".join(f"{r} ({n})" for n, r in ranked[:k]) or "none"


def check_quality(
    results: Iterable[TableQuality] | Mapping[str, TableQuality], config: QualityConfig
) -> None:
    """Raise :class:`DataQualityError` if any table fails the gate; otherwise return None."""
    tables = list(results.values()) if isinstance(results, Mapping) else list(results)
    problems: list[str] = []
    for quality in tables:
        limit = threshold_for(quality.table, config)
        share = quality.bad_row_share
        if share > limit:
            problems.append(
                f"table {quality.table!r}: {share:.2%} of rows quarantined "
                f"({quality.rows_quarantined} of {quality.rows_in}), above the limit of {limit:.2%}; "
                f"top reasons: {_top_reasons(quality)}"
            )
        for failed in quality.failed_table_expectations:
            observed = failed.get("observed_value")
            problems.append(
                f"table {quality.table!r}: table-level expectation failed: {failed['reason']}"
                + (f" (observed {observed})" if observed is not None else "")
            )
        if share <= limit:
            logger.info(
                "quality gate %s: %.2f%% quarantined, limit %.2f%%", quality.table, 100 * share, 100 * limit
            )
    if problems:
        raise DataQualityError("data quality gate failed:\n  " + "\n  ".join(problems))
