"""Job: score every card with the champion model and publish the contract's lists."""

from __future__ import annotations

import datetime as dt
import logging
from functools import reduce
from typing import Any, NamedTuple

import mlflow
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from realname_guard.core import schema
from realname_guard.core.io import prior_run_dates
from realname_guard.core.kinds import CardKind, kind_descriptions, kind_descriptions_zh, kinds, model_inputs
from realname_guard.core.schema import ENTITY_COLUMNS, null_columns
from realname_guard.features.registry import registry
from realname_guard.jobs.context import JobContext, RunState, start_tracking
from realname_guard.models.anomaly import OUTPUTS as ANOMALY_OUTPUTS
from realname_guard.models.anomaly import add_anomaly, fit_tails
from realname_guard.models.drift import drift
from realname_guard.models.explain import add_reasons, anomaly_reasons
from realname_guard.models.registry import champion_trained_on, load_champion
from realname_guard.models.train import predict
from realname_guard.policy.disciplinary import disciplinary_candidates
from realname_guard.policy.lists import anomaly_cuts, apply_tiers, capped_thresholds, evidence
from realname_guard.policy.rules import rule_inputs

log = logging.getLogger(__name__)

LIST_COLUMNS = (
    "id_hash",
    "id_masked",
    "score",
    "model_score",
    "anomaly_score",
    "risk_tier",
    "action",
    "reasons",
    "rule_hits",
    "needs_human_review",
    "first_flagged_date",
    "expires_on",
    "listing_source",
    "measure_since",
    "reverify_due",
    "legal_basis",
    "appeal_channel",
    "model_name",
    "model_version",
    "run_id",
)
# What the listing decisions read besides the rules' inputs (see `run_score`): the entity columns
# (`restricted` is training's alone) and the score.
DECISION_COLUMNS = (*[c for c in ENTITY_COLUMNS if c != "restricted"], "score")
CARD_KEY = list(schema.CARD_KEY)
DISCIPLINARY_CANDIDATES = "disciplinary_candidates"
EXPORTS = "exports"  # exports/run_date=D/<recipient column>=<code>/<list>.csv


def descriptions() -> dict[str, str]:
    """Reason text per feature column, from the feature registry."""
    out = kind_descriptions()
    for fdef in registry().values():
        out.update({name: o.description for name, o in fdef.outputs.items()})
    return out


def descriptions_zh() -> dict[str, str]:
    """Chinese reason text per feature column (the English one where none is given)."""
    out = kind_descriptions_zh()
    for fdef in registry().values():
        out.update({name: o.description_zh for name, o in fdef.outputs.items() if o.description_zh})
    return out


def champion_backtest(run_id: str) -> dict[str, Any] | None:
    """The backtest the champion was chosen by (its training run's ``backtest.json``), if any."""
    try:
        found = mlflow.artifacts.load_dict(f"runs:/{run_id}/backtest.json")
    except Exception:  # noqa: BLE001 - a model trained before backtests existed has none
        return None
    return dict(found) if isinstance(found, dict) else None


def input_drift(run_id: str, features: DataFrame, threshold: float, seed: int) -> dict[str, Any] | None:
    """PSI of every model input between the champion's training day and today (None for a model
    trained before drift references were logged)."""
    try:
        ref = mlflow.artifacts.load_dict(f"runs:/{run_id}/drift_reference.json")
    except Exception:  # noqa: BLE001 - an older model has none
        log.info("the champion has no drift reference: drift not measured")
        return None
    values = drift(ref, features, seed)
    drifted = [c for c, v in values.items() if v > threshold]
    if drifted:
        log.warning("%d model inputs drifted past PSI %.2f since training: %s", len(drifted), threshold,
                    ", ".join(drifted[:10]))
    return {"reference": f"{ref['rows']:,} cards of the training day (MLflow run {run_id})", "threshold": threshold,
            "psi": values, "drifted": drifted}


def read_history(ctx: JobContext) -> DataFrame | None:
    """Earlier listings (before this run date): per card its latest listing's episode and expiry."""
    frames = []
    for kind in kinds():
        path = ctx.cfg.output_path(kind.list_name)
        dates = prior_run_dates(ctx.spark, path, ctx.run_date_str)
        if not dates:
            continue
        paths = [f"{path}/run_date={d}" for d in dates]
        # Lists written before measure_since existed lack it: merge the schemas, null there.
        df = ctx.spark.read.option("basePath", path).option("mergeSchema", "true").parquet(*paths)
        since = F.col("measure_since") if "measure_since" in df.columns else F.lit(None).cast("date")
        frames.append(
            df.select(
                F.lit(kind.name).alias("entity_type"),
                F.col(kind.key).alias("entity_id"),
                "first_flagged_date",
                F.col("run_date").cast("date").alias("last_flagged_date"),
                "expires_on",
                "action",
                F.coalesce(since, F.col("first_flagged_date")).alias("measure_since"),
            )
        )
    if not frames:
        return None
    hist = reduce(DataFrame.unionByName, frames)
    latest = Window.partitionBy("entity_type", "entity_id").orderBy(F.col("last_flagged_date").desc())
    return hist.withColumn("_n", F.row_number().over(latest)).where("_n = 1").drop("_n")


def check_trained_before(ctx: JobContext, version: str, trained_on: dt.date | None) -> None:
    """Refuse a champion trained on a later run date than the one scored: it learned from
    outcomes that date did not know, and a rerun of that date would not give its lists again."""
    if trained_on is None or trained_on <= ctx.run_date:
        return
    mcfg = ctx.cfg.run.mlflow
    raise ValueError(
        f"{mcfg.model_name} version {version} (@{mcfg.alias}) was trained on {trained_on}, after the run date "
        f"{ctx.run_date}: it learned from outcomes that date did not know. Run the whole job for {ctx.run_date} "
        "(realname-guard run), or backfill the dates in order (realname-guard backfill --from ... --to ...)"
    )


def preflight(ctx: JobContext) -> None:
    """Before a run that scores without training: the champion exists and is not from the future."""
    start_tracking(ctx)
    found = champion_trained_on(ctx.cfg.run.mlflow)
    if found is not None:  # none at all: loading it says so, with the store it looked in
        check_trained_before(ctx, *found)


def run_score(
    ctx: JobContext, features: DataFrame, labels: DataFrame | None, disciplinary: DataFrame | None = None
) -> dict[str, Any]:
    """Score, decide, explain the listed cards, and stage scores and lists for publication."""
    cfg = ctx.cfg
    with ctx.stage("score"):
        start_tracking(ctx)
        champion = load_champion(cfg.run.mlflow)
        check_trained_before(ctx, champion.version, champion.trained_on)
        if "backtest" not in ctx.summary:  # scoring alone: the report shows the champion's backtest
            ctx.summary["backtest"] = champion_backtest(champion.run_id)
        cols = list(champion.feature_cols)
        missing = [c for c in cols if c not in features.columns]
        if missing:
            log.warning("features absent at scoring, treated as missing: %s", ", ".join(missing))
        values = null_columns(features, cols)
        ctx.summary["drift"] = input_drift(champion.run_id, features, cfg.model.drift_psi_threshold, cfg.model.seed)
        scored = predict(champion.model, values)
        anomaly_cfg = cfg.policy.anomaly
        anomaly_cols: list[str] = []
        if anomaly_cfg.enabled and anomaly_cfg.features:
            tails = fit_tails(features, anomaly_cfg.features, anomaly_cfg.same_signal)
            scored = add_anomaly(scored, tails, anomaly_cfg.extreme_tail)
            anomaly_cols = list(ANOMALY_OUTPUTS)
        else:
            scored = scored.withColumn("anomaly_score", F.lit(None).cast("double"))
            anomaly_cols = ["anomaly_score"]
        # The decisions carry only the score and what the rules read; the feature values join
        # back for the listed cards alone, for their reasons. Carrying every feature through the
        # evidence (a window over the holder) and its cache cost about 40 s at 1M persons.
        rule_cols = [c for c in rule_inputs(cfg.policy) if c in scored.columns and c not in DECISION_COLUMNS]
        scored = scored.select(*DECISION_COLUMNS, *rule_cols, *anomaly_cols)
        tiers = cfg.policy.tiers
        from_model = tiers.source == "model"
        high = champion.thresholds.get("high") if from_model else None
        medium = champion.thresholds.get("medium") if from_model else None
        configured = (
            float(high if high is not None else tiers.high),
            float(medium if medium is not None else tiers.medium),
        )
        history = read_history(ctx)
        ev = evidence(scored, labels, history, cfg.policy, ctx.run_date).cache()
        thresholds, cap = capped_thresholds(ev, configured, tiers.max_listed_share)
        cuts, anomaly_info = anomaly_cuts(ev, thresholds, anomaly_cfg)
        decisions = apply_tiers(ev, thresholds, cfg.policy, ctx.run_date, cuts)
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
        shown = list(dict.fromkeys([*cols, *[f for f in anomaly_cfg.features if f in features.columns]]))
        listed_values = values.select(*CARD_KEY, *[c for c in shown if c not in listed.columns]).join(
            listed.select(*CARD_KEY), CARD_KEY, "left_semi"
        )
        listed = listed.join(listed_values, CARD_KEY)
        explained = add_reasons(
            champion.model,
            listed,
            cols,
            descriptions(),
            cfg.model.reasons_top_k,
            exclude=list(model_inputs()),
            descriptions_zh=descriptions_zh(),
        )
        if "anomaly_features" in anomaly_cols:  # listed on the anomaly score alone: its reasons are its farthest-out inputs
            explained = explained.withColumn("reasons", F.when(
                F.col("listing_source") == "ANOMALY",
                anomaly_reasons(explained, descriptions(), descriptions_zh()),
            ).otherwise(F.col("reasons")))
        explained = explained.select("*", *provenance).cache()
        persons = persons_list(decisions, explained).select("*", *provenance)
        scores = decisions.select("entity_type", "entity_id", "recipient", "score", "risk_tier", "model_score",
                                  "anomaly_score")
        pub = ctx.publisher
        pub.stage("scores", scores, partition_by=("recipient",))
        for kind, frame in kind_lists(explained):
            pub.stage(kind.list_name, frame, partition_by=(kind.recipient,))
            # The same list per recipient as a CSV for the desks (Excel reads the Chinese text).
            pub.stage_csv(EXPORTS, export_frame(frame), kind.recipient, f"{kind.list_name}.csv",
                          order_by=(F.col("score").desc(), kind.key))
        persons_path = pub.stage("flagged_persons", persons)
        candidates = disciplinary_candidates(
            labels, decisions.select(*CARD_KEY, "id_hash", "id_masked"), disciplinary, cfg.policy.disciplinary,
            ctx.run_date,
        )
        candidates_path = None
        if candidates is not None:
            candidates_path = pub.stage(DISCIPLINARY_CANDIDATES, candidates.select("*", F.lit(run_id).alias("run_id")))
        tally = decision_tally(decisions)
        counts = tally_counts(tally)
        looks = report_figures(tally, decisions, explained, history)
        thresholds_d = {"high": thresholds[0], "medium": thresholds[1], "source": cfg.policy.tiers.source,
                        "cap": cap}
        ctx.summary["scoring"] = {
            "model": {"name": champion.name, "version": str(champion.version), "training_run_id": champion.run_id},
            "list_run_id": run_id,
            "thresholds": thresholds_d,
            "anomaly": anomaly_info,
            "listed_by_source": listed_by_source(tally),
            "counts": counts,
            **looks,
            "suppressed_after_clearing": sum(n for k, n in tally.items() if k.suppressed),
            # Model-only listings past their re-verification deadline: they stay at REVERIFY until
            # a reviewer's decision arrives in the labels (source HUMAN_REVIEW).
            "awaiting_review_past_deadline": sum(n for k, n in tally.items() if k.review_overdue),
            "persons_listed": ctx.spark.read.parquet(persons_path).count(),  # what was written: no recomputation
            # Holders proposed for the 失信惩戒 list (confirmed outcomes only; the authorities decide).
            "disciplinary_candidates": ctx.spark.read.parquet(candidates_path).count() if candidates_path else None,
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


SCORE_BINS = 50  # of the score histograms in the report


class TallyKey(NamedTuple):
    """One cell of the decisions' tally: what the report and the summary count."""

    entity_type: str
    recipient: str
    risk_tier: str
    action: str | None
    needs_human_review: bool
    suppressed: bool
    review_overdue: bool
    listed: bool
    closed: bool | None
    listing_source: str | None
    score_bin: int


def decision_tally(decisions: DataFrame) -> dict[TallyKey, int]:
    """The decisions counted by every key the report needs, in one pass: a few thousand cells
    at most (kinds x recipients x tiers x actions x flags x ``SCORE_BINS``), whatever the cards."""
    bucket = F.least(F.floor(F.col("score") * SCORE_BINS), F.lit(SCORE_BINS - 1)).cast("int")
    keys = [f for f in TallyKey._fields if f != "score_bin"]
    rows = decisions.groupBy(*keys, bucket.alias("score_bin")).count().collect()  # small: bounded cells
    return {TallyKey(*[r[f] for f in TallyKey._fields]): int(r["count"]) for r in rows}


def listed_by_source(tally: dict[TallyKey, int]) -> dict[str, int]:
    """Listed cards per ``listing_source`` (RULE, MODEL, ANOMALY, DISCIPLINARY)."""
    out: dict[str, int] = {}
    for k, n in tally.items():
        if k.listed and k.listing_source:
            out[k.listing_source] = out.get(k.listing_source, 0) + n
    return dict(sorted(out.items()))


def tally_counts(tally: dict[TallyKey, int]) -> list[dict[str, Any]]:
    """Cards per kind, recipient, tier, measure and review flag (the report's list table)."""
    out: dict[tuple[Any, ...], int] = {}
    for k, n in tally.items():
        group = (k.entity_type, k.recipient, k.risk_tier, k.action, k.needs_human_review)
        out[group] = out.get(group, 0) + n
    names = ("entity_type", "recipient", "risk_tier", "action", "needs_human_review")
    return [{**dict(zip(names, g, strict=True)), "count": n} for g, n in out.items()]


def report_figures(tally: dict[TallyKey, int], decisions: DataFrame, explained: DataFrame,
                   history: DataFrame | None) -> dict[str, Any]:
    """What the report draws: the scores of open cards per kind in ``SCORE_BINS`` bins and the
    lists' size (from the tally), the reasons given most often, and how the lists changed since
    the previous run: renewed (listed then and now), new (listed now, not then), cleared (listed
    then, cleared since), lapsed (listed then, not now for any other reason: expired, below the
    thresholds, closed)."""
    hist: dict[str, list[int]] = {}
    for k, n in tally.items():
        if k.closed is False:
            hist.setdefault(k.entity_type, [0] * SCORE_BINS)[k.score_bin] += n
    reasons = [
        (r["code"], int(r["count"]))
        for r in explained.select(F.explode(F.col("reasons.code")).alias("code"))
        .groupBy("code").count().orderBy(F.desc("count"), "code").limit(15).collect()  # small: top 15
    ]
    changes: dict[str, Any] = {"new": 0, "renewed": 0, "lapsed": 0, "cleared": 0, "previous_run_date": None}
    if history is not None:
        last = history.agg(F.max("last_flagged_date")).first()
        previous = last[0] if last else None
        if previous is not None:
            before = history.where(F.col("last_flagged_date") == F.lit(previous)).select(*CARD_KEY)
            was = decisions.join(F.broadcast(before), CARD_KEY, "left_semi")
            row = was.agg(
                F.count(F.when(F.col("listed"), 1)).alias("renewed"),
                F.count(F.when(~F.col("listed") & F.col("suppressed"), 1)).alias("cleared"),
                F.count(F.when(~F.col("listed") & ~F.col("suppressed"), 1)).alias("lapsed"),
            ).first()
            assert row is not None
            changes.update({k: int(row[k]) for k in ("renewed", "cleared", "lapsed")})
            changes["previous_run_date"] = str(previous)
    # New: listed now and not in the previous run's lists (a new episode, or one back after a gap).
    changes["new"] = sum(n for k, n in tally.items() if k.listed) - changes["renewed"]
    return {"score_histogram": {"bins": SCORE_BINS, "open_cards": hist}, "top_reasons": reasons,
            "changes": changes}


def export_frame(frame: DataFrame) -> DataFrame:
    """A list with flat columns for CSV: ``reasons`` as text (Chinese / English, in order, ``；``
    between reasons), ``rule_hits`` comma-separated."""
    def text(c: str) -> Any:
        if c == "reasons":
            words = F.transform("reasons", lambda r: F.concat_ws(" / ", r["description_zh"], r["description"]))
            return F.concat_ws("；", words).alias(c)
        if c == "rule_hits":
            return F.concat_ws(", ", F.col(c)).alias(c)
        return F.col(c)

    return frame.select(*[text(c) for c in frame.columns])


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
    run_score(ctx, state.feature_table(), state.labels, state.tables.disciplinary)
