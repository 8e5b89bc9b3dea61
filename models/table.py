"""Cross-validated training on a labelled table: stratified folds, out-of-fold scores, a threshold.

The same ``xgboost.spark`` classifier the job trains on the contract's cards (models/train.py),
here on a table of one row per number or account: each fold's model is fitted on the other folds
and scores its own, so every row gets a score from a model that did not see it, and the
threshold, the candidate's choice and the reported figures all come from those scores.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from realname_guard.core.config import ModelConfig
from realname_guard.core.datasets import TableCandidate, TableTraining
from realname_guard.models.evaluate import CurvePoint, evaluate, pr_curve
from realname_guard.models.train import LABEL_COL, VALIDATION_COL, fit, predict

FOLD_COL = "fold"
KEY_COL = "key"


@dataclass(frozen=True)
class Setting:
    """A candidate resolved against the declaration's training values."""

    name: str
    max_depth: int
    n_estimators: int
    learning_rate: float
    min_child_weight: float
    class_weight: str
    derived: bool


def settings(training: TableTraining) -> list[Setting]:
    """The declaration's own setting (``declared``) first, then each candidate over it."""
    base = Setting("declared", training.max_depth, training.n_estimators, training.learning_rate,
                   training.min_child_weight, training.class_weight, training.derived)
    out = [base]
    for cand in training.candidates:
        out.append(_over(base, cand))
    return out


def _over(base: Setting, cand: TableCandidate) -> Setting:
    changes = {k: v for k, v in dataclasses.asdict(cand).items() if v is not None and k != "name"}
    return dataclasses.replace(base, name=cand.name, **changes)


def model_config(setting: Setting, seed: int, base: ModelConfig | None = None) -> ModelConfig:
    """The ModelConfig models.train.fit takes, for one setting over `base` (the run's model
    section: subsample, column sampling, regularisation, workers); every row trains, no early stop."""
    base = base if base is not None else ModelConfig()
    xgb = dataclasses.replace(
        base.xgb,
        max_depth=setting.max_depth,
        n_estimators=setting.n_estimators,
        learning_rate=setting.learning_rate,
        min_child_weight=setting.min_child_weight,
        early_stopping_rounds=None,
    )
    return dataclasses.replace(base, xgb=xgb, seed=seed, class_weight=setting.class_weight)  # type: ignore[arg-type]


FOLD_BUCKETS = 64  # rows of one class are numbered within this many hash buckets, in parallel


def assign_folds(df: DataFrame, k: int, seed: int) -> DataFrame:
    """`df` plus ``fold`` (0..k-1): within each label, rows ordered by a seeded hash of the key
    and dealt round-robin, so every fold holds the same share of each class (within one row) and
    the same key always lands in the same fold for the same seed.

    The numbering runs per (label, hash bucket), so no task sorts a whole class; each bucket's
    count (at most 2 x FOLD_BUCKETS rows reach the driver) offsets its numbers so that the deal
    continues across buckets exactly as one numbering would."""
    h = F.xxhash64(F.lit(seed), F.col(KEY_COL))
    bucketed = df.withColumn("_rg_bucket", F.pmod(h, F.lit(FOLD_BUCKETS)).cast("int")).withColumn("_rg_h", h)
    sizes = bucketed.groupBy(LABEL_COL, "_rg_bucket").count().collect()  # small: ≤ 2 x FOLD_BUCKETS rows
    offsets: list[tuple[float | None, int, int]] = []
    running: dict[float | None, int] = {}
    for r in sorted(sizes, key=lambda r: (str(r[LABEL_COL]), r["_rg_bucket"])):
        label = float(r[LABEL_COL]) if r[LABEL_COL] is not None else None
        offsets.append((label, int(r["_rg_bucket"]), running.get(label, 0)))
        running[label] = running.get(label, 0) + int(r["count"])
    spark = df.sparkSession
    offset_df = spark.createDataFrame(
        offsets,
        f"{LABEL_COL} double, _rg_bucket int, _rg_offset long",
    )
    order = Window.partitionBy(LABEL_COL, "_rg_bucket").orderBy("_rg_h", KEY_COL)
    numbered = bucketed.withColumn("_rg_n", F.row_number().over(order) - 1)
    joined = numbered.join(F.broadcast(offset_df), [LABEL_COL, "_rg_bucket"], "left")
    fold = F.pmod(F.col("_rg_offset") + F.col("_rg_n"), F.lit(k)).cast("int")
    return joined.withColumn(FOLD_COL, fold).drop("_rg_bucket", "_rg_h", "_rg_n", "_rg_offset")


def fold_fit(folded: DataFrame, fold: int, feature_cols: Sequence[str], cfg: ModelConfig, num_workers: int) -> DataFrame:
    """Fit on every fold but `fold`; the held-out fold's ``key, label, fold, score``."""
    train = folded.where(F.col(FOLD_COL) != fold).withColumn(VALIDATION_COL, F.lit(False))
    model = fit(train, list(feature_cols), cfg, num_workers, validate=False)
    held = folded.where(F.col(FOLD_COL) == fold)
    return predict(model, held).select(KEY_COL, LABEL_COL, FOLD_COL, "score")


def cross_validate(
    folded: DataFrame, feature_cols: Sequence[str], cfg: ModelConfig, folds: int, num_workers: int
) -> tuple[DataFrame, list[dict[str, float]]]:
    """Out-of-fold scores of every row (cached; the caller unpersists) and each fold's metrics."""
    parts: list[DataFrame] = []
    metrics: list[dict[str, float]] = []
    for fold in range(folds):
        scored = fold_fit(folded, fold, feature_cols, cfg, num_workers).persist(StorageLevel.MEMORY_AND_DISK)
        m = evaluate(scored)
        points = pr_curve(scored)
        m["f1_best"] = max((f1(p) for p in points), default=0.0)
        metrics.append(m)
        parts.append(scored)
    oof = parts[0]
    for part in parts[1:]:
        oof = oof.unionByName(part)
    oof = oof.persist(StorageLevel.MEMORY_AND_DISK)
    oof.count()  # materialise before the fold caches go
    for part in parts:
        part.unpersist()
    return oof, metrics


def f1(point: CurvePoint) -> float:
    if point.precision + point.recall == 0:
        return 0.0
    return 2 * point.precision * point.recall / (point.precision + point.recall)


def choose_threshold(points: list[CurvePoint], rule: str, precision: float | None = None) -> CurvePoint | None:
    """The curve point whose threshold the model ships with.

    ``f1``: the highest F1 (the higher threshold on a tie). ``precision``: the lowest threshold
    whose precision reaches `precision`, i.e. the most recall at that precision; None if none does.
    """
    candidates = [p for p in points if p.true_positives > 0]
    if not candidates:
        return None
    if rule == "f1":
        return max(candidates, key=lambda p: (round(f1(p), 12), p.threshold))
    if precision is None:
        raise ValueError("choose_threshold: rule 'precision' needs a precision")
    reaching = [p for p in candidates if p.precision >= precision]
    return min(reaching, key=lambda p: p.threshold) if reaching else None


def summary(points: list[CurvePoint], metrics: dict[str, float], chosen: CurvePoint | None) -> dict[str, float]:
    """Out-of-fold figures: the areas, and F1 / precision / recall at the chosen threshold."""
    out = {k: v for k, v in metrics.items() if isinstance(v, float) and not math.isnan(v)}
    out["f1_best"] = max((f1(p) for p in points), default=0.0)
    if chosen is not None:
        out.update(threshold=chosen.threshold, f1=f1(chosen), precision=chosen.precision, recall=chosen.recall)
    return out


# -- choosing among settings: a paired bootstrap over the out-of-fold positives ------------------
WIN_BINS = 200  # score resolution of the bootstrap: at most (WIN_BINS + 1)^2 cells reach the driver


@dataclass(frozen=True)
class Paired:
    """Two settings' out-of-fold scores reduced to what a paired bootstrap of the positives needs:
    the count of positives per (bin under A, bin under B), and the negatives at or above each bin."""

    cells: np.ndarray  # (n, 3): bin under A, bin under B, positives
    negative_cells: np.ndarray  # (m, 3): bin under A, bin under B, negatives


def _bin(score: Column) -> Column:
    return F.least(F.greatest(F.floor(score * WIN_BINS), F.lit(0)), F.lit(WIN_BINS)).cast("int")


def paired(oof_a: DataFrame, oof_b: DataFrame) -> Paired:
    a = oof_a.select(KEY_COL, LABEL_COL, _bin(F.col("score")).alias("a"))
    b = oof_b.select(KEY_COL, _bin(F.col("score")).alias("b"))
    rows = a.join(b, KEY_COL).groupBy(LABEL_COL, "a", "b").count().collect()  # small: ≤ 2 x (WIN_BINS + 1)^2 cells

    def cells(label: float) -> np.ndarray:
        got = [(int(r["a"]), int(r["b"]), int(r["count"])) for r in rows if r[LABEL_COL] == label]
        return np.array(got, dtype=np.int64).reshape(-1, 3)

    return Paired(cells(1.0), cells(0.0))


def _binned_ap(per_bin: np.ndarray, negatives_per_bin: np.ndarray) -> np.ndarray:
    """Average precision per row of (samples x bins) arrays of positives and negatives per score
    bin; the cards of one bin count together, as in models.evaluate's binned curve."""
    tp_above = np.cumsum(per_bin[:, ::-1], axis=1)[:, ::-1]
    fp_above = np.cumsum(negatives_per_bin[:, ::-1], axis=1)[:, ::-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp_above > 0, tp_above / (tp_above + fp_above), 0.0)
    total = per_bin.sum(axis=1)
    return (per_bin * precision).sum(axis=1) / np.maximum(total, 1)


def _one_hot(cells: np.ndarray, column: int) -> np.ndarray:
    out = np.zeros((cells.shape[0], WIN_BINS + 1))
    out[np.arange(cells.shape[0]), cells[:, column]] = 1
    return out


def _draw(rng: np.random.Generator, cells: np.ndarray, n: int) -> np.ndarray:
    counts = cells[:, 2]
    total = int(counts.sum())
    if total == 0:
        return np.zeros((n, cells.shape[0]))
    return rng.multinomial(total, counts / total, size=n).astype(float)


def win_share(p: Paired, samples: int = 1000, seed: int = 0) -> float:
    """Share of paired bootstrap resamples of the rows (positives and negatives each resampled,
    the same rows under both settings) in which B's average precision is higher than A's: how sure
    cross-validation is that B ranks better, not only on average."""
    if p.cells.shape[0] == 0:
        return 0.0
    rng = np.random.default_rng(seed)
    pos_a, pos_b = _one_hot(p.cells, 0), _one_hot(p.cells, 1)
    neg_a, neg_b = _one_hot(p.negative_cells, 0), _one_hot(p.negative_cells, 1)
    wins = 0
    for start in range(0, samples, 100):
        n = min(100, samples - start)
        pos = _draw(rng, p.cells, n)  # (n, cells)
        neg = _draw(rng, p.negative_cells, n)
        ap_a = _binned_ap(pos @ pos_a, neg @ neg_a)
        ap_b = _binned_ap(pos @ pos_b, neg @ neg_b)
        wins += int((ap_b > ap_a).sum())
    return wins / samples
