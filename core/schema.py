"""The feature table's shape, declared once: its entity columns, its keys, and its model inputs.

One row per card (``CARD_KEY``); holder-level feature groups join on ``HOLDER_KEY``. Every other
numeric column is a model input: the card kinds' inputs (``is_account``) and the feature groups'
outputs.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

CARD_KEY: tuple[str, ...] = ("entity_type", "entity_id")
HOLDER_KEY: tuple[str, ...] = ("id_hash",)
# `restricted`: suspended (SIM) or frozen (account) in the delivered extract, which gives no date
# for it: not a model input, only what training needs to tell a card nothing was done to.
ENTITY_COLUMNS: tuple[str, ...] = (
    *CARD_KEY, "recipient", *HOLDER_KEY, "id_masked", "opened_at", "closed", "restricted"
)
# Partition columns a frame read back from the published layout may carry.
PARTITION_COLUMNS: tuple[str, ...] = ("run_date", "as_of")
_NUMERIC = ("int", "bigint", "smallint", "tinyint", "double", "float")


def feature_columns(frame: DataFrame) -> list[str]:
    """The model's inputs in `frame`: every numeric column that is not an entity or partition column."""
    skip = {*ENTITY_COLUMNS, *PARTITION_COLUMNS}
    return [name for name, dtype in frame.dtypes if name not in skip and dtype in _NUMERIC]


def null_columns(frame: DataFrame, names: list[str]) -> DataFrame:
    """Add missing feature columns as nulls (a group skipped at scoring time is 'missing')."""
    return frame.select("*", *[F.lit(None).cast("double").alias(n) for n in names if n not in frame.columns])
