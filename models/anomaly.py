"""A score that needs no labels: how far out in the tails of today's cards a card lies (ECOD).

A supervised model finds what was confirmed before; a scheme nobody has reported yet (a SIM-box
farm of dozens of strangers' SIMs in a few boards) has no label to learn from. ECOD (Li et al.,
"ECOD: Unsupervised Outlier Detection Using Empirical Cumulative Distribution Functions", 2022)
scores a row by the sum over features of -log of its tail probability: for a feature where larger
means stranger, the share of cards of its kind at or above its value. It needs no fitting beyond
each feature's empirical distribution, which Spark estimates in one pass (``approxQuantile``), it
scores in Arrow batches, and the features with the smallest tail probabilities are the reasons
in words ("Most IDs whose SIMs shared one handset with this SIM: 40 (top 0.1% of SIMs)").

Chosen over a sampled isolation forest (isotree, pyod): no sample whose size bounds what is rare
enough to be seen, nothing to persist between runs, the same answer on every layout, and reasons
for free. Its weakness, an honest card extreme on one feature alone (a traveller's days abroad),
is why a card must be extreme on ``min_extreme_features`` of them before it may be listed; features
that are two columns of one fact (the IDs and the no-face-check IDs of one outlet day, which a
campus card drive fills at once) are one signal there (``same_signal``), counted once.

The distributions are today's cards of each kind (SIM, account): the score describes the day, and
needs no model in the registry.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from realname_guard.core.config import AnomalyConfig

log = logging.getLogger(__name__)

# Tail probabilities are read off these quantiles: dense in the far right tail, where listing happens.
PROBS: tuple[float, ...] = tuple(
    sorted({round(p, 6) for p in [*np.linspace(0.0, 0.9, 91), *np.linspace(0.9, 0.99, 91), *np.linspace(
        0.99, 0.999, 46), *np.linspace(0.999, 0.99999, 34), 1.0]})
)
RELATIVE_ERROR = 1e-5
OUTPUTS = ("anomaly_score", "anomaly_extremes", "anomaly_features", "anomaly_tails")


@dataclass(frozen=True)
class Tails:
    """Per kind (entity_type) and feature: the quantiles of today's values at ``PROBS`` (None when
    no card of the kind has the feature), and the kind's card count."""

    features: tuple[str, ...]
    quantiles: dict[str, dict[str, list[float] | None]]
    counts: dict[str, int]
    # Per feature, the signal it measures (features of one ``same_signal`` group share one); empty:
    # every feature its own.
    signals: tuple[int, ...] = ()


def signal_index(features: Sequence[str], same_signal: Sequence[Sequence[str]]) -> tuple[int, ...]:
    """Per feature, its signal: the first ``same_signal`` group naming it, else a signal of its own."""
    group = {f: i for i, names in reversed(list(enumerate(same_signal))) for f in names}
    own = iter(range(len(same_signal), len(same_signal) + len(features)))
    return tuple(group[f] if f in group else next(own) for f in features)


def fit_tails(df: DataFrame, features: Sequence[str], same_signal: Sequence[Sequence[str]] = ()) -> Tails:
    """One ``approxQuantile`` pass per kind over the features present (small: kinds x features x PROBS)."""
    present = tuple(f for f in features if f in df.columns)
    kinds = [r["entity_type"] for r in df.select("entity_type").distinct().collect()]  # small: one row per card kind (SIM, ACCOUNT, a declared few)
    quantiles: dict[str, dict[str, list[float] | None]] = {}
    counts: dict[str, int] = {}
    for kind in sorted(kinds):
        part = df.where(F.col("entity_type") == kind).select(*[F.col(f).cast("double").alias(f) for f in present])
        counts[kind] = part.count()
        qs = part.approxQuantile(list(present), list(PROBS), RELATIVE_ERROR) if present else []
        quantiles[kind] = {f: (q if q else None) for f, q in zip(present, qs, strict=True)}
    return Tails(present, quantiles, counts, signal_index(present, same_signal))


def tail_probability(values: np.ndarray, quantiles: Sequence[float] | None, n: int) -> np.ndarray:
    """P(X >= x) among the kind's cards, from its quantiles; 1 for a missing value or feature.

    ``P(X < x)`` is the largest quantile level whose value lies below x, so a value shared by many
    cards (zero days abroad) has the tail of all of them; the far tail is floored at 1/n.
    """
    out = np.ones(len(values))
    if not quantiles or n <= 0:
        return out
    q = np.asarray(quantiles, dtype=float)
    p = np.asarray(PROBS, dtype=float)
    ok = ~np.isnan(values)
    below = np.searchsorted(q, values[ok], side="left")  # quantile points strictly below x
    cdf = np.where(below > 0, p[np.maximum(below - 1, 0)], 0.0)
    out[ok] = np.maximum(1.0 - cdf, 1.0 / n)
    return out


def score_frame(pdf: pd.DataFrame, tails: Tails, extreme_tail: float, top_k: int = 3) -> pd.DataFrame:
    """ECOD for one batch: per card the sum of -log tail probabilities (``anomaly_score``), how many
    signals have a feature beyond `extreme_tail` (``anomaly_extremes``), and the `top_k` farthest-out
    features beyond it with their tails, farthest first (``anomaly_features``, ``anomaly_tails``)."""
    n, width = len(pdf), len(tails.features)
    t = np.ones((n, width))
    kinds = pdf["entity_type"].to_numpy()
    for kind in np.unique(kinds):
        rows = kinds == kind
        by_feature = tails.quantiles.get(kind, {})
        count = tails.counts.get(kind, 0)
        for j, f in enumerate(tails.features):
            t[rows, j] = tail_probability(pdf.loc[rows, f].to_numpy(dtype=float), by_feature.get(f), count)
    order = np.argsort(t, axis=1, kind="stable")[:, :top_k]
    names = np.asarray(tails.features, dtype=object)
    picked = np.take_along_axis(t, order, axis=1)
    far = picked <= extreme_tail
    return pd.DataFrame({
        "anomaly_score": -np.log(t).sum(axis=1),
        "anomaly_extremes": _signals_beyond(t <= extreme_tail, tails.signals or tuple(range(width))),
        "anomaly_features": [list(names[o][k]) for o, k in zip(order, far, strict=True)],
        "anomaly_tails": [list(p[k]) for p, k in zip(picked, far, strict=True)],
    })


def _signals_beyond(beyond: np.ndarray, signals: Sequence[int]) -> np.ndarray:
    """Per row, how many distinct signals have at least one feature beyond the tail."""
    ids = np.asarray(signals)
    out = np.zeros(len(beyond), dtype=np.int64)
    for s in np.unique(ids):
        out += beyond[:, ids == s].any(axis=1)
    return out


def add_anomaly(df: DataFrame, tails: Tails, extreme_tail: float) -> DataFrame:
    """`df` plus the columns of :func:`score_frame`, in one Arrow pass (no join back)."""
    struct = "anomaly_score double, anomaly_extremes long, anomaly_features array<string>, anomaly_tails array<double>"

    @F.pandas_udf(struct)  # type: ignore[call-overload]  # the stubs lack iterator UDFs
    def ecod(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            yield score_frame(pdf, tails, extreme_tail)

    inputs = F.struct(F.col("entity_type"), *[F.col(f).cast("double").alias(f) for f in tails.features])
    return df.withColumn("_anomaly", ecod(inputs)).select(
        *[c for c in df.columns if c not in OUTPUTS], *[F.col(f"_anomaly.{c}").alias(c) for c in OUTPUTS])


@dataclass
class FarOut:
    """Which unlabelled cards are no reliable negatives: those eligible for an ANOMALY listing.

    PU learning draws unlabelled cards as negatives; the misuse nobody confirmed is among them, and a
    tight cluster of it (a SIM-box farm's strangers' SIMs, a pass-through mule's counterparties)
    drawn as honest teaches the trees its very pattern as honest, through whichever inputs set it
    apart (a monotone constraint on one input does not stop the others). A card beyond
    ``cfg.extreme_tail`` on at least ``cfg.min_extreme_features`` signals (the rule that makes a
    card eligible for an ANOMALY listing; no constant of its own) is not drawn. The tails are those
    of the snapshot the negatives come from, fitted once per snapshot date: one FarOut serves one
    set of snapshots (a training run's, or its backtest's). With ``cfg.enabled`` false (no anomaly
    listing) nothing is left out.
    """

    cfg: AnomalyConfig
    _tails: dict[dt.date, Tails] = field(default_factory=dict, init=False, repr=False, compare=False)

    def keep(self, day: dt.date, snapshot: DataFrame, drawn: DataFrame) -> DataFrame:
        """`drawn` (cards of `snapshot`, its columns) without the cards far out in `snapshot`'s tails."""
        present = [f for f in self.cfg.features if f in drawn.columns]
        signals = set(signal_index(present, self.cfg.same_signal))
        if not self.cfg.enabled or len(signals) < self.cfg.min_extreme_features:
            return drawn  # no card could be far out on enough signals: no pass over the snapshot
        if day not in self._tails:
            self._tails[day] = fit_tails(snapshot, present, self.cfg.same_signal)
            log.info("negatives far out on %d+ signals are not drawn (tails of the %s snapshot, %d inputs)",
                     self.cfg.min_extreme_features, day.isoformat(), len(present))
        scored = add_anomaly(drawn, self._tails[day], self.cfg.extreme_tail)
        return scored.where(F.col("anomaly_extremes") < self.cfg.min_extreme_features).select(*drawn.columns)
