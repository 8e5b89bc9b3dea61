"""The honest backtest: score as of an earlier date, measure on the cards confirmed since.

A model trained on what was known at ``start`` scores every card open at ``start`` that had no
label by then; the cards confirmed as misuse (label 1) in ``(start, end]`` are the positives,
every other one counts as negative. That is what a risk team wants of the job (new finds), and no
card it is measured on was trained on. Unlabelled misuse that nobody confirmed in the window
counts against the model, so measured precision is a lower bound; ``estimated_precision`` scales it
by the share of misuse confirmed in the window, estimated from the top of the ranking.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from realname_guard.core.config import GateConfig
from realname_guard.core.kinds import kind_names
from realname_guard.models.evaluate import BINS, CurvePoint

# The top of the ranking that estimates the share of misuse confirmed in the window: the
# highest-scored cards holding this many of the window's confirmations (at least one).
TOP_CONFIRMATIONS_SHARE = 0.25
TOP_CONFIRMATIONS_MAX = 10


def backtest_frame(
    scored: DataFrame, labels: DataFrame, start: dt.date, end: dt.date, person_labels_apply_to_cards: bool = True
) -> DataFrame:
    """The scored cards open at `start` with no label known by then, ``label`` 1 when a card label 1
    arrived in ``(start, end]`` (by the local day of ``label_time``), else 0.

    `scored` carries ``entity_type, entity_id, id_hash, closed, score``. A card whose holder had a
    PERSON label by `start` counts as labelled when person labels apply to cards.
    """
    day = F.to_date(F.col("label_time").cast("timestamp"))
    known = labels.where(F.col("label_time").isNotNull() & (day <= F.lit(start)))
    known_cards = known.where(F.col("entity_type").isin(*kind_names())).select("entity_type", "entity_id")
    population = scored.where(~F.coalesce(F.col("closed"), F.lit(False))).join(
        known_cards, ["entity_type", "entity_id"], "left_anti"
    )
    if person_labels_apply_to_cards:
        known_holders = known.where(F.col("entity_type") == "PERSON").select(F.col("entity_id").alias("id_hash"))
        population = population.join(known_holders, "id_hash", "left_anti")
    confirmed = (
        labels.where((F.col("label") == 1) & (day > F.lit(start)) & (day <= F.lit(end)))
        .where(F.col("entity_type").isin(*kind_names()))
        .select("entity_type", "entity_id", F.lit(1).alias("_confirmed"))
        .distinct()
    )
    return population.join(confirmed, ["entity_type", "entity_id"], "left").select(
        "entity_type", "entity_id", "score", F.coalesce(F.col("_confirmed"), F.lit(0)).alias("label")
    )


@dataclass(frozen=True)
class ListingShares:
    """What share of the cards to list so that the estimated precision reaches each target."""

    label_frequency: float  # estimated share of misuse confirmed in the window
    high_share: float | None  # None: no threshold reaches the target
    medium_share: float | None
    total: int  # cards in the backtest population


def label_frequency(points: list[CurvePoint]) -> float:
    """Measured precision at the top of the ranking: if the highest-scored cards are nearly all
    misuse, it is the share of misuse confirmed in the window (Elkan and Noto's estimator)."""
    if not points or points[-1].true_positives == 0:
        return 0.0
    total = points[-1].true_positives
    needed = max(1, min(TOP_CONFIRMATIONS_MAX, round(TOP_CONFIRMATIONS_SHARE * total)))
    top = next(p for p in points if p.true_positives >= needed)
    return top.precision


def estimated_precision(point: CurvePoint, frequency: float) -> float:
    return min(1.0, point.precision / frequency) if frequency > 0 else 0.0


def listing_shares(points: list[CurvePoint], high_precision: float, medium_precision: float) -> ListingShares:
    """The largest shares of the population whose estimated precision reaches the targets."""
    total = points[-1].predicted_positives if points else 0
    freq = label_frequency(points)

    def share(target: float) -> float | None:
        reaching = [p for p in points if p.true_positives > 0 and estimated_precision(p, freq) >= target]
        return max(p.predicted_positives for p in reaching) / total if reaching and total else None

    return ListingShares(freq, share(high_precision), share(medium_precision), total)


def at_threshold(points: list[CurvePoint], threshold: float) -> CurvePoint | None:
    """The curve point of ``score >= threshold`` (the lowest bin edge at or above it)."""
    above = [p for p in points if p.threshold >= threshold - 1e-12]
    return min(above, key=lambda p: p.threshold) if above else None


@dataclass(frozen=True)
class Ranked:
    """What average precision needs of a scored population, small enough for the driver: the
    score bin of every positive (keyed by card) and the negatives per score bin."""

    positives: dict[tuple[str, str], int]  # (entity_type, entity_id) -> score bin
    negatives_at_or_above: list[int]  # index: bin; negatives scoring in that bin or higher


def ranked(frame: DataFrame, bins: int = BINS) -> Ranked:
    """`frame` (``entity_type, entity_id, score, label``) reduced to a `Ranked`: one row per
    positive (the window's confirmations) and at most ``bins + 1`` histogram rows."""
    bucket = F.least(F.greatest(F.floor(F.col("score") * bins), F.lit(0)), F.lit(bins)).cast("int")
    pos = frame.where(F.col("label") == 1).select("entity_type", "entity_id", bucket.alias("b")).collect()  # small: the window's confirmations
    neg = frame.where(F.col("label") == 0).groupBy(bucket.alias("b")).count().collect()  # small: ≤ bins + 1
    per_bin = [0] * (bins + 2)
    for r in neg:
        per_bin[int(r["b"])] += int(r["count"])
    above = [0] * (bins + 2)
    for b in range(bins, -1, -1):
        above[b] = above[b + 1] + per_bin[b]
    return Ranked({(r["entity_type"], r["entity_id"]): int(r["b"]) for r in pos}, above)


def _ap_of(bins_of_positives: np.ndarray, negatives_above: np.ndarray) -> np.ndarray:
    """Average precision per row of a (samples x positives) array of score bins (ties count
    together, as in the binned curve)."""
    ordered = np.sort(bins_of_positives, axis=1)[:, ::-1]
    n = ordered.shape[1]
    # positives at or above each positive's bin, counting every tie in its bin
    tp = np.empty_like(ordered)
    for i in range(ordered.shape[0]):
        row = ordered[i]
        tp[i] = n - np.searchsorted(row[::-1], row, side="left")
    fp = negatives_above[ordered]
    return (tp / (tp + fp)).mean(axis=1)


def win_share(challenger: Ranked, incumbent: Ranked, samples: int = 1000, seed: int = 0) -> float:
    """Share of paired bootstrap resamples of the window's confirmations in which `challenger`
    has the higher average precision: how sure the backtest is that it ranks new finds better."""
    keys = sorted(set(challenger.positives) & set(incumbent.positives))
    if not keys:
        return 0.0
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(keys), size=(samples, len(keys)))
    a = np.array([challenger.positives[k] for k in keys])[pick]
    b = np.array([incumbent.positives[k] for k in keys])[pick]
    ap_a = _ap_of(a, np.array(challenger.negatives_at_or_above))
    ap_b = _ap_of(b, np.array(incumbent.negatives_at_or_above))
    return float((ap_a > ap_b).mean())


@dataclass(frozen=True)
class GateDecision:
    """Whether the challenger becomes the champion, and why, in words for the report."""

    promote: bool
    reason: str
    challenger_ap: float | None = None
    champion_ap: float | None = None
    champion_wins: float | None = None  # share of paired resamples where the champion ranks better
    listed_share: float | None = None


def gate_decision(
    challenger: tuple[float, Ranked] | None,
    champion: tuple[float, Ranked] | None,
    has_champion: bool,
    listed_share: float | None,
    cfg: GateConfig,
    seed: int = 0,
) -> GateDecision:
    """The champion/challenger gate (``model.gate``): `challenger` and `champion` are (average
    precision, ranked population) on the same backtest window, or None when not measured."""
    ap_c = challenger[0] if challenger else None
    ap_k = champion[0] if champion else None
    base = {"challenger_ap": ap_c, "champion_ap": ap_k, "listed_share": listed_share}
    if not cfg.enabled:
        return GateDecision(True, "the gate is off (model.gate.enabled: false)", **base)
    out_of_bounds = listed_share is not None and not cfg.min_listed_share <= listed_share <= cfg.max_listed_share
    share_text = (f"it would list {100 * listed_share:.2f}% of open cards at MEDIUM, outside "
                  f"[{100 * cfg.min_listed_share:.2f}%, {100 * cfg.max_listed_share:.2f}%] (model.gate)"
                  if listed_share is not None else "")
    if not has_champion:  # nothing else could score: the first model scores, the report warns
        return GateDecision(True, "no champion yet: the first model becomes the champion" + (
            f", although {share_text}; policy.tiers.max_listed_share caps the lists" if out_of_bounds else ""),
            **base)
    if out_of_bounds:
        return GateDecision(False, share_text, **base)
    if challenger is None:
        return GateDecision(False, "its backtest measured nothing (too few confirmations in the window): the "
                            "champion keeps scoring; `realname-guard promote` can override", **base)
    if champion is None:
        return GateDecision(True, "the champion could not be measured on this window", **base)
    wins = win_share(champion[1], challenger[1], seed=seed)
    base["champion_wins"] = wins
    if ap_c is not None and ap_k is not None and ap_c < ap_k - cfg.tolerance and wins >= cfg.confidence:
        return GateDecision(False, (
            f"its backtest average precision {ap_c:.4f} is below the champion's {ap_k:.4f} on the same window "
            f"(tolerance {cfg.tolerance}), the champion ranking better in {100 * wins:.0f}% of resamples"), **base)
    return GateDecision(True, (
        f"backtest average precision {ap_c:.4f} against the champion's {ap_k:.4f} on the same window"), **base)
