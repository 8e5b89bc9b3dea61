"""Job: measure a run's lists against a generated world's ground truth (never read by the job).

Per typology: how many misused cards were listed (recall); per honest confounder: how many
honest cards were listed by mistake; overall precision of the lists and PR-AUC of the scores.
"""

from __future__ import annotations

from functools import reduce
from typing import Any

from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from realname_guard.core.contract import by_alias
from realname_guard.core.identity import normalise_id
from realname_guard.core.io import Fs
from realname_guard.core.kinds import kinds
from realname_guard.models.evaluate import average_precision, pr_curve


def _ap(frame: DataFrame) -> float | None:
    """Average precision of ``score`` against ``label`` (binned at 1e-3), None without both classes."""
    points = pr_curve(frame)
    if not points or points[-1].true_positives in (0, points[-1].predicted_positives):
        return None
    return round(average_precision(points), 4)


def new_finds(joined: DataFrame, labels: DataFrame, holders: DataFrame | None = None) -> dict[str, Any]:
    """What a risk team wants of the job: the cards nobody had labelled, per card kind.

    A card is labelled when it has a label of its own or its holder has one (a PERSON label,
    matched through `holders`: entity_type, entity_id, id_number): a holder's label trains the
    model on their cards (``model.person_labels_apply_to_cards``) and lists every one of them
    (``HOLDER_CONFIRMED``), so none of them is a find. Average precision of the scores, precision
    and recall of the lists, and per typology the average precision of its cards against every
    honest unlabelled card of that kind.
    """
    labelled = labels.where(F.col("entity_type") != "PERSON").select("entity_type", "entity_id")
    if holders is not None:
        persons = labels.where(F.col("entity_type") == "PERSON").select(normalise_id(F.col("entity_id")).alias("_id"))
        labelled = labelled.unionByName(
            holders.join(persons, normalise_id(F.col("id_number")) == F.col("_id"), "left_semi").select(
                "entity_type", "entity_id"
            )
        )
    labelled = labelled.distinct()
    fresh = joined.join(labelled, ["entity_type", "entity_id"], "left_anti").withColumn(
        "label", F.col("is_misuse").cast("int")
    ).cache()
    out: dict[str, Any] = {}
    kinds = [r["entity_type"] for r in fresh.select("entity_type").distinct().collect()]  # small: card kinds
    for kind in sorted(kinds):
        part = fresh.where(F.col("entity_type") == kind)
        row = part.agg(
            F.count(F.lit(1)).alias("cards"), F.sum("label").alias("misuse"), F.sum("listed").alias("listed"),
            F.sum(F.col("listed") * F.col("label")).alias("true_listed"),
        ).first()
        assert row is not None
        misuse, listed, true_listed = int(row["misuse"] or 0), int(row["listed"] or 0), int(row["true_listed"] or 0)
        typologies = [r["typology"] for r in part.where("label = 1").select("typology").distinct().collect()]  # small: typologies
        honest = part.where("label = 0")
        out[kind] = {
            "cards": int(row["cards"]), "misuse": misuse, "listed": listed,
            "average_precision": _ap(part),
            "precision": round(true_listed / listed, 4) if listed else None,
            "recall": round(true_listed / misuse, 4) if misuse else None,
            "by_typology": {
                t: _ap(honest.unionByName(part.where((F.col("label") == 1) & (F.col("typology") == t))))
                for t in sorted(typologies)
            },
        }
    fresh.unpersist()
    return out


def _holders(spark: SparkSession, fs: Fs, inputs: str) -> DataFrame | None:
    """(entity_type, entity_id, id_number) of every card in the world's registrations, or None."""
    tables = {kind: by_alias(kind.table).name for kind in kinds()}  # sims -> sim_registrations
    parts = [
        spark.read.parquet(f"{inputs}/{table}").select(
            F.lit(kind.name).alias("entity_type"), F.col(kind.key).alias("entity_id"), "id_number"
        )
        for kind, table in tables.items()
        if fs.exists(f"{inputs}/{table}")
    ]
    return reduce(DataFrame.unionByName, parts) if parts else None


def evaluate_run(
    spark: SparkSession, output: str, truth: str, run_date: str, labels_path: str | None = None
) -> dict[str, Any]:
    """Join the run's scores (with listing tiers) to the ground truth and aggregate.

    `labels_path` (default: the world's ``input/labels`` beside `truth`) marks which cards were
    labelled, for the new-find figures.
    """
    scores = spark.read.parquet(f"{output}/scores/run_date={run_date}")
    fs = Fs(spark, truth)
    # The generator writes one truth table per card kind, named like the kind's source table.
    truth_cards: DataFrame = reduce(
        DataFrame.unionByName,
        [
            spark.read.parquet(f"{truth}/{kind.table}").select(
                F.lit(kind.name).alias("entity_type"), F.col(kind.key).alias("entity_id"), "is_misuse", "typology"
            )
            for kind in kinds()
            if fs.exists(f"{truth}/{kind.table}")
        ],
    )
    joined = truth_cards.join(scores, ["entity_type", "entity_id"], "inner").withColumn(
        "listed", (F.col("risk_tier") != "NONE").cast("int")
    )
    by_typology = [
        r.asDict()
        for r in joined.groupBy("is_misuse", "typology", "entity_type")
        .agg(F.count(F.lit(1)).alias("cards"), F.sum("listed").alias("listed"))
        .orderBy("is_misuse", "typology", "entity_type")
        .collect()  # small: typologies x entity types
    ]
    totals = joined.agg(
        F.sum("listed").alias("listed"),
        F.sum(F.col("listed") * F.col("is_misuse")).alias("true_listed"),
        F.sum("is_misuse").alias("misuse"),
        F.count(F.lit(1)).alias("cards"),
    ).first()
    assert totals is not None
    pr_auc = BinaryClassificationEvaluator(
        rawPredictionCol="score", labelCol="label", metricName="areaUnderPR"
    ).evaluate(joined.select("score", F.col("is_misuse").cast("double").alias("label")))
    listed, true_listed, misuse = int(totals["listed"] or 0), int(totals["true_listed"] or 0), int(totals["misuse"])
    inputs = f"{truth.rstrip('/')}/../input"
    # The labels the run could know, as the job reads them: by the end of the run date, trimmed.
    labels = (
        spark.read.parquet(labels_path or f"{inputs}/labels")
        .where(F.to_date("label_time") <= F.lit(run_date).cast("date"))
        .select(F.trim("entity_type").alias("entity_type"), F.trim("entity_id").alias("entity_id"))
    )
    holders = _holders(spark, Fs(spark, inputs), inputs)
    return {
        "new_finds": new_finds(joined, labels, holders),
        "run_date": run_date,
        "cards": int(totals["cards"]),
        "misused_cards": misuse,
        "listed": listed,
        "recall": true_listed / misuse if misuse else None,
        "precision": true_listed / listed if listed else None,
        "pr_auc_scores": pr_auc,
        "by_typology": by_typology,
    }


def render(ev: dict[str, Any]) -> str:
    """A plain-text table: recall per misuse typology, false listings per honest group."""
    lines = [
        f"evaluation of run {ev['run_date']} against ground truth: {ev['cards']} cards, "
        f"{ev['misused_cards']} misused, {ev['listed']} listed",
        f"  overall recall {ev['recall']:.3f}  precision {ev['precision']:.3f}  PR-AUC of scores "
        f"{ev['pr_auc_scores']:.3f}" if ev["recall"] is not None and ev["precision"] is not None else "",
        "",
        f"  {'kind':8s} {'typology':24s} {'type':8s} {'cards':>7s} {'listed':>7s} {'share':>7s}",
    ]
    for r in ev["by_typology"]:
        kind = "misuse" if r["is_misuse"] else "honest"
        share = r["listed"] / r["cards"] if r["cards"] else 0.0
        lines.append(
            f"  {kind:8s} {r['typology']:24s} {r['entity_type']:8s} {r['cards']:7d} {r['listed']:7d} {share:7.3f}"
        )
    lines.append("  (share = recall for misuse typologies, false-listing rate for honest groups)")
    for kind, nf in ev.get("new_finds", {}).items():
        ap = nf["average_precision"]
        prec, rec = nf["precision"], nf["recall"]
        lines.append(
            f"  new finds, {kind}: {nf['cards']} unlabelled cards, {nf['misuse']} misused; average precision "
            f"{'-' if ap is None else f'{ap:.3f}'}, lists precision {'-' if prec is None else f'{prec:.3f}'} "
            f"recall {'-' if rec is None else f'{rec:.3f}'}"
        )
        for t, v in nf["by_typology"].items():
            lines.append(f"      {t:24s} average precision against honest cards {'-' if v is None else f'{v:.3f}'}")
    return "\n".join(line for line in lines if line is not None)
