"""The shared, cached frames several feature groups read."""

from __future__ import annotations

from pyspark.sql import SparkSession

from realname_guard.features.common import cards
from tests.features.literal import world


def test_cards_are_cached_partitioned_by_holder(spark: SparkSession) -> None:
    c = cards(world(spark))
    assert c.count() == 8  # the literal world's SIMs and accounts; fills the cache; its partitioning is known from then on
    # A per-holder aggregate over the cached cards shuffles nothing of its own: no Exchange above
    # the cache scan (the cache's own repartition by id_hash is printed below it).
    plan = c.groupBy("id_hash").count()._jdf.queryExecution().executedPlan().toString()
    above, sep, below = plan.partition("InMemoryTableScan")
    assert sep, plan
    assert "Exchange" not in above, plan
    assert "Exchange hashpartitioning(id_hash" in below, plan
    c.unpersist()
