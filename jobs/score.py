"""Job: score every card with the champion model and publish the contract's lists."""

from __future__ import annotations

import logging
from functools import reduce
from typing import Any

import mlflow
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from realname_guard.core import schema
from realname_guard.core.io import prior_run_dates
from realname_guard.core.kinds import CardKind, kind_descriptions, kinds, model_inputs
from realname_guard.core.schema import ENTITY_COLUMNS, null_columns
from realname_guard.features.registry import registry
from realname_guard.jobs.context import JobContext, RunState, start_tracking
from realname_guard.models.explain import add_reasons
from realname_guard.models.registry import load_champion
from realname_guard.models.train import predict
from realname_guard.policy.lists import apply_tiers, capped_thresholds, evidence
from realname_guard.policy.rules import rule_inputs

log = logging.getLogger(__name__)

LIST_COLUMNS = (
    "id_hash",
    "id_masked",
    "score",
    "risk_tier",
    "action",
    "reasons",
    "rule_hits",
    "needs_human_review",
    "first_flagged_date",
    "expires_on",
    "model_name",
    "model_version",
    "run_id",
)
# What the listing decisions read besides the rules' inputs (see `run_score`): the entity columns
# (`restricted` is training's alone) and the score.
DECISION_COLUMNS = (*[c for c in ENTITY_COLUMNS if c != "restricted"], "score")
CARD_KEY = list(schema.CARD_KEY)


def descriptions() -> dict[str, str]:
    """Reason text per feature column, from the feature registry."""
    out = kind_descriptions()
    for fdef in registry().values():
        out.update({name: o.description for name, o in fdef.outputs.items()})
    return out


def champion_backtest(run_id: str) -> dict[str, Any] | None:
    """The backtest the champion was chosen by (its training run's ``backtest.json``), if any."""
    try:
        found = mlflow.artifacts.load_dict(f"runs:/{run_id}/backtest.json")
    except Exception:  # noqa: BLE001 - a model trained before backtests existed has none
        return None
    return dict(found) if isinstance(found, dict) else None


def read_history(ctx: JobContext) -> DataFrame | None:
    """Earlier listings (before this run date): per card its latest listing's episode and expiry."""
    frames = []
    for kind in kinds():
        path = ctx.cfg.output_path(kind.list_name)
        dates = prior_run_dates(ctx.spark, path, ctx.run_date_str)
        if not dates:
            continue
        paths = [f"{path}/run_date={d}" for d in dates]
        df = ctx.spark.read.option("basePath", path).parquet(*paths)
        frames.append(
            df.select(
                F.lit(kind.name).alias("entity_type"),
                F.col(kind.key).alias("entity_id"),
                "first_flagged_date",
                F.col("run_date").cast("date").alias("last_flagged_date"),
                "expires_on",
            )
        )
    if not frames:
        return None
    hist = reduce(DataFrame.unionByName, frames)
    latest = Window.partitionBy("entity_type", "entity_id").orderBy(F.col("last_flagged_date").desc())
    return hist.withColumn("_n", F.row_number().over(latest)).where("_n = 1").drop("_n")


def run_score(ctx: JobContext, features: DataFrame, labels: DataFrame | None) -> dict[str, Any]:
    """Score, decide, explain the listed cards, and stage scores and lists for publication."""
    cfg = ctx.cfg
    with ctx.stage("score"):
        start_tracking(ctx)
        champion = load_champion(cfg.run.mlflow)
        if "backtest" not in ctx.summary:  # scoring alone: the report shows the champion's backtest
            ctx.summary["backtest"] = champion_backtest(champion.run_id)
        cols = list(champion.feature_cols)
        missing = [c for c in cols if c not in features.columns]
        if missing:
            log.warning("features absent at scoring, treated as missing: %s", ", ".join(missing))
        values = null_columns(features, cols)
        scored = predict(champion.model, values)
        # The decisions carry only the score and what the rules read; the feature values join
        # back for the listed cards alone, for their reasons. Carrying every feature through the
        # evidence (a window over the holder) and its cache cost about 40 s at 1M persons.
        rule_cols = [c for c in rule_inputs(cfg.policy) if c in scored.columns and c not in DECISION_COLUMNS]
        scored = scored.select(*DECISION_COLUMNS, *rule_cols)
        tiers = cfg.policy.tiers
        from_model = tiers.source == "model"
        high = champion.thresholds.get("high") if from_model else None
        medium = champion.thresholds.get("medium") if from_model else None
        configured = (
            float(high if high is not None else tiers.high),
            float(medium if medium is not None else tiers.medium),
        )
        ev = evidence(scored, labels, read_history(ctx), cfg.policy, ctx.run_date).cache()
        thresholds, cap = capped_thresholds(ev, configured, tiers.max_listed_share)
        decisions = apply_tiers(ev, thresholds, cfg.policy, ctx.run_date)
    with ctx.stage("explain+publish"):
        run_id = f"{ctx.run_date_str}-{champion.name}-v{champion.version}"
        provenance = [
            F.lit(champion.name).alias("model_name"),
            F.lit(str(champion.version)).alias("model_version"),
            F.lit(run_id).alias("run_id"),
        ]
        listed = decisions.where("listed")
        # A semi-join reads the feature values of the listed cards only (their keys broadcast
        # when few), then the listed rows take them on.
        listed_values = values.select(*CARD_KEY, *[c for c in cols if c not in listed.columns]).join(
            listed.select(*CARD_KEY), CARD_KEY, "left_semi"
        )
        listed = listed.join(listed_values, CARD_KEY)
        explained = add_reasons(
            champion.model, listed, cols, descriptions(), cfg.model.reasons_top_k, exclude=list(model_inputs())
        )
        explained = explained.select("*", *provenance).cache()
        persons = persons_list(decisions, explained).select("*", *provenance)
        scores = decisions.select("entity_type", "entity_id", "recipient", "score", "risk_tier")
        pub = ctx.publisher
        pub.stage("scores", scores, partition_by=("recipient",))
        for kind, frame in kind_lists(explained):
            pub.stage(kind.list_name, frame, partition_by=(kind.recipient,))
        pub.stage("flagged_persons", persons)
        counts = [
            r.asDict()
            for r in decisions.groupBy("entity_type", "recipient", "risk_tier", "action", "needs_human_review")
            .count()
            .collect()  # small: recipients x tiers x actions
        ]
        thresholds_d = {"high": thresholds[0], "medium": thresholds[1], "source": cfg.policy.tiers.source,
                        "cap": cap}
        ctx.summary["scoring"] = {
            "model": {"name": champion.name, "version": str(champion.version), "training_run_id": champion.run_id},
            "list_run_id": run_id,
            "thresholds": thresholds_d,
            "counts": counts,
            "suppressed_after_clearing": decisions.where("suppressed").count(),
            "persons_listed": persons.count(),
        }
        ev.unpersist()
        explained.unpersist()
    return ctx.summary["scoring"]


def kind_lists(explained: DataFrame) -> list[tuple[CardKind, DataFrame]]:
    """Each card kind's list: its listed cards under the kind's own key and recipient columns."""
    return [
        (
            kind,
            explained.where(F.col("entity_type") == kind.name).select(
                F.col("entity_id").alias(kind.key), *LIST_COLUMNS, F.col("recipient").alias(kind.recipient)
            ),
        )
        for kind in kinds()
    ]


def persons_list(decisions: DataFrame, explained: DataFrame) -> DataFrame:
    """One row per ID holder with at least one listed card: holdings, listings, top reasons."""
    counts = []
    for kind in kinds():
        own = F.col("entity_type") == kind.name
        counts.append(F.sum(own.cast("int")).alias(f"{kind.plural}_held"))
        counts.append(F.sum((own & F.col("listed")).cast("int")).alias(f"{kind.plural}_flagged"))
    holdings = decisions.groupBy("id_hash").agg(F.first("id_masked").alias("id_masked"), *counts)
    top = explained.groupBy("id_hash").agg(
        F.max("score").alias("max_score"),
        # The top card's reasons; among cards with the same score, the greatest key, so reruns agree.
        F.max_by("reasons", F.struct("score", "entity_type", "entity_id")).alias("reasons"),
        F.array_sort(F.array_distinct(F.flatten(F.collect_list("rule_hits")))).alias("rule_hits"),
    )
    held = [f"{k.plural}_held" for k in kinds()]
    flagged = [f"{k.plural}_flagged" for k in kinds()]
    return holdings.join(top, "id_hash").select(
        "id_hash", "id_masked", *held, *flagged, "max_score", "reasons", "rule_hits"
    )


def step(ctx: JobContext, state: RunState) -> None:
    """The `score` step: score with the champion, decide, explain; stage the lists and scores."""
    run_score(ctx, state.feature_table(), state.labels)
