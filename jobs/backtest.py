"""Job: feature snapshots at earlier dates, the out-of-time backtest, and the choice it makes.

``run_backtest`` trains each candidate setting of ``model.tuning`` on what was known at
``start = run date - model.backtest.horizon_days`` (rows from the snapshots before each label),
scores every card as of ``start`` and measures on the cards first confirmed in ``(start, run
date]`` (``models.backtest``). The configured setting trains unless another beats it clearly
(``choose``); a naive baseline (a handful of obvious counts, labelled rows only) is measured beside them,
and the report warns when the chosen setting does not beat it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import mlflow
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from realname_guard.core.config import Candidate, ModelConfig
from realname_guard.core.io import AtomicPublisher
from realname_guard.core.schema import feature_columns, null_columns
from realname_guard.core.tables import Tables
from realname_guard.features.assemble import build_features
from realname_guard.jobs.context import JobContext, RunState, feature_context, model_views, start_tracking
from realname_guard.models.anomaly import FarOut
from realname_guard.models.backtest import (
    ListingShares,
    Ranked,
    at_threshold,
    backtest_frame,
    estimated_precision,
    listing_shares,
    ranked,
    win_share,
)
from realname_guard.models.dataset import InsufficientLabelsError, build_training_set
from realname_guard.models.evaluate import CurvePoint, evaluate, pr_curve
from realname_guard.models.train import Model, fit_model, predict, resolve_num_workers

log = logging.getLogger(__name__)

SNAPSHOTS = "training_snapshots"
BASELINE = "naive-baseline"
METRIC = "average_precision"  # what the candidates are compared by (models.backtest.win_share)


def snapshot_dates(run_date: dt.date, cfg: ModelConfig) -> list[dt.date]:
    """The as-of dates of the training snapshots, oldest first, with the backtest's start date."""
    days = set(cfg.point_in_time.snapshot_days_back) | {cfg.backtest.horizon_days}
    return sorted(run_date - dt.timedelta(days=d) for d in days)


def build_snapshots(ctx: JobContext, tables: Tables, dates: list[dt.date]) -> dict[dt.date, DataFrame]:
    """The feature table as of each date, from the same inputs, written under
    ``training_snapshots/run_date=D/as_of=S`` and read back (each cuts its own lineage)."""
    out: dict[dt.date, DataFrame] = {}
    pub = AtomicPublisher(ctx.spark, ctx.cfg.output, ctx.run_date_str)
    base = feature_context(ctx)
    for i, day in enumerate(dates, 1):
        t0 = time.perf_counter()
        fs = build_features(tables, dataclasses.replace(base, as_of=day), ctx.cfg.features.enabled)
        pub.stage(SNAPSHOTS, fs.frame, subpath=f"as_of={day.isoformat()}")
        fs.release()
        log.info("snapshot %d/%d as of %s built in %.1f s", i, len(dates), day, time.perf_counter() - t0)
    path = pub.commit()[SNAPSHOTS]
    for day in dates:
        out[day] = ctx.spark.read.parquet(f"{path}/as_of={day.isoformat()}")
    return out


def with_candidate(cfg: ModelConfig, cand: Candidate) -> ModelConfig:
    """`cfg` with the candidate's settings in place of the configured ones."""
    xgb: dict[str, Any] = {k: v for k, v in (("max_depth", cand.max_depth), ("n_estimators", cand.n_estimators),
                                              ("learning_rate", cand.learning_rate)) if v is not None}
    out = dataclasses.replace(cfg, xgb=dataclasses.replace(cfg.xgb, **xgb)) if xgb else cfg
    if cand.negatives_per_positive is not None:
        out = dataclasses.replace(out, negatives_per_positive=cand.negatives_per_positive)
    if cand.class_weight is not None:
        out = dataclasses.replace(out, class_weight=cand.class_weight)
    if cand.views is False:
        out = dataclasses.replace(out, views=None)
    if cand.monotone is False:
        out = dataclasses.replace(out, monotone_increasing=())
    pit = {k: v for k, v in (("older_labels", cand.older_labels), ("negatives_from", cand.negatives_from))
           if v is not None}
    if pit:
        out = dataclasses.replace(out, point_in_time=dataclasses.replace(out.point_in_time, **pit))
    return out


def settings(cfg: ModelConfig) -> dict[str, Any]:
    """The training choices a candidate may change, as they stand in `cfg`."""
    return {
        "negatives_per_positive": cfg.negatives_per_positive,
        "class_weight": cfg.class_weight,
        "max_depth": cfg.xgb.max_depth,
        "n_estimators": cfg.xgb.n_estimators,
        "learning_rate": cfg.xgb.learning_rate,
        "older_labels": cfg.point_in_time.older_labels,
        "negatives_from": cfg.point_in_time.negatives_from,
        "views": ",".join(cfg.views) if cfg.views else "one model",
        "monotone": len(cfg.monotone_increasing),
    }


@dataclass(frozen=True)
class CandidateResult:
    name: str
    settings: dict[str, Any]
    metrics: dict[str, float]
    shares: ListingShares | None = None
    lists: dict[str, float] = field(default_factory=dict)  # the lists it would have made
    seconds: float = 0.0
    error: str | None = None
    # The scored backtest population (entity_type, entity_id, score, label), for callers that
    # judge the candidates against a generated world's truth; not part of the summary.
    frame: DataFrame | None = field(default=None, repr=False, compare=False)
    ranked: Ranked | None = field(default=None, repr=False, compare=False)
    points: list[CurvePoint] | None = field(default=None, repr=False, compare=False)  # its binned PR curve
    win_share: float | None = None  # of paired bootstrap resamples, against the configured setting

    def score(self, metric: str) -> float:
        value = self.metrics.get(metric, math.nan)
        return -math.inf if value is None or math.isnan(value) else value

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
               if f.name not in ("frame", "ranked", "points")}
        out["shares"] = dataclasses.asdict(self.shares) if self.shares else None
        return out


@dataclass(frozen=True)
class BacktestResult:
    start: dt.date
    end: dt.date
    metric: str
    candidates: list[CandidateResult]
    baseline: CandidateResult | None
    chosen: CandidateResult | None  # None: nothing could be measured (too few confirmations)
    skipped: list[str]  # candidates left untried: over the time budget
    why: str = ""  # why the chosen setting trains, in words (the report's and the log's)
    # Of paired bootstrap resamples of the window's confirmations, the share in which the naive
    # baseline ranks them better than the chosen setting (None: either could not be measured).
    baseline_win_share: float | None = None
    # The naive baseline ahead by the rule a candidate must pass to be chosen: in at least
    # tuning.min_win_share of the resamples of at least tuning.min_confirmations confirmations.
    baseline_sure: bool = False

    @property
    def beats_baseline(self) -> bool | None:
        if self.chosen is None or self.baseline is None or self.baseline.error:
            return None
        return self.chosen.score(self.metric) >= self.baseline.score(self.metric)

    @property
    def against_baseline(self) -> str | None:
        """``beats``, ``loses`` (the baseline ahead by the rule a setting must pass to be chosen: a
        warning) or ``unsure`` (ahead on this window, but not often enough in the resamples or on
        too few confirmations to count: a note)."""
        if self.beats_baseline is None:
            return None
        return "beats" if self.beats_baseline else "loses" if self.baseline_sure else "unsure"

    def summary(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "metric": self.metric,
            "chosen": self.chosen.name if self.chosen else None,
            "beats_baseline": self.beats_baseline,
            "against_baseline": self.against_baseline,
            "baseline_win_share": self.baseline_win_share,
            "candidates": [c.as_dict() for c in self.candidates],
            "baseline": self.baseline.as_dict() if self.baseline else None,
            "skipped": self.skipped,
            "why": self.why,
        }


def against_baseline(bt: dict[str, Any]) -> tuple[str, str] | None:
    """The chosen setting against the naive baseline, in words, as (``Warning`` or ``Note``, text):
    a warning when the baseline ranks the window's confirmations better by the rule a setting must
    pass to be chosen (model.tuning: its share of paired bootstrap resamples, on enough
    confirmations), a note when it is ahead by less, None when it is behind. Summaries written
    before the resamples were counted warn, as they did."""
    verdict = bt.get("against_baseline") or ("loses" if bt.get("beats_baseline") is False else None)
    if verdict not in ("loses", "unsure"):
        return None
    chosen: dict[str, Any] = next((c for c in bt.get("candidates", []) if c.get("name") == bt.get("chosen")), {})
    ap = chosen.get("metrics", {}).get("average_precision")
    base = (bt.get("baseline") or {}).get("metrics", {}).get("average_precision")
    n = chosen.get("metrics", {}).get("positives")
    share = bt.get("baseline_win_share")
    lead = ("the naive baseline (a handful of counts, labelled rows only) ranks the window's confirmations better "
            f"than the chosen setting (average precision {_three(base)} against {_three(ap)}"
            + (f"; ahead in {share:.0%} of paired bootstrap resamples of the {n:.0f} confirmations"
               if share is not None and n is not None else "") + ")")
    if verdict == "loses":
        return "Warning", (lead + ". On this data the engineered features or the training lose a signal the counts "
                           "carry: treat the lists with care and look for the cause.")
    return "Note", (lead + ", but not often enough in the resamples or on too few confirmations to count by the "
                    "rule a setting must pass to be chosen (model.tuning): not evidence either way. The window "
                    "holds the misuse confirmed fastest; see whether it lasts over runs.")


def _three(v: Any) -> str:
    return f"{v:.3f}" if isinstance(v, (int, float)) and v == v else "-"


def evaluate_candidate(
    ctx: JobContext,
    name: str,
    cfg: ModelConfig,
    training_snapshots: Mapping[dt.date, DataFrame],
    at_start: DataFrame,
    labels: DataFrame,
    start: dt.date,
    cols: list[str],
    far_out: FarOut | None = None,
) -> CandidateResult:
    """Train `cfg` on what was known at `start`, score as of `start`, measure on the cards since."""
    t0 = time.perf_counter()
    try:
        training = build_training_set(training_snapshots, labels, start, cfg, far_out).select(
            *cols, "label", "is_validation", "entity_type", "entity_id"
        )
    except InsufficientLabelsError as exc:
        return CandidateResult(name, settings(cfg), {}, error=str(exc), seconds=time.perf_counter() - t0)
    try:
        model = fit_model(training, cols, model_views(cfg, cols), cfg, resolve_num_workers(cfg, ctx.spark),
                          validate=False)
    except ValueError as exc:  # e.g. no positive row: this setting cannot train here, the others can
        return CandidateResult(name, settings(cfg), {}, error=str(exc), seconds=time.perf_counter() - t0)
    return measure(ctx, name, settings(cfg), model, cols, at_start, labels, start, t0)


def evaluate_model(
    ctx: JobContext, name: str, model: Model, cols: list[str], at_start: DataFrame, labels: DataFrame,
    start: dt.date,
) -> CandidateResult:
    """A model trained elsewhere (the champion) scored as of `start` and measured on the same
    window as the candidates, so that the two compare card for card."""
    return measure(ctx, name, {}, model, cols, at_start, labels, start, time.perf_counter())


def measure(
    ctx: JobContext,
    name: str,
    setting: dict[str, Any],
    model: Model,
    cols: list[str],
    at_start: DataFrame,
    labels: DataFrame,
    start: dt.date,
    t0: float,
) -> CandidateResult:
    """Score `at_start` with `model` and measure on the cards first confirmed after `start`."""
    tiers = ctx.cfg.policy.tiers
    scored = predict(model, null_columns(at_start, cols).select("entity_type", "entity_id", "id_hash", "closed", *cols))
    population = backtest_frame(scored, labels, start, ctx.run_date, ctx.cfg.model.person_labels_apply_to_cards)
    frame = population.cache()
    try:
        metrics = evaluate(frame)
        points = pr_curve(frame)
        ranks = ranked(frame)
    finally:
        frame.unpersist()
    shares = listing_shares(points, tiers.high_precision, tiers.medium_precision) if points else None
    lists: dict[str, float] = {}
    medium_share = shares.medium_share if shares else None
    if shares and medium_share:
        # The list at the MEDIUM share: measured (a lower bound) and estimated precision, recall.
        cut = min(points, key=lambda p: abs(p.predicted_positives - medium_share * shares.total))
        lists = {
            "listed": float(cut.predicted_positives),
            "precision_measured": cut.precision,
            "precision_estimated": estimated_precision(cut, shares.label_frequency),
            "recall": cut.recall,
        }
    at_fixed = at_threshold(points, tiers.medium)
    if at_fixed:
        lists["recall_at_fixed_medium"] = at_fixed.recall
    seconds = round(time.perf_counter() - t0, 1)
    log.info("backtest %s: %s in %.1f s", name, {k: round(v, 4) for k, v in metrics.items()}, seconds)
    return CandidateResult(name, setting, metrics, shares, lists, seconds, frame=population, ranked=ranks,
                           points=points)


def candidates(cfg: ModelConfig) -> list[tuple[str, ModelConfig]]:
    """The configured model first (``configured``), then each tuning candidate."""
    out = [("configured", cfg)]
    if cfg.tuning.enabled:
        out += [(c.name, with_candidate(cfg, c)) for c in cfg.tuning.candidates]
    return out


def run_backtest(
    ctx: JobContext, snapshots: Mapping[dt.date, DataFrame], labels: DataFrame | None,
    far_out: FarOut | None = None,
) -> BacktestResult:
    """Every candidate, within the time budget, and the naive baseline; the choice (``choose``).

    `far_out` judges the drawn negatives (each snapshot's tails fitted once, for every candidate);
    the training run passes its own, so the final fit reuses the tails of the snapshots they share."""
    mcfg = ctx.cfg.model
    start = ctx.run_date - dt.timedelta(days=mcfg.backtest.horizon_days)
    if labels is None:
        raise ValueError("the backtest needs the labels table (confirmed outcomes); none was delivered")
    at_start = snapshots[start]
    # As in training: the snapshots before the start, closed by the start's own.
    before = {d: f for d, f in snapshots.items() if d <= start}
    cols = feature_columns(at_start)
    budget = mcfg.tuning.time_budget_minutes * 60
    far_out = far_out or FarOut(ctx.cfg.policy.anomaly)
    jobs: list[tuple[str, Callable[[], CandidateResult]]] = [
        (name, functools.partial(evaluate_candidate, ctx, name, cfg, before, at_start, labels, start, cols, far_out))
        for name, cfg in candidates(mcfg)
    ]
    base_cols = [c for c in mcfg.backtest.baseline_features if c in cols]
    if base_cols:
        naive = dataclasses.replace(mcfg, negatives_per_positive=0.0, views=None, monotone_increasing=())
        # Second, right after the configured setting: the baseline is never left out for time.
        jobs.insert(1, (BASELINE, functools.partial(
            evaluate_candidate, ctx, BASELINE, naive, before, at_start, labels, start, base_cols)))
    done, skipped = run_within_budget(jobs, budget, always=1 + bool(base_cols))
    baseline = next((r for r in done if r.name == BASELINE), None)
    results = [r for r in done if r.name != BASELINE]
    measured = [
        r for r in results
        if not r.error and r.metrics.get("positives", 0) >= mcfg.backtest.min_positives
    ]
    results, chosen, why = choose(measured, results, mcfg)
    if skipped:
        log.warning("backtest: time budget of %.0f min spent; not tried: %s", budget / 60, ", ".join(skipped))
    # Kept for want of evidence (nothing measured, or too few confirmations to choose by): a warning.
    for_want = chosen is None or chosen.metrics.get("positives", 0) < mcfg.tuning.min_confirmations
    share, sure = baseline_ahead(chosen, baseline, mcfg)
    result = BacktestResult(start, ctx.run_date, METRIC, results, baseline, chosen, skipped, why, share, sure)
    log.log(logging.WARNING if for_want else logging.INFO, "backtest (%s, %s]: %s", start, ctx.run_date, why)
    if chosen is not None and baseline is not None and result.beats_baseline is False:
        log.log(logging.WARNING if result.baseline_sure else logging.INFO,
                "backtest: the naive baseline ranks the window's confirmations above the chosen setting %s "
                "(%s %.4f > %.4f) in %s of paired resamples of %d confirmations: %s",
                chosen.name, METRIC, baseline.score(METRIC), chosen.score(METRIC),
                "-" if share is None else f"{share:.0%}", int(chosen.metrics.get("positives", 0)),
                "a warning (the report)" if result.baseline_sure else "not often enough to count, on these "
                "confirmations (model.tuning: the rule a setting must pass to be chosen)")
    return result


def baseline_ahead(
    chosen: CandidateResult | None, baseline: CandidateResult | None, cfg: ModelConfig
) -> tuple[float | None, bool]:
    """The share of paired bootstrap resamples of the window's confirmations in which the naive
    baseline has the higher average precision, and whether that counts: by the rule a setting must
    pass to replace the configured one (``tuning.min_win_share`` of the resamples, at least
    ``tuning.min_confirmations`` confirmations). (None, False) when either was not measured."""
    if chosen is None or baseline is None or chosen.ranked is None or baseline.ranked is None:
        return None, False
    share = win_share(baseline.ranked, chosen.ranked, seed=cfg.seed)
    enough = chosen.metrics.get("positives", 0) >= cfg.tuning.min_confirmations
    return share, enough and share >= cfg.tuning.min_win_share


def run_within_budget(
    jobs: list[tuple[str, Callable[[], CandidateResult]]],
    budget_seconds: float,
    always: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[list[CandidateResult], list[str]]:
    """Run `jobs` in order: the first `always` whatever the time, each later one only when the
    budget left holds the mean time of those run so far, so the budget bounds the backtest
    instead of only its last start. Returns the results and the names left untried."""
    began = clock()
    done: list[CandidateResult] = []
    skipped: list[str] = []
    for i, (name, job) in enumerate(jobs):
        elapsed = clock() - began
        if i >= always and done and elapsed + elapsed / len(done) > budget_seconds:
            skipped.append(name)
            continue
        done.append(job())
    return done, skipped


def choose(
    measured: list[CandidateResult], results: list[CandidateResult], cfg: ModelConfig
) -> tuple[list[CandidateResult], CandidateResult | None, str]:
    """The configured setting unless another beats it in at least ``tuning.min_win_share`` of
    paired bootstrap resamples of the window's confirmations; then the best such by average
    precision. A handful of confirmations rarely settles anything: the default then stays, and
    below ``tuning.min_confirmations`` it stays whatever the resamples say (five cards, all of the
    typology confirmed fastest, are resampled into a 100% win share as easily as into any other).
    Also returns why, in words, for the report."""
    if not measured:
        failed = [r.name for r in results if r.error]
        return results, None, (
            "nothing measured: " + (f"every setting failed ({', '.join(failed)}; the report's notes say how)"
                                    if failed and len(failed) == len(results) else
                                    f"fewer than {cfg.backtest.min_positives} cards (model.backtest.min_positives) "
                                    "confirmed in the window")
            + "; the configured setting trains and the tiers stay at their fixed thresholds")
    incumbent = next((r for r in measured if r.name == "configured"), None)
    if incumbent is None or incumbent.ranked is None:
        best = max(measured, key=lambda r: r.score("average_precision"))
        return results, best, f"{best.name}: the best measured setting (the configured one could not be measured)"
    confirmed = int(incumbent.metrics.get("positives", 0))
    if confirmed < cfg.tuning.min_confirmations:
        return results, incumbent, (
            f"configured: {confirmed} cards confirmed in the window, fewer than "
            f"model.tuning.min_confirmations ({cfg.tuning.min_confirmations}), too few to choose another "
            "setting by; the other settings are measured and reported, not chosen")
    shares = {
        r.name: win_share(r.ranked, incumbent.ranked, seed=cfg.seed)
        for r in measured if r is not incumbent and r.ranked is not None
    }
    results = [dataclasses.replace(r, win_share=shares.get(r.name)) for r in results]
    eligible = [r for r in results if shares.get(r.name, 0.0) >= cfg.tuning.min_win_share]
    need = f"model.tuning.min_win_share {cfg.tuning.min_win_share:.0%}"
    if not eligible:
        closest = max(shares.items(), key=lambda kv: kv[1], default=None)
        return results, incumbent, (
            f"configured: no other setting beat it often enough ({need}"
            + (f"; the closest, {closest[0]}, in {closest[1]:.0%} of resamples)" if closest else ")"))
    chosen = max(eligible, key=lambda r: r.score("average_precision"))
    return results, next(r for r in results if r.name == chosen.name), (
        f"{chosen.name}: its average precision beat the configured setting's in {shares[chosen.name]:.0%} of "
        f"paired bootstrap resamples of the {confirmed} confirmations ({need})")


def chosen_config(cfg: ModelConfig, result: BacktestResult | None) -> ModelConfig:
    """The model config training uses: the backtest's choice, else the configured one."""
    if result is None or result.chosen is None or result.chosen.name == "configured":
        return cfg
    by_name = {c.name: c for c in cfg.tuning.candidates}
    return with_candidate(cfg, by_name[result.chosen.name])


def share_thresholds(scores: DataFrame, shares: ListingShares | None) -> dict[str, float] | None:
    """Score thresholds that list the backtest's shares of today's open cards, or None."""
    if shares is None or shares.high_share is None or shares.medium_share is None:
        return None
    open_scores = scores.where(~F.coalesce(F.col("closed"), F.lit(False)))
    high_q, medium_q = open_scores.approxQuantile(
        "score", [1.0 - shares.high_share, 1.0 - shares.medium_share], 1e-4
    )
    return {"high": float(high_q), "medium": float(min(medium_q, high_q))}


def log_backtest(result: BacktestResult) -> dict[str, float]:
    """Every candidate's backtest metrics as ``backtest.<candidate>.<metric>``; the chosen one's
    as ``backtest_<metric>``. Returns the chosen one's."""
    values: dict[str, float] = {}
    for r in [*result.candidates, *([result.baseline] if result.baseline else [])]:
        for k, v in {**r.metrics, **r.lists}.items():
            if v is not None and v == v:
                values[f"backtest.{r.name}.{k}"] = float(v)
    chosen = result.chosen.metrics if result.chosen else {}
    values.update({f"backtest_{k}": float(v) for k, v in chosen.items() if v == v})
    mlflow.log_metrics(values)
    mlflow.log_dict(result.summary(), "backtest.json")
    mlflow.log_params({"backtest.start": result.start.isoformat(), "backtest.chosen": str(result.chosen.name
                       if result.chosen else None)})
    return {k: float(v) for k, v in chosen.items() if v == v}


def run_backtest_step(ctx: JobContext, labels: DataFrame | None, tables: Tables) -> BacktestResult:
    """`realname-guard backtest`: the snapshots and every candidate's backtest, in an MLflow run of
    its own; no model is registered."""
    if labels is None:
        raise ValueError("the backtest needs the labels table (confirmed outcomes); none was delivered")
    with ctx.stage("snapshots"):
        snapshots = build_snapshots(ctx, tables, snapshot_dates(ctx.run_date, ctx.cfg.model))
    experiment_id = start_tracking(ctx)
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"backtest-{ctx.run_date_str}"):
        mlflow.log_params({"run_date": ctx.run_date_str, "backtest.horizon_days": ctx.cfg.model.backtest.horizon_days})
        with ctx.stage("backtest"):
            result = run_backtest(ctx, snapshots, labels)
            log_backtest(result)
    ctx.summary["backtest"] = result.summary()
    return result


def step(ctx: JobContext, state: RunState) -> None:
    """The `backtest` step (data scientists): every candidate's out-of-time backtest, nothing registered."""
    run_backtest_step(ctx, state.labels, state.tables)
