"""Device fan-in and linked components (features/network.py) on the extended literal world."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from realname_guard.features.network import min_label_components
from tests.features.catalogue_literal import run_group

NETWORK_DDL = (
    "entity_type STRING, entity_id STRING, component_nodes LONG, component_ids LONG, "
    "component_misuse_cards LONG, component_misuse_ids LONG, hub_max_degree LONG"
)


def test_open_device_fanin(spark: SparkSession) -> None:
    expected = spark.createDataFrame(
        [("ACCOUNT", "acc-B1", 2, 3), ("ACCOUNT", "acc-B2", 2, 3), ("ACCOUNT", "acc-D1", 2, 3)],
        "entity_type STRING, entity_id STRING, open_device_ids LONG, open_device_accounts LONG",
    )
    assertDataFrameEqual(run_group(spark, "open_device_fanin"), expected)


def test_network_components_cut_hubs(spark: SparkSession) -> None:
    """With at most 4 links a node, the SIM box box1 (5 SIMs) is a hub: cut out and reported.

    Left: A, B and D (A's SIM reserved by B's account, B's SIM reserved by D's account, dev1): 3 IDs,
    6 SIMs, 4 accounts, 2 handsets and dev1, with the confirmed SIM 13900000001 (B) and account
    acc-D1 (D). C alone with its account. E alone, confirmed as a person, which never counts for
    E's own card. A card's own label and its own ID never count for it.
    """
    expected = spark.createDataFrame(
        [
            ("SIM", "13800000001", 16, 3, 2, 2, 0),
            ("SIM", "13800000002", 16, 3, 2, 2, 0),
            ("ACCOUNT", "acc-A1", 16, 3, 2, 2, 0),
            ("SIM", "13900000001", 16, 3, 1, 1, 5),
            ("SIM", "13900000002", 16, 3, 2, 1, 5),
            ("ACCOUNT", "acc-B1", 16, 3, 2, 1, 0),
            ("ACCOUNT", "acc-B2", 16, 3, 2, 1, 0),
            ("SIM", "13600000001", 16, 3, 2, 1, 5),
            ("SIM", "13600000002", 16, 3, 2, 1, 0),
            ("ACCOUNT", "acc-D1", 16, 3, 1, 1, 0),
            ("SIM", "13700000001", 3, 1, 0, 0, 5),
            ("ACCOUNT", "acc-C1", 3, 1, 0, 0, 0),
            ("SIM", "13500000001", 2, 1, 0, 0, 5),
        ],
        NETWORK_DDL,
    )
    assertDataFrameEqual(run_group(spark, "network_components", max_degree=4), expected)


def test_network_components_through_the_sim_box(spark: SparkSession) -> None:
    """Under the default degree cap box1 joins everyone: 22 nodes, 5 IDs, confirmed IDs B, D and E."""
    expected = spark.createDataFrame(
        [
            ("SIM", "13800000001", 22, 5, 2, 3, 0),
            ("SIM", "13800000002", 22, 5, 2, 3, 0),
            ("ACCOUNT", "acc-A1", 22, 5, 2, 3, 0),
            ("SIM", "13900000001", 22, 5, 1, 2, 0),
            ("SIM", "13900000002", 22, 5, 2, 2, 0),
            ("ACCOUNT", "acc-B1", 22, 5, 2, 2, 0),
            ("ACCOUNT", "acc-B2", 22, 5, 2, 2, 0),
            ("SIM", "13600000001", 22, 5, 2, 2, 0),
            ("SIM", "13600000002", 22, 5, 2, 2, 0),
            ("ACCOUNT", "acc-D1", 22, 5, 1, 2, 0),
            ("SIM", "13700000001", 22, 5, 2, 3, 0),
            ("ACCOUNT", "acc-C1", 22, 5, 2, 3, 0),
            ("SIM", "13500000001", 22, 5, 2, 2, 0),
        ],
        NETWORK_DDL,
    )
    assertDataFrameEqual(run_group(spark, "network_components"), expected)


def test_min_label_components_is_bounded(spark: SparkSession) -> None:
    """A path n1-...-n8: one round (neighbour minimum, then the label's label) reaches 3 hops;
    the rest is reported split, never wrongly merged. Enough rounds give one component."""
    nodes = spark.createDataFrame([(f"n{i}",) for i in range(1, 9)], "node STRING")
    edges = spark.createDataFrame([(f"n{i}", f"n{i + 1}") for i in range(1, 8)], "a STRING, b STRING")
    one_round = ["n1", "n1", "n1", "n2", "n3", "n4", "n5", "n6"]
    assertDataFrameEqual(
        min_label_components(nodes, edges, max_iterations=1),
        spark.createDataFrame([(f"n{i}", c) for i, c in enumerate(one_round, 1)], "node STRING, component STRING"),
    )
    assertDataFrameEqual(
        min_label_components(nodes, edges, max_iterations=10),
        spark.createDataFrame([(f"n{i}", "n1") for i in range(1, 9)], "node STRING, component STRING"),
    )
