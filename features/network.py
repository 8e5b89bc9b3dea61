"""Network: cards linked into components through shared phones and devices, and the misuse
confirmed in them.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from realname_guard.core.kinds import ACCOUNT, SIM
from realname_guard.core.tables import Tables
from realname_guard.features.known_labels import confirmed_misuse
from realname_guard.features.registry import FeatureContext, Output, feature

# Tables a group reads when they were delivered without needing them (listed in the catalogue).
OPTIONAL_NEEDS: dict[str, tuple[str, ...]] = {"network_components": ("activity", "transactions", "labels")}


def _node(prefix: str, col: str) -> Column:
    return F.concat(F.lit(prefix), F.col(col))


def link_edges(t: Tables) -> DataFrame:
    """Undirected edges (a, b) between typed node keys, from every delivered table.

    ``I:`` ID, ``S:`` SIM or reserved phone (the same number is the same node), ``A:`` account,
    ``M:`` IMEI, ``D:`` device fingerprint (account opening or transaction).
    """
    parts = [
        t.sims.select(_node("I:", "id_hash").alias("a"), _node("S:", "msisdn").alias("b")),
        t.accounts.select(_node("I:", "id_hash").alias("a"), _node("A:", "account_id").alias("b")),
        t.accounts.select(_node("A:", "account_id").alias("a"), _node("S:", "reserved_msisdn").alias("b")),
        t.accounts.select(_node("A:", "account_id").alias("a"), _node("D:", "open_device_id").alias("b")),
    ]
    if t.activity is not None:
        parts.append(t.activity.select(_node("S:", "msisdn").alias("a"), _node("M:", "imei").alias("b")))
    if t.transactions is not None:
        parts.append(t.transactions.select(_node("A:", "account_id").alias("a"), _node("D:", "device_id").alias("b")))
    edges = parts[0]
    for p in parts[1:]:
        edges = edges.unionByName(p)
    return edges.where(F.col("a").isNotNull() & F.col("b").isNotNull() & (F.col("a") != F.col("b"))).distinct()


def min_label_components(nodes: DataFrame, edges: DataFrame, max_iterations: int) -> DataFrame:
    """(node, component): the smallest node key reachable, by min-label propagation with shortcuts.

    Each round every node takes the smallest label among itself and its neighbours, then the label
    of its label (pointer jumping, which roughly doubles the reach per round). Rounds stop when no
    label changes or after `max_iterations`; each round is checkpointed locally to cut the lineage.
    A component wider than the rounds allow is reported split, never merged wrongly.
    """
    directed = edges.select(F.col("a").alias("src"), F.col("b").alias("node")).unionByName(
        edges.select(F.col("b").alias("src"), F.col("a").alias("node"))
    )
    labels = nodes.select("node", F.col("node").alias("label")).localCheckpoint(eager=True)
    for _ in range(max_iterations):
        from_neighbours = directed.join(labels.withColumnRenamed("node", "src"), "src").select(
            "node", "label", F.lit(None).cast("string").alias("old")
        )
        stepped = (
            labels.select("node", "label", F.col("label").alias("old"))
            .unionByName(from_neighbours)
            .groupBy("node")
            .agg(F.min("label").alias("label"), F.max("old").alias("old"))
        )
        labels = (
            stepped.alias("n")
            .join(stepped.select("node", "label").alias("l"), F.col("n.label") == F.col("l.node"), "left")
            .select(
                F.col("n.node").alias("node"),
                F.least("n.label", "l.label").alias("label"),
                (F.least("n.label", "l.label") != F.col("n.old")).alias("changed"),
            )
            .localCheckpoint(eager=True)
        )
        changed = labels.where("changed").count()
        labels = labels.drop("changed")
        if changed == 0:
            break
    return labels.withColumnRenamed("label", "component")


@feature(
    "network_components",
    level="card",
    needs=("sims", "accounts"),
    outputs={
        "component_nodes": Output(
            "Nodes (IDs, SIMs, IMEIs, accounts, devices, reserved phones) in the card's linked component",
            unit="nodes", zh="关联团伙规模",
            description_zh="本卡所在关联团伙（连通分量）的节点数（证件、号码、IMEI、账户、设备、预留手机号）",
        ),
        "component_ids": Output(
            "Distinct IDs in the card's linked component", zh="关联身份证数",
            description_zh="本卡所在关联团伙中的不同证件数",
        ),
        "component_misuse_cards": Output(
            "Other cards in the component confirmed as misuse by the run date (own label left out)",
            zh="关联涉诈卡数",
            description_zh="关联团伙中截至运行日已确认涉诈的其他卡数（不计本卡标签）",
        ),
        "component_misuse_ids": Output(
            "Other IDs in the component with a confirmed misused card or a confirmed person label by the run date",
            zh="关联涉诈人数",
            description_zh="关联团伙中截至运行日有已确认涉诈卡或已确认涉诈人员标签的其他证件数",
        ),
        "hub_max_degree": Output(
            "Largest degree of a hub node (above `max_degree` links, e.g. a SIM box) linked to the card or its ID; "
            "hubs are left out of the components", unit="links", zh="猫池/设备枢纽",
            description_zh="与本卡或其证件相连的枢纽节点（连接超过`max_degree`个，如猫池）的最大度数；"
            "枢纽节点不计入关联团伙",
        ),
    },
)
def network_components(t: Tables, ctx: FeatureContext, max_iterations: int = 8, max_degree: int = 100) -> DataFrame:
    """Connected components over every link the delivered tables hold, known on the as-of date.

    IMEI and transaction-device links come from the activity window, and join in only when those
    tables were delivered; labels (the as-of view's, so never later than the run date) feed the
    misuse counts, which are 0 without them. Hub nodes (degree above `max_degree`, such as a SIM
    box carrying thousands of SIMs or a corporate ID with hundreds of IoT SIMs) would fuse
    unrelated people and skew the joins, so they are cut out and reported as ``hub_max_degree``.
    """
    edges = link_edges(t).localCheckpoint(eager=True)
    degree = (
        edges.select(F.col("a").alias("node"))
        .unionByName(edges.select(F.col("b").alias("node")))
        .groupBy("node")
        .agg(F.count(F.lit(1)).alias("degree"))
    )
    hubs = degree.where(F.col("degree") > max_degree)
    kept = (
        edges.join(hubs.withColumnRenamed("node", "a"), "a", "left_anti")
        .join(hubs.withColumnRenamed("node", "b"), "b", "left_anti")
        .localCheckpoint(eager=True)
    )
    owner = t.sims.select(
        F.lit(SIM.name).alias("entity_type"), F.col("msisdn").alias("entity_id"), _node("S:", "msisdn").alias("node"),
        "id_hash",
    ).unionByName(
        t.accounts.select(
            F.lit(ACCOUNT.name).alias("entity_type"), F.col("account_id").alias("entity_id"),
            _node("A:", "account_id").alias("node"), "id_hash",
        )
    )
    nodes = (
        kept.select(F.col("a").alias("node"))
        .unionByName(kept.select(F.col("b").alias("node")))
        .unionByName(owner.select("node"))
        .distinct()
    )
    comp = min_label_components(nodes, kept, max_iterations)

    sizes = comp.groupBy("component").agg(
        F.count(F.lit(1)).alias("component_nodes"),
        F.sum(F.col("node").startswith("I:").cast("int")).alias("component_ids"),
    )
    cards = owner.join(comp, "node")
    if t.labels is not None:
        bad = confirmed_misuse(t.labels)
        bad_cards = cards.join(bad, ["entity_type", "entity_id"]).select("component", "entity_id", "id_hash")
        bad_people = (
            bad.where(F.col("entity_type") == "PERSON")
            .select(_node("I:", "entity_id").alias("node"), F.col("entity_id").alias("id_hash"))
            .join(comp, "node")
            .select("component", "id_hash")
        )
    else:
        bad_cards = cards.limit(0).select("component", "entity_id", "id_hash")
        bad_people = bad_cards.select("component", "id_hash")
    bad_card_count = bad_cards.groupBy("component").agg(F.count(F.lit(1)).alias("bad_cards"))
    own_bad = bad_cards.select("entity_id", F.lit(1).alias("own_bad"))  # keys unique: msisdn vs account_id
    bad_ids = bad_cards.select("component", "id_hash").unionByName(bad_people).distinct()
    bad_id_count = bad_ids.groupBy("component").agg(F.count(F.lit(1)).alias("bad_ids"))
    own_id_bad = bad_ids.select("component", "id_hash", F.lit(1).alias("own_id_bad"))

    hub_links = (
        edges.join(hubs.withColumnRenamed("node", "b"), "b")
        .select(F.col("a").alias("node"), "degree")
        .unionByName(edges.join(hubs.withColumnRenamed("node", "a"), "a").select(F.col("b").alias("node"), "degree"))
        .unionByName(hubs.select("node", "degree"))
        .groupBy("node")
        .agg(F.max("degree").alias("hub_degree"))
    )
    card_hub = hub_links.withColumnRenamed("hub_degree", "card_hub")
    id_hub = hub_links.where(F.col("node").startswith("I:")).select(
        F.substring("node", 3, 1 << 20).alias("id_hash"), F.col("hub_degree").alias("id_hub")
    )
    return (
        cards.join(sizes, "component")
        .join(bad_card_count, "component", "left")
        .join(own_bad, "entity_id", "left")
        .join(bad_id_count, "component", "left")
        .join(own_id_bad, ["component", "id_hash"], "left")
        .join(card_hub, "node", "left")
        .join(id_hub, "id_hash", "left")
        .select(
            "entity_type",
            "entity_id",
            "component_nodes",
            "component_ids",
            (F.coalesce("bad_cards", F.lit(0)) - F.coalesce("own_bad", F.lit(0))).alias("component_misuse_cards"),
            (F.coalesce("bad_ids", F.lit(0)) - F.coalesce("own_id_bad", F.lit(0))).alias("component_misuse_ids"),
            F.coalesce(F.greatest("card_hub", "id_hub"), F.lit(0)).alias("hub_max_degree"),
        )
    )
