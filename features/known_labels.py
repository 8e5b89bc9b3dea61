"""Outcomes known on the as-of date, in the shape features may use: never a card's own label.

Only the `as_of_view` labels reach a feature (label_time before the end of the as-of day). The
latest label per entity wins, a positive one on a tie, as in the training set (models/dataset.py).
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F


def confirmed_misuse(labels: DataFrame) -> DataFrame:
    """(entity_type, entity_id) of every SIM, account or person whose latest known label is 1."""
    latest_first = Window.partitionBy("entity_type", "entity_id").orderBy(
        F.col("label_time").desc(), F.col("label").desc()
    )
    return (
        labels.where(F.col("label").isin(0, 1) & F.col("label_time").isNotNull())
        .withColumn("_rn", F.row_number().over(latest_first))
        .where((F.col("_rn") == 1) & (F.col("label") == 1))
        .select("entity_type", "entity_id")
        .distinct()
    )
