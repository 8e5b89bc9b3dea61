"""New finds are the cards nobody labelled: neither the card nor its holder."""

from __future__ import annotations

from pyspark.sql import SparkSession

from realname_guard.jobs.evaluate import new_finds

ID_P = "11010519491231002X"


def test_a_holders_label_makes_none_of_their_cards_a_find(spark: SparkSession) -> None:
    joined = spark.createDataFrame(
        [
            ("SIM", "s1", 1, "card_farmer", 0.99, 1),  # its own label
            ("SIM", "s2", 1, "card_farmer", 0.98, 1),  # holder P's label (the ID arrives with a lower-case x)
            ("SIM", "s3", 0, "normal", 0.97, 1),  # P's own honest SIM: listed, trained on, no find
            ("SIM", "s4", 1, "simbox_farm", 0.90, 1),  # nobody's label: a find
            ("SIM", "s5", 0, "normal", 0.95, 1),  # an honest SIM listed by mistake
            ("SIM", "s6", 0, "normal", 0.10, 0),
        ],
        "entity_type STRING, entity_id STRING, is_misuse INT, typology STRING, score DOUBLE, listed INT",
    )
    labels = spark.createDataFrame(
        [("SIM", "s1", 1), ("PERSON", ID_P.lower(), 1)], "entity_type STRING, entity_id STRING, label INT"
    )
    holders = spark.createDataFrame(
        [("SIM", "s1", "1101"), ("SIM", "s2", ID_P), ("SIM", "s3", " " + ID_P), ("SIM", "s4", "1102"),
         ("SIM", "s5", "1103"), ("SIM", "s6", "1104")],
        "entity_type STRING, entity_id STRING, id_number STRING",
    )
    sim = new_finds(joined, labels, holders)["SIM"]
    assert (sim["cards"], sim["misuse"], sim["listed"]) == (3, 1, 2)
    assert (sim["precision"], sim["recall"]) == (0.5, 1.0)
    # Without the holders, only the card's own label counts: P's honest SIM counts as a false find.
    sim = new_finds(joined, labels)["SIM"]
    assert (sim["cards"], sim["misuse"], sim["listed"]) == (5, 2, 4)
